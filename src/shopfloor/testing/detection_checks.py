"""Contract checks for the detection roles (threshold, alarm logic) and for scorers' output
index; :func:`shopfloor.testing.contract.iter_checks` runs them where they apply.

* A :class:`~shopfloor.core.detection_roles.Threshold` is *fitted*: ``threshold_`` is a finite
  number learned from the scores, ``predict`` is 0/1, monotone in the score, and a masked
  (NaN) score never exceeds.
* An :class:`~shopfloor.core.detection_roles.AlarmLogic` is stateful and streaming: feeding the
  margins one at a time through ``update_one`` gives the alarms ``predict`` gives in a batch,
  and masked steps never raise an alarm from rest.
* An :class:`~shopfloor.core.base.AnomalyScorer` keeps the timestamps: ``score_samples`` of a
  DataFrame is a Series on the same index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from sklearn.base import clone

from shopfloor.core.base import AnomalyScorer, Component, Tags
from shopfloor.core.detection_roles import AlarmLogic, Threshold

__all__ = ["detection_checks"]


def _normal_scores(seed: int = 0) -> np.ndarray:
    # chi-square-like positive scores, as a distance score of normal data would be
    return np.random.default_rng(seed).chisquare(3, 500)


def check_threshold_is_fitted(component: Component) -> None:
    """``threshold_`` comes from the scores: finite, and it moves when the scores move."""
    assert isinstance(component, Threshold)
    scores = _normal_scores()
    a = float(component.fit(scores).threshold_)
    assert np.isfinite(a), f"threshold_ is {a}"
    b = float(clone(component).fit(scores * 10.0 + 5.0).threshold_)
    fixed = "value" in component.get_params(deep=False)  # a stated limit is not learned
    assert fixed or b != a, "threshold_ does not depend on the scores it was fitted on"


def check_threshold_predicts_monotone(component: Component) -> None:
    """``predict`` is 0/1, 1 above ``threshold_``, 0 below it, 0 for NaN (masked) scores."""
    assert isinstance(component, Threshold)
    component.fit(_normal_scores())
    t = float(component.threshold_)
    probe = np.array([t - abs(t) - 1.0, t, t + abs(t) + 1.0, np.nan])
    out = component.predict(probe)
    assert out.tolist() == [0, 0, 1, 0], f"predict({probe.tolist()}) gave {out.tolist()}"
    series = component.predict(pd.Series(probe))
    assert series.tolist() == out.tolist(), "a Series of scores gives other results"


def check_alarm_stream_matches_batch(component: Component) -> None:
    """``update_one`` over margins gives the alarms ``predict`` gives on the same margins."""
    assert isinstance(component, AlarmLogic)
    rng = np.random.default_rng(0)
    margins = rng.normal(-0.3, 0.6, 400)
    margins[rng.random(400) < 0.05] = np.nan
    component.fit(margins)
    batch = component.predict(margins)
    component.reset()
    stream = np.array([component.update_one(m) for m in margins], dtype=np.int64)
    np.testing.assert_array_equal(stream, batch, err_msg="alarm logic: stream vs batch")
    assert set(np.unique(batch)) <= {0, 1}, "alarm states must be 0/1"


def check_alarm_masked_steps_never_raise(component: Component) -> None:
    """A run of NaN margins (masked data) from rest raises no alarm."""
    assert isinstance(component, AlarmLogic)
    component.fit([0.0])
    assert component.predict(np.full(50, np.nan)).sum() == 0, "masked steps raised an alarm"


def check_scores_keep_index(component: Component) -> None:
    """``score_samples`` of a DataFrame returns a Series on the DataFrame's index."""
    from shopfloor.testing.contract import _data, _frame

    assert isinstance(component, AnomalyScorer)
    x, y = _data(component)
    frame = _frame(x)
    scores = component.fit(frame, y).score_samples(frame)
    assert isinstance(scores, pd.Series), f"score_samples(DataFrame) gave {type(scores)}"
    assert scores.index.equals(frame.index), "score_samples dropped the timestamps"


def detection_checks(component: Component, tags: Tags) -> Iterator[Callable[[Component], None]]:
    """The detection checks that apply to ``component``."""
    if isinstance(component, Threshold):
        yield check_threshold_is_fitted
        yield check_threshold_predicts_monotone
    if isinstance(component, AlarmLogic):
        yield check_alarm_stream_matches_batch
        yield check_alarm_masked_steps_never_raise
    if isinstance(component, AnomalyScorer) and tags.input_kind == "table":
        yield check_scores_keep_index
