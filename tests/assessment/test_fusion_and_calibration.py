"""Issue 13, second session: fusion decided by evidence, calibrated confidence, 48 kHz input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopfloor.assessment.calibration import class_balanced_weights, expected_calibration_error
from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.assessment.fused_diagnoser import (
    QUIET_CONFIDENCE,
    QUIET_KURTOSIS,
    SIDES,
    FusedDiagnoser,
    count_sides,
    side_confidence,
)
from shopfloor.assessment.physics_diagnoser import SIDEBAND_DB, PhysicsRuleDiagnoser
from shopfloor.assessment.recording_diagnosis import diagnose_signal, resample_to
from shopfloor.manipulation.bearing_features import feature_names
from shopfloor.testing.contract_data import physics_feature_rows
from shopfloor.testing.signals import bearing_signal, cwru_drive_end_bearing

pytest.importorskip("lightgbm", reason="the fused diagnoser needs lightgbm")

FS = 12_000.0
RPM = 1797.0


def _quiet_row() -> pd.DataFrame:
    """One feature row where nothing stands out anywhere (every series at the floor)."""
    names = feature_names()
    row = pd.DataFrame([np.zeros(len(names))], columns=names)
    row["cpw_time.kurtosis"] = 3.0
    return row


def _with_series(row: pd.DataFrame, signature: str, found: int, sig: float) -> pd.DataFrame:
    out = row.copy()
    out[f"high.{signature}.n_found"] = float(found)
    out[f"high.{signature}.sig"] = sig
    out[f"high.{signature}.db"] = 12.0
    return out


# --- the physics path's confidence --------------------------------------------------------------


def test_two_weak_harmonics_never_give_certainty() -> None:
    row = _with_series(_quiet_row(), "bpfo", found=2, sig=8.0)  # above the detection level
    rules = PhysicsRuleDiagnoser().fit(row)
    proba = rules.predict_proba(row)[0]
    classes = list(rules.classes_)
    assert rules.predict(row)[0] == "outer_race"
    # two of three predicted harmonics: (2 + 1) / (3 + 2)
    assert proba[classes.index("outer_race")] == pytest.approx(0.6)
    assert proba[classes.index("normal")] == pytest.approx(0.4)
    assert proba.sum() == pytest.approx(1.0)


def test_more_predicted_checks_passed_means_more_confidence_but_never_one() -> None:
    row = _with_series(_quiet_row(), "bpfi", found=3, sig=40.0)
    weak_sidebands = PhysicsRuleDiagnoser().fit(row).predict_proba(row).max()
    row["high.bpfi.sb_db"] = SIDEBAND_DB + 1.0
    with_sidebands = PhysicsRuleDiagnoser().fit(row).predict_proba(row).max()
    assert weak_sidebands == pytest.approx(4 / 6)
    assert with_sidebands == pytest.approx(5 / 6)
    assert with_sidebands < 1.0


def test_the_sideband_level_is_the_one_percent_rayleigh_level() -> None:
    ratio = 10 ** (SIDEBAND_DB / 20)
    # P(A > a) = exp(-ln2 (a/m)^2) searched over 3 bins is 1 %
    assert 3 * np.exp(-np.log(2) * ratio**2) == pytest.approx(0.01)


# --- fusion rules --------------------------------------------------------------------------------


class _FixedModel(FusedDiagnoser):
    """A fused diagnoser whose learned side returns fixed probabilities (to test the rules)."""

    def __init__(self, proba: list[float] | None = None, min_confidence: float = 0.0) -> None:
        super().__init__(min_confidence=min_confidence)
        self.proba = proba

    def model_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile(np.asarray(self.proba, dtype=np.float64), (len(x), 1))


def _fixed(proba: list[float], sure_level: float = 0.0) -> _FixedModel:
    model = _FixedModel(proba)
    model.sure_level = sure_level  # the model-sure side is off unless a test turns it on
    model.classes_ = np.array(["inner_race", "normal", "outer_race", "rolling_element"])
    model.n_features_in_ = len(feature_names())
    model.feature_names_in_ = feature_names()
    model.resolve_ = "physics"
    model.reliability_ = {}
    return model


def test_a_fault_without_any_line_is_healthy_by_default() -> None:
    model = _fixed([0.05, 0.05, 0.05, 0.85])  # the model says ball; nothing in the spectrum
    assert model.sides(_quiet_row()) == ["healthy-default"]
    assert model.predict(_quiet_row())[0] == "normal"


def test_without_a_strong_series_the_model_is_conditioned_on_the_lines_present() -> None:
    # the model prefers ball, but only BPFO shows a (weak) line: outer race, from the model's
    # own probabilities restricted to normal and outer race
    row = _with_series(_quiet_row(), "bpfo", found=1, sig=6.0)  # weak: below 6.95, above 4.6
    model = _fixed([0.05, 0.05, 0.30, 0.60])
    assert model.sides(row) == ["model"]
    proba = model.predict_proba(row)[0]
    assert model.predict(row)[0] == "outer_race"
    assert proba[2] == pytest.approx(0.30 / 0.35)
    assert proba[3] == 0.0


def test_impulsiveness_stands_in_for_a_line_only_when_asked() -> None:
    row = _quiet_row()
    row["cpw_time.kurtosis"] = 7.0
    model = _fixed([0.05, 0.05, 0.05, 0.85])
    assert model.predict(row)[0] == "normal"
    model.impulse_kurtosis = 4.0
    assert model.sides(row) == ["model-impulsive"]
    assert model.predict(row)[0] == "rolling_element"


def test_a_sure_model_calls_a_fault_without_a_line_only_where_validated_and_impulsive() -> None:
    impulsive = _quiet_row()
    impulsive["cpw_time.kurtosis"] = 7.0
    # the model is sure of a ball fault, no line
    model = _fixed([0.05, 0.05, 0.05, 0.85], sure_level=0.5)
    model.sure_ = []  # not validated out of group: healthy by default
    assert model.sides(impulsive) == ["healthy-default"]
    model.sure_ = ["rolling_element"]
    assert model.sides(impulsive) == ["model-sure"]
    assert model.predict(impulsive)[0] == "rolling_element"
    (d,) = model.diagnose(impulsive)
    assert "impulsive" in d.reason
    assert "right more often than wrong" in d.reason
    # a quiet window is healthy evidence and is never overruled this way
    assert model.sides(_quiet_row()) == ["healthy-default"]
    assert model.predict(_quiet_row())[0] == "normal"
    # nor is a fault the model is not sure of (below sure_level)
    unsure = _fixed([0.05, 0.30, 0.20, 0.45], sure_level=0.5)
    unsure.sure_ = ["rolling_element"]
    assert unsure.sides(impulsive) == ["healthy-default"]
    # a flat window (NaN kurtosis) is not impulsive either
    flat = impulsive.copy()
    flat["cpw_time.kurtosis"] = np.nan
    assert model.sides(flat) == ["healthy-default"]


def test_the_sure_side_is_off_by_default() -> None:
    # impulsiveness is not specific to a bearing defect: without the machine's own baseline a
    # sure model on an impulsive window without a line stays healthy by default
    impulsive = _quiet_row()
    impulsive["cpw_time.kurtosis"] = 7.0
    model = _fixed([0.05, 0.05, 0.05, 0.85])
    model.sure_ = ["rolling_element"]
    assert FusedDiagnoser().sure_level == 0.0
    assert model.sides(impulsive) == ["healthy-default"]


def test_the_sure_side_is_validated_per_fault_with_healthy_rows_weighted_as_a_class() -> None:
    frame = pd.concat([_quiet_row()] * 11, ignore_index=True)
    frame["cpw_time.kurtosis"] = 7.0  # every row impulsive, no line anywhere
    model = _fixed([0.05, 0.05, 0.05, 0.85], sure_level=0.5)
    probs = model.model_proba(frame.to_numpy())
    # 10 ball rows called ball (right) and 1 healthy row called ball (wrong): under the
    # uniform prior the one healthy bearing weighs as much as all ball rows together
    truth = np.array(["rolling_element"] * 10 + ["normal"])
    model._validate_sure(frame, probs, truth)
    check = model.sure_check_["rolling_element"]
    assert (check["n"], check["right"], check["wrong"]) == (11, pytest.approx(1.0), 1.0)
    assert model.sure_ == []
    # with the corpus's own mix the same rows count 10 against 1
    model.class_prior = "training"
    model._validate_sure(frame, probs, truth)
    assert model.sure_ == ["rolling_element"]
    # a fault never called this way out of group is never trusted
    assert model.sure_check_["inner_race"]["n"] == 0


def test_a_quiet_normal_answer_needs_healthy_evidence_and_says_so() -> None:
    model = _fixed([0.05, 0.85, 0.05, 0.05])  # the model says normal
    model.side_confidence_ = {s: 0.4 for s in SIDES}
    assert model.sides(_quiet_row()) == ["quiet-normal"]
    # (1 per race signature + not impulsive + the model agrees) passed: (5 + 1) / (5 + 2)
    assert abs(QUIET_CONFIDENCE - 6 / 7) < 1e-12
    assert model.predict_proba(_quiet_row()).max() == pytest.approx(6 / 7)
    (d,) = model.diagnose(_quiet_row())
    assert d.label == FaultClass.NORMAL
    assert "not impulsive" in d.reason
    # a weak line, or impulsiveness, leaves a normal answer without that evidence
    weak = _with_series(_quiet_row(), "bpfo", found=1, sig=6.0)
    impulsive = _quiet_row()
    impulsive["cpw_time.kurtosis"] = QUIET_KURTOSIS + 0.5
    for row in (weak, impulsive):
        assert model.sides(row) == ["model-normal"]
        assert model.predict_proba(row).max() == pytest.approx(0.4)


def test_balanced_class_weights_lift_a_rare_healthy_class() -> None:
    x, y = physics_feature_rows(seed=6, per_class=30)
    keep = (y != "normal") | (np.cumsum(y == "normal") <= 3)  # 3 healthy rows against 90
    x, y = x[keep], y[keep]
    normal = y == "normal"
    p_bal = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, y).model_proba(x)
    plain = FusedDiagnoser(n_estimators=20, min_child_samples=2, class_weight="none")
    p_none = plain.fit(x, y).model_proba(x)
    k = 1  # classes_ are sorted: inner_race, normal, outer_race, rolling_element
    assert p_bal[normal, k].mean() > p_none[normal, k].mean()


def test_who_wins_a_disagreement_is_what_was_measured_out_of_group() -> None:
    row = _with_series(_quiet_row(), "bpfo", found=3, sig=60.0)  # a strong BPFO series
    model = _fixed([0.80, 0.05, 0.10, 0.05])  # the model says inner race
    assert model.sides(row) == ["physics"]
    assert model.predict(row)[0] == "outer_race"
    model.resolve_ = "model"
    assert model.sides(row) == ["model-over-physics"]
    assert model.predict(row)[0] == "inner_race"
    (d,) = model.diagnose(row)
    assert "model won" in d.reason
    assert "outer-race" in d.reason


def test_the_model_overrules_only_series_as_weak_as_those_it_overruled_rightly() -> None:
    row = _with_series(_quiet_row(), "bpfo", found=3, sig=60.0)  # a strong BPFO series
    model = _fixed([0.05, 0.05, 0.10, 0.80])  # the model says ball
    model.resolve_ = "model"  # out of group, the model won the disagreements overall
    # ... but only on series up to significance 40: a stronger one is beyond what it was
    # seen to overrule, and physics keeps it (a severe outer race on another rig)
    model.disagreement_table_ = [[40.0, 0.0, 1.0], [20.0, 0.0, 1.0]]
    assert model.sides(row) == ["physics"]
    assert model.predict(row)[0] == "outer_race"
    model.disagreement_table_ += [[80.0, 0.0, 1.0]]
    assert model.sides(row) == ["model-over-physics"]
    assert model.predict(row)[0] == "rolling_element"
    # a strong series proves a defect: a model that says normal never overrules it
    says_normal = _fixed([0.05, 0.80, 0.10, 0.05])
    says_normal.resolve_ = "model"
    assert says_normal.sides(row) == ["physics"]
    assert says_normal.predict(row)[0] == "outer_race"


def test_validated_resolution_and_side_reliability_come_from_out_of_group_rows() -> None:
    x, y = physics_feature_rows(seed=4, per_class=8)
    groups = np.tile(np.repeat(["a", "b"], 4), 3)
    model = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, y, groups=groups)
    assert model.resolve_ in ("physics", "model")
    d = model.disagreements_
    assert d["physics"] <= d["n"]
    assert d["model"] <= d["n"]
    assert model.resolve_ == ("model" if d["model"] > d["physics"] else "physics")
    table = np.asarray(model.disagreement_table_).reshape(-1, 3)
    assert (len(table), table[:, 1].sum(), table[:, 2].sum()) == (d["n"], d["physics"], d["model"])
    assert set(model.reliability_) == set(SIDES)
    assert sum(n for _, n in model.reliability_.values()) == len(y)
    # per side and class, the same counts
    for side, (right, n) in model.reliability_.items():
        by_class = model.side_counts_[side].values()
        assert (sum(r for r, _ in by_class), sum(m for _, m in by_class)) == (right, n)
    # the confidence reported is the side's out-of-group accuracy under equal class priors
    assert model.side_confidence_ == side_confidence(model.side_counts_, "uniform")
    proba = model.predict_proba(x)
    sides = model.sides(x)
    for p, side in zip(proba, sides, strict=True):
        expected = QUIET_CONFIDENCE if side == "quiet-normal" else model.side_confidence_[side]
        assert p.max() == pytest.approx(max(expected, 0.25), abs=1e-9)
        assert p.sum() == pytest.approx(1.0)
    # calibration never changes the decision
    raw, _ = model._fuse(model._frame(x), model.model_proba(x))
    assert (proba.argmax(axis=1) == raw.argmax(axis=1)).all()


def test_the_absolute_level_is_not_a_model_input_by_default() -> None:
    x, y = physics_feature_rows(seed=5)
    model = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, y)
    louder = x.copy()
    louder[:, feature_names().index("time.rms")] += np.log(9.81)  # g -> m/s^2
    assert np.allclose(model.model_proba(x), model.model_proba(louder))
    with_level = FusedDiagnoser(n_estimators=20, min_child_samples=2, use_level=True).fit(x, y)
    assert with_level.booster_.num_feature() == x.shape[1]
    assert model.booster_.num_feature() == x.shape[1] - 1


# --- 48 kHz input -------------------------------------------------------------------------------


def test_a_48_khz_recording_is_judged_at_the_model_rate() -> None:
    g = cwru_drive_end_bearing()
    fast, _ = bearing_signal("outer", geometry=g, shaft_hz=RPM / 60, fs_hz=48_000.0,
                             duration_s=4.0, seed=7)  # fmt: skip
    result = diagnose_signal(fast, 48_000.0, RPM, g)
    assert result.data_checks["sample_rate_hz"] == 48_000.0
    assert result.data_checks["analysed_at_hz"] == 12_000.0
    assert result.data_checks["window_samples"] == 12_000
    assert result.diagnosis.label == FaultClass.OUTER_RACE
    slow, rate = resample_to(fast, 48_000.0, 12_000.0)
    assert rate == 12_000.0
    again = diagnose_signal(slow, 12_000.0, RPM, g)
    assert again.window_labels == result.window_labels
    assert again.diagnosis.confidence == pytest.approx(result.diagnosis.confidence)


def test_the_rate_can_be_kept_and_slow_signals_are_not_upsampled() -> None:
    g = cwru_drive_end_bearing()
    x, _ = bearing_signal("outer", geometry=g, shaft_hz=RPM / 60, fs_hz=FS, duration_s=3.0,
                          seed=8)  # fmt: skip
    assert diagnose_signal(x, FS, RPM, g).data_checks["analysed_at_hz"] == FS
    fast, _ = bearing_signal("outer", geometry=g, shaft_hz=RPM / 60, fs_hz=48_000.0,
                             duration_s=3.0, seed=8)  # fmt: skip
    kept = diagnose_signal(fast, 48_000.0, RPM, g, analysis_rate_hz=None)
    assert kept.data_checks["analysed_at_hz"] == 48_000.0


def test_normal_from_the_rules_is_not_certain_either() -> None:
    rules = PhysicsRuleDiagnoser().fit(_quiet_row())
    classes = list(rules.classes_)
    quiet = rules.predict_proba(_quiet_row())[0]
    assert quiet[classes.index("normal")] == pytest.approx(5 / 6)
    weak = _with_series(_quiet_row(), "bpfo", found=1, sig=3.0)  # a weak line, no detection
    proba = rules.predict_proba(weak)[0]
    assert rules.predict(weak)[0] == "normal"
    assert proba[classes.index("normal")] == pytest.approx(4 / 6)
    assert proba[classes.index("outer_race")] == pytest.approx(2 / 6)
    assert proba.sum() == pytest.approx(1.0)


# --- the class prior of the reported confidence (label shift) ------------------------------------


def _skewed_corpus(faulty_per_healthy: int) -> tuple[list[str], list[str], list[bool]]:
    """Out-of-group decisions: 20 healthy rows, 15 answered normal on ``model-normal`` (right)
    and 5 called faults on ``agree`` (wrong); ``faulty_per_healthy`` times as many faulty rows,
    1 in 10 answered normal on ``model-normal`` (wrong), the rest right on ``agree``."""
    n_fault = 20 * faulty_per_healthy
    wrong = n_fault // 10
    sides = ["model-normal"] * 15 + ["agree"] * 5 + ["model-normal"] * wrong
    sides += ["agree"] * (n_fault - wrong)
    truth = ["normal"] * 20 + ["outer_race"] * n_fault
    right = [True] * 15 + [False] * 5 + [False] * wrong + [True] * (n_fault - wrong)
    return sides, truth, right


def test_a_skewed_corpus_gives_the_balanced_posterior() -> None:
    # known answer: S = 9 sides, Dirichlet(1/2) per (side, right|wrong) cell within each class;
    # normal: 15 of 20 on model-normal, all right; outer race: 40 of 400, all wrong
    sides, truth, right = _skewed_corpus(20)
    counts = count_sides(sides, truth, right)
    assert counts["model-normal"] == {"normal": [15, 15], "outer_race": [0, 40]}
    s = len(SIDES)
    num = (15.5 / (20 + s) + 0.5 / (400 + s)) / 2
    den = (16 / (20 + s) + 41 / (400 + s)) / 2
    assert side_confidence(counts)["model-normal"] == pytest.approx(num / den)
    # 0.82: near the unsmoothed balanced 0.75 / (0.75 + 0.10) = 0.88; plainly counted 15/55
    assert s == 9
    assert num / den == pytest.approx(0.8217, abs=1e-4)
    # the corpus-mix prior (the calibration before) reads it near the plain count, 15/55
    mix = (15.5 * 20 / 420 / (20 + s) + 0.5 * 400 / 420 / (400 + s)) / (
        16 * 20 / 420 / (20 + s) + 41 * 400 / 420 / (400 + s)
    )
    assert side_confidence(counts, "training")["model-normal"] == pytest.approx(mix)
    assert mix == pytest.approx(0.22, abs=0.01)


def test_a_healthy_answer_no_longer_tracks_the_corpus_mix() -> None:
    # the same per-class behaviour, with 2, 20 and 200 faulty rows per healthy one
    uniform, training = [], []
    for k in (2, 20, 200):
        counts = count_sides(*_skewed_corpus(k))
        uniform.append(side_confidence(counts, "uniform")["model-normal"])
        training.append(side_confidence(counts, "training")["model-normal"])
    assert max(uniform) - min(uniform) < 0.02  # only the smoothing of the few rows moves it
    assert uniform[0] == pytest.approx(0.84, abs=0.01)
    assert training[0] > 0.7  # the old answer follows the mix
    assert training[2] < 0.05


def test_the_class_prior_changes_the_confidence_never_the_decision() -> None:
    x, y = physics_feature_rows(seed=4, per_class=8)
    groups = np.tile(np.repeat(["a", "b"], 4), 3)
    keep = (y != "normal") | (np.arange(len(y)) % 4 == 0)  # skew: few healthy rows
    x, y, groups = x[keep], y[keep], groups[keep]
    uniform = FusedDiagnoser(n_estimators=20, min_child_samples=2).fit(x, y, groups=groups)
    mixed = FusedDiagnoser(n_estimators=20, min_child_samples=2, class_prior="training")
    mixed.fit(x, y, groups=groups)
    assert uniform.reliability_ == mixed.reliability_  # the same decisions were counted
    assert uniform.side_confidence_ == side_confidence(uniform.side_counts_, "uniform")
    assert mixed.side_confidence_ == side_confidence(mixed.side_counts_, "training")
    assert uniform.side_confidence_ != mixed.side_confidence_
    assert (uniform.predict(x) == mixed.predict(x)).all()
    with pytest.raises(ValueError, match="class_prior"):
        FusedDiagnoser(class_prior="plant").fit(x, y)


def test_class_balanced_calibration_error_weighs_every_class_the_same() -> None:
    # 1 healthy row right at 0.5, 9 faulty rows right at 0.9 (bins: 0.5 -> gap 0.5, 0.9 -> 0.1)
    conf = [0.5] + [0.9] * 9
    ok = [True] * 10
    truth = ["normal"] + ["inner_race"] * 9
    assert expected_calibration_error(conf, ok) == pytest.approx(0.1 * 0.5 + 0.9 * 0.1)
    w = class_balanced_weights(truth)
    assert w.sum() == pytest.approx(10.0)
    assert expected_calibration_error(conf, ok, weights=w) == pytest.approx(0.5 * 0.5 + 0.5 * 0.1)


def test_the_shipped_model_reports_healthy_answers_under_equal_class_priors() -> None:
    from shopfloor.assessment.default_model import load_default_diagnoser

    model = load_default_diagnoser()
    assert model.class_prior == "uniform"
    counts = model.side_counts_
    assert model.side_confidence_ == pytest.approx(side_confidence(counts, "uniform"))
    # CWRU trains on 2 healthy bearings against 34 faulty ones: under the corpus's mix, a
    # healthy answer would read as mostly wrong; under equal priors it does not
    for side in ("healthy-default", "model-normal"):
        assert model.side_confidence_[side] > side_confidence(counts, "training")[side] + 0.1
    row = _quiet_row()
    (side,) = model.sides(row)
    expected = QUIET_CONFIDENCE if side == "quiet-normal" else model.side_confidence_[side]
    proba = model.predict_proba(row)[0]
    assert model.predict(row)[0] == "normal"
    assert proba.max() == pytest.approx(max(expected, 0.25))
