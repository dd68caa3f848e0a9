"""The roles after scoring: threshold, alarm logic and event making.

Detection runs in four separate roles, so each can be swapped and checked alone:

1. an :class:`~shopfloor.core.base.AnomalyScorer` scores each time step (higher = more
   abnormal);
2. a :class:`Threshold` is *fitted* on scores of known-normal data and turns scores into 0/1
   exceedances (never a guessed outlier fraction);
3. an :class:`AlarmLogic` is stateful and streaming: it turns exceedances into alarms with
   persistence and hysteresis, so one spike pages no one;
4. an :class:`EventMaker` turns alarm intervals into :class:`~shopfloor.core.events.Event`
   records (asset, start, end, severity, contributing channels, model).

The contract kit (``shopfloor.testing``) checks each role: a threshold is fitted and monotone,
an alarm logic gives the same alarms one step at a time as in a batch.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import FloatArray, Predictor, check_is_fitted
from shopfloor.core.events import Event

__all__ = ["AlarmLogic", "EventMaker", "Threshold"]


def _column(x: object) -> object:
    """Scores given as a 1-D array or Series become the one-column table the base expects."""
    if isinstance(x, pd.Series):
        return x.to_frame()
    arr = np.asarray(x) if not isinstance(x, pd.DataFrame) else x
    if isinstance(arr, np.ndarray) and arr.ndim == 1:
        return arr.reshape(-1, 1)
    return x


class Threshold(Predictor):
    """Fitted on anomaly scores of normal data; ``predict`` gives 1 where a score exceeds
    ``threshold_`` and 0 elsewhere (NaN scores, i.e. masked steps, give 0).

    Hooks: ``_fit(x, y)`` must set ``threshold_`` (float, in score units) from the scores in
    ``x[:, 0]``. ``fit`` and ``predict`` take scores as 1-D arrays, Series or one-column tables.
    """

    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "detection",
        "input_kind": "table",
        "multivariate": False,
        "handles_missing": True,
    }
    threshold_: float  # set by ``_fit``; declared so mypy (typed component base) knows it

    def fit(self, x: object, y: object = None) -> Self:
        """Learn ``threshold_`` from scores of normal operation (NaN scores are ignored)."""
        return super().fit(_column(x), y)

    def predict(self, x: object) -> npt.NDArray[Any]:
        """1 where a score exceeds ``threshold_``, else 0; shape (n_scores,)."""
        return super().predict(_column(x))

    def _predict(self, x: FloatArray) -> npt.NDArray[Any]:
        with np.errstate(invalid="ignore"):
            out: npt.NDArray[Any] = (x[:, 0] > self.threshold_).astype(np.int64)
        return out

    def margin(self, scores: object) -> FloatArray:
        """Relative exceedance ``score / threshold_ - 1`` (> 0 above the threshold), the input
        of an :class:`AlarmLogic`; NaN stays NaN."""
        check_is_fitted(self, "margin")
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        scale = abs(self.threshold_) if self.threshold_ != 0 else 1.0
        out: FloatArray = (s - self.threshold_) / scale
        return out


class AlarmLogic(Predictor):
    """Stateful, streaming alarm logic: exceedance margins in, 0/1 alarm state out.

    The input is one column of margins (``> 0`` = the score is above its threshold, e.g.
    :meth:`Threshold.margin`); NaN means "not scored" (masked) and never raises an alarm.
    ``update_one(margin)`` advances the state one time step; ``predict`` runs a fresh state over
    a batch, so both paths give the same alarms. ``fit`` learns nothing (stateless tag).

    Hooks: ``_initial_state() -> dict`` and ``_step(state, margin) -> bool``, which updates
    ``state`` in place and returns whether the alarm is on after this step.
    """

    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "detection",
        "input_kind": "table",
        "multivariate": False,
        "handles_missing": True,
        "stateless": True,
    }

    @abstractmethod
    def _initial_state(self) -> dict[str, Any]:
        """A fresh state (alarm off, counters at zero)."""

    @abstractmethod
    def _step(self, state: dict[str, Any], margin: float) -> bool:
        """Advance ``state`` by one step; return the alarm state after it."""

    def fit(self, x: object, y: object = None) -> Self:
        """Check the parameters and reset the state; nothing is learned from ``x``."""
        super().fit(_column(x), y)
        self.state_: dict[str, Any] = self._initial_state()
        return self

    def predict(self, x: object) -> npt.NDArray[Any]:
        """Alarm state (0/1) after each margin, from a fresh state; shape (n_steps,)."""
        return super().predict(_column(x))

    def _predict(self, x: FloatArray) -> npt.NDArray[Any]:
        state = self._initial_state()
        return np.array([self._step(state, float(m)) for m in x[:, 0]], dtype=np.int64)

    def update_one(self, margin: float | None) -> bool:
        """Advance the live state by one step (``None``/NaN = not scored); alarm on or off."""
        if "state_" not in vars(self):
            self._validate_params()
            self.state_ = self._initial_state()
        value = float("nan") if margin is None else float(margin)
        return bool(self._step(self.state_, value))

    def reset(self) -> None:
        """Forget the live state (alarm off)."""
        self.state_ = self._initial_state()


class EventMaker:
    """Turns an alarm series into events: one :class:`Event` per alarm interval.

    Subclasses implement :meth:`make`; what an event carries is fixed by
    :class:`~shopfloor.core.events.Event` (asset, start, end, severity, evidence, source).
    """

    @abstractmethod
    def make(
        self,
        alarm: pd.Series,
        *,
        asset_id: str,
        source: str,
        scores: pd.Series | None = None,
        contributions: pd.DataFrame | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Sequence[Event]:
        """Events for the runs of 1 in ``alarm`` (a 0/1 series on a DatetimeIndex)."""
