"""A recording's verdict from its windows: the reason shown comes from a window decided by the
side the verdict names, so "decided by" and the reason sentence never contradict."""

from __future__ import annotations

import pandas as pd
import pytest

from shopfloor.assessment.diagnosis import Diagnosis, FaultClass
from shopfloor.assessment.recording_diagnosis import _aggregate


def _window(reason: str) -> Diagnosis:
    probs = {"normal": 0.2, "outer_race": 0.7, "inner_race": 0.05, "rolling_element": 0.05}
    return Diagnosis(FaultClass.OUTER_RACE, 0.7, "developing", reason, [], probs)


def test_reason_comes_from_a_window_of_the_deciding_side() -> None:
    windows = [
        _window("physics won over the learned model"),
        _window("the learned model finds BPFO"),
        _window("the learned model finds BPFO"),
    ]
    sides = ["physics", "model", "model"]
    feats = pd.DataFrame({"cpw_time.kurtosis": [3.0, 3.0, 3.0]})
    verdict, support, side, _ = _aggregate(windows, sides, [], feats)
    assert verdict.label == FaultClass.OUTER_RACE
    assert support == 1.0
    assert side == "model"
    assert verdict.reason == "3 of 3 windows agree; the learned model finds BPFO"


def _called(label: FaultClass, sure: float) -> Diagnosis:
    """A window answered ``label`` at ``sure``, the rest spread evenly (the fused calibration)."""
    rest = (1.0 - sure) / 3.0
    probs = dict.fromkeys(("normal", "inner_race", "outer_race", "rolling_element"), rest)
    probs[label.value] = sure
    return Diagnosis(label, sure, "developing", f"{label.value} window", [], probs)


def test_a_fault_most_windows_call_is_the_verdict_whatever_the_averaged_probabilities() -> None:
    # 7 windows say ball at a low measured confidence, 3 say outer race at a higher one: the
    # averaged probabilities put outer race (0.297) a hair above ball (0.296), and the old rule
    # then answered "normal" because outer race had no majority
    windows = [_called(FaultClass.ROLLING_ELEMENT, 0.35)] * 7
    windows += [_called(FaultClass.OUTER_RACE, 0.485)] * 3
    sides = ["model-over-physics"] * 7 + ["model"] * 3
    feats = pd.DataFrame({"cpw_time.kurtosis": [3.5] * 10})
    verdict, support, side, notes = _aggregate(windows, sides, [], feats)
    assert verdict.label == FaultClass.ROLLING_ELEMENT
    assert support == 0.7
    assert side == "model-over-physics"
    assert verdict.probabilities["outer_race"] > verdict.probabilities["rolling_element"]
    assert verdict.confidence == pytest.approx(verdict.probabilities["rolling_element"])
    assert any("outer-race" in n and "3 of 10" in n for n in notes)
    # without a majority, healthy stays the default answer
    split = windows[:5] + windows[7:] + [_called(FaultClass.NORMAL, 0.5)] * 2
    verdict, _, _, _ = _aggregate(split, sides, [], feats)
    assert verdict.label == FaultClass.NORMAL
