"""Diagnosers on generated signals with known answers: quality floors, unknowns, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.assessment.boosted_diagnoser import BoostedDiagnoser
from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.assessment.physics_diagnoser import PhysicsRuleDiagnoser
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError, NotFittedError
from shopfloor.manipulation.bearing_features import bearing_features, feature_names
from shopfloor.testing.contract_data import physics_feature_rows
from shopfloor.testing.signals import bearing_signal, cwru_drive_end_bearing

FS = 12_000.0
LABEL = {"outer": "outer_race", "inner": "inner_race", "ball": "rolling_element"}


def windows_of(
    defect: str,
    rpm: float,
    seed: int,
    geometry: BearingGeometry,
    n: int = 4,
    amplitude: float = 1.0,
) -> np.ndarray:
    x, _ = bearing_signal(
        defect,
        geometry=geometry,
        shaft_hz=rpm / 60,
        fs_hz=FS,
        duration_s=n * 0.5,
        impulse_amplitude=amplitude,
        seed=seed,
    )
    return x[: n * 6000].reshape(n, 6000)


@pytest.mark.parametrize("rpm", [900.0, 1797.0, 2950.0])
@pytest.mark.parametrize("defect", ["outer", "inner"])
def test_physics_rules_find_race_defects_at_any_speed(defect: str, rpm: float) -> None:
    g = cwru_drive_end_bearing()
    feats = bearing_features(windows_of(defect, rpm, 11, g), FS, rpm, g)
    pred = PhysicsRuleDiagnoser().fit(feats).predict(feats)
    assert (pred == LABEL[defect]).all(), pred


def test_physics_rules_work_on_a_rig_never_seen() -> None:
    # only geometry, speed and sample rate: a 6310-like bearing (8 balls) at 1480 rpm
    g = BearingGeometry(n_elements=8, element_diameter_mm=19.05, pitch_diameter_mm=77.5)
    for defect in ("outer", "inner"):
        feats = bearing_features(windows_of(defect, 1480.0, 4, g), FS, 1480.0, g)
        assert (PhysicsRuleDiagnoser().fit(feats).predict(feats) == LABEL[defect]).all()


def test_healthy_is_normal_and_weak_evidence_is_never_a_confident_fault() -> None:
    g = cwru_drive_end_bearing()
    healthy = bearing_features(windows_of("outer", 1797.0, 3, g, amplitude=0.0), FS, 1797.0, g)
    diag = PhysicsRuleDiagnoser().fit(healthy)
    assert (diag.predict(healthy) == "normal").all()
    # random, non-periodic impacts: impulsive, but no defect frequency -> unknown, with reason
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.2, size=(4, 6000))
    for row in x:
        for at in rng.choice(5800, size=6, replace=False):
            row[at : at + 200] += 3 * np.exp(-np.arange(200) / 20) * np.sin(np.arange(200) * 1.6)
    feats = bearing_features(x, FS, 1797.0, g)
    found = diag.diagnose(feats)
    assert {d.label for d in found} <= {FaultClass.UNKNOWN, FaultClass.NORMAL}
    assert any(
        d.label == FaultClass.UNKNOWN and "no bearing defect frequency" in d.reason for d in found
    )


def test_diagnosis_carries_checkable_evidence() -> None:
    g = cwru_drive_end_bearing()
    feats = bearing_features(windows_of("outer", 1797.0, 2, g, n=1), FS, 1797.0, g)
    (d,) = PhysicsRuleDiagnoser().fit(feats).diagnose(feats)
    assert d.label == FaultClass.OUTER_RACE
    assert "BPFO" in d.reason
    assert "dB over the local floor" in d.reason
    assert d.severity in {"early", "developing", "advanced"}
    assert d.summary().startswith("outer race")


def test_physics_output_is_pinned_for_a_fixed_seed() -> None:
    g = cwru_drive_end_bearing()
    feats = bearing_features(windows_of("inner", 1797.0, 42, g, n=1), FS, 1797.0, g)
    assert round(float(feats["high.bpfi.sig"].iloc[0]), 1) == pytest.approx(387.2, abs=0.2)


def test_boosted_diagnoser_learns_and_explains() -> None:
    x, y = physics_feature_rows(0, per_class=30)
    xt, yt = physics_feature_rows(1, per_class=10)
    model = BoostedDiagnoser(n_estimators=100).fit(x, y)
    assert (model.predict(xt) == yt).mean() >= 0.95
    d = model.diagnose(xt[:1])[0]
    assert d.label == FaultClass.OUTER_RACE
    assert "model reasons" in d.reason
    assert d.probabilities["outer_race"] == pytest.approx(d.confidence)


def test_boosted_unknown_below_min_confidence() -> None:
    x, y = physics_feature_rows(0, per_class=30)
    model = BoostedDiagnoser(n_estimators=20, min_confidence=0.999999).fit(x, y)
    assert (model.predict(x[:3]) == "unknown").all()


def test_unfitted_and_wrong_layout_are_clear_errors() -> None:
    x, _ = physics_feature_rows(0)
    with pytest.raises(NotFittedError):
        PhysicsRuleDiagnoser().predict(x)
    with pytest.raises(ValueError, match="physics feature columns"):
        PhysicsRuleDiagnoser().fit(x[:, :10])
    with pytest.raises(InputError, match="needs labels"):
        BoostedDiagnoser().fit(x)


def test_physics_monotone_model_never_lowers_a_fault_for_more_of_its_evidence() -> None:
    x, y = physics_feature_rows(0, per_class=30)
    model = BoostedDiagnoser(n_estimators=100, physics_monotone=True).fit(x, y)
    names = feature_names()
    own = [i for i, c in enumerate(names) if ".bpfo." in c and c.endswith((".sig", ".db"))]
    k = list(model.classes_).index("outer_race")
    base = x.copy()
    boosted = x.copy()
    boosted[:, own] += np.abs(boosted[:, own]) + 5.0
    assert (model.predict_proba(boosted)[:, k] >= model.predict_proba(base)[:, k] - 1e-9).all()
    xt, yt = physics_feature_rows(1, per_class=10)
    assert (model.predict(xt) == yt).mean() >= 0.95
