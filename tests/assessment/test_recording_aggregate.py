"""A recording's verdict from its windows: the reason shown comes from a window decided by the
side the verdict names, so "decided by" and the reason sentence never contradict."""

from __future__ import annotations

import pandas as pd

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
