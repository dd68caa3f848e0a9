"""Issue 13: speed read from the signal, physics-first fusion, calibration, the shipped model."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from shopfloor.assessment.default_model import from_record, load_default_diagnoser, model_record
from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.assessment.fused_diagnoser import (
    FusedDiagnoser,
    expected_calibration_error,
    reliability_table,
)
from shopfloor.assessment.physics_diagnoser import PhysicsRuleDiagnoser
from shopfloor.assessment.recording_diagnosis import diagnose_signal
from shopfloor.core.errors import ChecksumError, InputError
from shopfloor.manipulation.bearing_features import bearing_features, feature_names
from shopfloor.manipulation.shaft_speed import estimate_shaft_speed
from shopfloor.testing.contract_data import physics_feature_rows
from shopfloor.testing.signals import bearing_signal, cwru_drive_end_bearing

FS = 12_000.0
TRUE_RPM = 1797.0

pytest.importorskip("lightgbm", reason="the fused diagnoser needs lightgbm")


def outer_race_signal(seconds: float = 6.0, seed: int = 3) -> np.ndarray:
    x, _ = bearing_signal(
        "outer",
        geometry=cwru_drive_end_bearing(),
        shaft_hz=TRUE_RPM / 60,
        fs_hz=FS,
        duration_s=seconds,
        seed=seed,
    )
    return x


# --- speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [-0.08, -0.05, 0.01, 0.05, 0.08])
def test_speed_is_read_from_the_signal_within_the_band(error: float) -> None:
    est = estimate_shaft_speed(outer_race_signal(), FS, TRUE_RPM * (1 + error))
    assert est.clear
    assert est.source == "signal"
    assert est.rpm == pytest.approx(TRUE_RPM, rel=0.003)
    assert est.given_rpm == pytest.approx(TRUE_RPM * (1 + error))
    warning = est.warning()
    assert (warning is not None) == (abs(error) > 0.02)


def test_noise_gives_no_clear_speed_and_the_given_one_is_kept() -> None:
    noise = np.random.default_rng(0).normal(size=int(6 * FS))
    est = estimate_shaft_speed(noise, FS, 1750.0)
    assert not est.clear
    assert est.rpm == 1750.0
    assert "could not be read" in (est.warning() or "")


def test_bad_speed_is_refused() -> None:
    with pytest.raises(InputError, match="positive"):
        estimate_shaft_speed(np.ones(1000), FS, 0.0)


@pytest.mark.parametrize("error", [-0.08, -0.05, 0.0, 0.05, 0.08])
def test_a_wrong_speed_still_gives_the_right_verdict(error: float) -> None:
    result = diagnose_signal(
        outer_race_signal(), FS, TRUE_RPM * (1 + error), cwru_drive_end_bearing()
    )
    assert result.diagnosis.label == FaultClass.OUTER_RACE
    assert result.speed is not None
    assert result.speed.source == "signal"
    assert result.shaft_hz * 60 == pytest.approx(TRUE_RPM, rel=0.003)
    summary = result.as_dict()
    assert summary["speed_source"] == "signal"
    assert summary["evidence"][0]["signature"] == "bpfo"
    assert (len(result.warnings) > 0) == (abs(error) > 0.02)


def test_speed_estimate_can_be_turned_off() -> None:
    result = diagnose_signal(
        outer_race_signal(), FS, TRUE_RPM, cwru_drive_end_bearing(), speed_band=0.0
    )
    assert result.speed is None
    assert result.as_dict()["speed_source"] == "given"


# --- healthy by default ----------------------------------------------------------------------


def test_healthy_signal_is_normal_with_no_fault_notes() -> None:
    x, _ = bearing_signal(
        "outer", shaft_hz=TRUE_RPM / 60, fs_hz=FS, duration_s=6.0, impulse_amplitude=0.0, seed=1
    )
    result = diagnose_signal(x, FS, TRUE_RPM, cwru_drive_end_bearing())
    assert result.diagnosis.label == FaultClass.NORMAL
    assert result.decided_by == "physics-rules"


def test_a_fault_in_a_minority_of_windows_is_only_noted() -> None:
    g = cwru_drive_end_bearing()
    healthy, _ = bearing_signal(
        "outer", geometry=g, shaft_hz=TRUE_RPM / 60, fs_hz=FS, duration_s=5.0,
        impulse_amplitude=0.0, seed=2,
    )  # fmt: skip
    faulty = outer_race_signal(seconds=2.0)
    result = diagnose_signal(np.concatenate([healthy, faulty]), FS, TRUE_RPM, g)
    assert result.window_labels.count("outer_race") == 2
    assert result.diagnosis.label == FaultClass.NORMAL
    assert any("not consistent enough" in n for n in result.notes)


# --- fusion ------------------------------------------------------------------------------------


def test_strong_physics_wins_over_a_model_that_disagrees() -> None:
    x, y = physics_feature_rows(seed=0)
    cols = feature_names()
    # a model taught the wrong names for the two race faults
    swapped = np.where(
        y == "outer_race", "inner_race", np.where(y == "inner_race", "outer_race", y)
    )
    model = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, swapped)
    outer = x[y == "outer_race"]
    assert set(model.model_proba(outer).argmax(axis=1)) == {
        list(model.classes_).index("inner_race")
    }
    assert set(model.sides(outer)) == {"physics"}
    assert (model.predict(outer) == "outer_race").all()
    (d, *_) = model.diagnose(outer)
    assert "physics won" in d.reason
    assert 0.5 <= d.confidence < 1.0
    assert len(cols) == x.shape[1]


def test_a_model_fault_without_any_line_of_its_own_is_healthy_by_default() -> None:
    x, y = physics_feature_rows(seed=1)
    # taught that healthy windows are outer-race faults: it will say so on healthy windows
    wrong = np.where(y == "normal", "outer_race", np.where(y == "outer_race", "normal", y))
    model = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, wrong)
    healthy = x[y == "normal"]
    sides = model.sides(healthy)
    # a chance line can support the model on a single window (hence the window majority rule
    # of a recording verdict), but most healthy windows fall back to normal
    assert sides.count("healthy-default") > len(sides) / 2
    assert set(sides) <= {"healthy-default", "model"}
    assert np.mean(model.predict(healthy) == "normal") > 0.5


def test_calibration_uses_groups_and_never_sharpens() -> None:
    x, y = physics_feature_rows(seed=2, per_class=8)
    groups = np.tile(np.repeat(["a", "b"], 4), 3)
    model = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, y, groups=groups)
    assert model.temperature_ >= 1.0
    assert model.oof_accuracy_ is not None
    plain = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, y)
    assert plain.temperature_ == 1.0
    assert plain.oof_accuracy_ is None


def test_reliability_table_and_ece() -> None:
    conf = [0.95, 0.95, 0.95, 0.95, 0.55, 0.55]
    ok = [1, 1, 1, 0, 1, 0]
    rows = reliability_table(conf, ok)
    assert [r["n"] for r in rows] == [2, 4]
    assert rows[1]["accuracy"] == pytest.approx(0.75)
    assert expected_calibration_error(conf, ok) == pytest.approx((2 * 0.05 + 4 * 0.2) / 6)


# --- the shipped model -----------------------------------------------------------------------


def test_shipped_model_is_small_verified_and_documented() -> None:
    record = model_record()
    folder = resources.files("shopfloor.assessment").joinpath("models")
    text = folder.joinpath(record["booster_file"]).read_text(encoding="utf-8")
    assert len(text.encode()) < 2 * 1024 * 1024 // 2  # well under 2 MiB
    assert hashlib.sha256(text.encode()).hexdigest() == record["booster_sha256"]
    card = folder.joinpath(f"{record['name']}.md").read_text(encoding="utf-8")
    assert record["booster_sha256"] in card
    assert "python -m shopfloor.pipelines.default_model" in card
    model = load_default_diagnoser()
    assert sorted(model.classes_) == ["inner_race", "normal", "outer_race", "rolling_element"]
    assert model.feature_names_in_ == feature_names()
    # the faults a sure model may call without a line are the ones validated out of group,
    # loaded from the record and stated on the card
    assert model.sure_ == record["sure"]
    for fault in model.sure_:
        check = record["sure_check"][fault]
        assert check["right"] > check["wrong"]
    assert "`model-sure`" in card
    assert model.get_params()["class_weight"] == "balanced"
    json.dumps(record)  # the record is plain JSON


def test_a_damaged_model_is_refused() -> None:
    record = model_record()
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        from_record(record, "tree\nversion=v4\n")


def test_shipped_model_diagnoses_a_generated_outer_race_fault() -> None:
    result = diagnose_signal(
        outer_race_signal(), FS, TRUE_RPM * 0.95, cwru_drive_end_bearing(),
        diagnoser=load_default_diagnoser(),
    )  # fmt: skip
    assert result.diagnosis.label == FaultClass.OUTER_RACE
    assert result.decided_by in {"agree", "physics"}
    assert result.model.startswith("FusedDiagnoser")


def test_physics_rules_stay_available() -> None:
    x = outer_race_signal()
    g = cwru_drive_end_bearing()
    feats = bearing_features(x[: 4 * 12000].reshape(4, 12000), FS, TRUE_RPM, g)
    rules = PhysicsRuleDiagnoser().fit(feats)
    result = diagnose_signal(x, FS, TRUE_RPM, g, diagnoser=rules)
    assert result.decided_by == "physics-rules"
    assert result.diagnosis.label == FaultClass.OUTER_RACE


# --- healthy baseline --------------------------------------------------------------------------


def test_lines_that_grew_since_a_healthy_baseline_are_named() -> None:
    g = cwru_drive_end_bearing()
    healthy, _ = bearing_signal(
        "outer", geometry=g, shaft_hz=TRUE_RPM / 60, fs_hz=FS, duration_s=6.0,
        impulse_amplitude=0.0, seed=5,
    )  # fmt: skip
    baseline = diagnose_signal(healthy, FS, TRUE_RPM, g)
    now = diagnose_signal(outer_race_signal(), FS, TRUE_RPM, g)
    now.against_baseline(baseline, "baseline-rec")
    assert now.grown_since_baseline
    assert {c.signature for c in now.grown_since_baseline} == {"bpfo"}
    assert all(c.growth_db >= 6.0 for c in now.grown_since_baseline)
    assert now.as_dict()["baseline"] == "baseline-rec"
    same = diagnose_signal(healthy, FS, TRUE_RPM, g)
    same.against_baseline(baseline, "baseline-rec")
    assert same.grown_since_baseline == []
    assert "no defect line grew" in same.notes[-1]
