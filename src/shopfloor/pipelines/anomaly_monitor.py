"""The detection chain in one object: guard → scorer → threshold → alarm logic → events.

:class:`AnomalyMonitor` is what the command line, the benchmark and the live service use. It
is fitted on a stated healthy period; :meth:`AnomalyMonitor.detect` then returns, for a
timestamped table, the scores, the threshold, the alarms, per-channel contributions and the
events (anomaly events plus data-quality events), with every timestamp kept.

The threshold is calibrated on scores of the healthy period, where the false-alarm budget per
step (``risk`` of the default POT threshold) is set. ``calibration="in_sample"`` (default)
scores the rows the scorer was fitted on; ``"holdout"`` fits the scorer on the first 75 % of
the healthy period, calibrates the threshold on its scores of the last 25 % (rows it has not
seen, later in time, so drift and over-fitting show), then refits the scorer on the whole
period: in-sample scores understate the tail a new observation will have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import clone

from shopfloor.core.base import AnomalyScorer, Component, InstanceOf, Options, check_is_fitted
from shopfloor.core.detection_roles import AlarmLogic, EventMaker, Threshold
from shopfloor.core.errors import InputError
from shopfloor.core.events import Event
from shopfloor.detection.alarms import PersistenceAlarm
from shopfloor.detection.events import AlarmEvents
from shopfloor.detection.pca import PCAMonitor
from shopfloor.detection.quality import DataQualityGuard
from shopfloor.detection.thresholds import POTThreshold

__all__ = ["AnomalyMonitor", "Detection"]


@dataclass
class Detection:
    """Everything :meth:`AnomalyMonitor.detect` found, on the input's timestamps."""

    scores: pd.Series
    threshold: float
    alarm: pd.Series
    contributions: pd.DataFrame | None
    events: list[Event] = field(default_factory=list)
    quality_events: list[Event] = field(default_factory=list)
    mask: pd.DataFrame | None = None

    def summary(self) -> dict[str, Any]:
        """Counts for a report: steps, alarm steps, events, data-quality events, masked."""
        return {
            "n_steps": len(self.scores),
            "n_alarm_steps": int(self.alarm.sum()),
            "n_events": len(self.events),
            "n_quality_events": len(self.quality_events),
            "n_masked_values": int(self.mask.to_numpy().sum()) if self.mask is not None else 0,
            "threshold": self.threshold,
        }


class AnomalyMonitor(Component):
    """Guard, scorer, threshold, alarm logic and event maker, fitted together.

    A :class:`~shopfloor.core.base.Component` (so ``get_params``, ``clone`` and
    :func:`shopfloor.core.persistence.save` work), whose ``fit`` takes a table indexed by
    timestamps instead of a bare array: the guard and the events need the times.

    Parameters
    ----------
    scorer : AnomalyScorer, default PCAMonitor()
    threshold : Threshold, default POTThreshold(risk=1e-3)
    alarm : AlarmLogic, default PersistenceAlarm()
    guard : DataQualityGuard or None, default DataQualityGuard()
        None skips the data-quality checks (e.g. data already cleaned).
    events : EventMaker, default AlarmEvents()
    calibration : {"in_sample", "holdout"}, default "in_sample"
        Which scores of the healthy period calibrate the threshold (see the module notes).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "scorer": [InstanceOf(AnomalyScorer), None],
        "threshold": [InstanceOf(Threshold), None],
        "alarm": [InstanceOf(AlarmLogic), None],
        "guard": [InstanceOf(DataQualityGuard), Options(str, {"default"}), None],
        "events": [InstanceOf(EventMaker), None],
        "calibration": [Options(str, {"in_sample", "holdout"})],
    }
    _tags: ClassVar[dict[str, Any]] = {"iso_block": "detection", "multivariate": True}

    def __init__(
        self,
        scorer: AnomalyScorer | None = None,
        threshold: Threshold | None = None,
        alarm: AlarmLogic | None = None,
        guard: DataQualityGuard | str | None = "default",
        events: EventMaker | None = None,
        calibration: str = "in_sample",
    ) -> None:
        self.scorer = scorer
        self.threshold = threshold
        self.alarm = alarm
        self.guard = guard
        self.events = events
        self.calibration = calibration

    def fit(self, frame: object, y: object = None) -> Self:
        """Learn normal behaviour from a healthy period (table indexed by timestamps)."""
        self._validate_params()
        if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
            raise InputError("the healthy period must be a table indexed by timestamps")
        if len(frame) < 10:
            raise InputError(f"the healthy period has {len(frame)} rows; need at least 10")
        self.scorer_: AnomalyScorer = clone(self.scorer) if self.scorer else PCAMonitor()
        self.threshold_: Threshold = (
            clone(self.threshold) if self.threshold else POTThreshold(risk=1e-3)
        )
        self.alarm_: AlarmLogic = clone(self.alarm) if self.alarm else PersistenceAlarm()
        self.guard_: DataQualityGuard | None = (
            DataQualityGuard() if self.guard == "default" else
            (clone(self.guard) if isinstance(self.guard, DataQualityGuard) else None)
        )  # fmt: skip
        self.events_: EventMaker = self.events or AlarmEvents()
        train = frame.astype(np.float64)
        if self.guard_ is not None:
            self.guard_.fit(train)
            train = self.guard_.check(train).frame
        self.channels_: list[str] = [str(c) for c in train.columns]
        self.n_features_in_: int = len(self.channels_)
        self.feature_names_in_: list[str] = list(self.channels_)
        if self.calibration == "holdout":
            cut = round(0.75 * len(train))
            self.scorer_.fit(train.iloc[:cut])
            self.threshold_.fit(self.scorer_.score_samples(train.iloc[cut:]))
            self.scorer_.fit(train)
        else:
            self.scorer_.fit(train)
            self.threshold_.fit(self.scorer_.score_samples(train))
        self.alarm_.fit([0.0])
        return self

    def detect(
        self, frame: pd.DataFrame, *, asset_id: str = "unknown", model_id: str | None = None
    ) -> Detection:
        """Score a timestamped table and turn alarms into events (causal: each row is judged
        on the model and on the rows before it only). ``model_id``: this monitor's id in the
        store's model registry, written on every event."""
        check_is_fitted(self, "detect")
        if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
            raise InputError("data to score must be a table indexed by timestamps")
        quality: list[Event] = []
        mask = None
        data = frame
        if self.guard_ is not None:
            result = self.guard_.check(frame, asset_id=asset_id)
            data, mask, quality = result.frame, result.mask, result.events
            if model_id is not None:
                quality = [e.model_copy(update={"model_id": model_id}) for e in quality]
        else:
            missing = [c for c in self.channels_ if c not in frame.columns]
            if missing:
                raise InputError(f"channels {missing} are missing from the data to score")
            data = frame[self.channels_].astype(np.float64)
        scores = self.scorer_.score_samples(data)
        if isinstance(scores, np.ndarray):
            scores = pd.Series(scores, index=data.index, name="score")
        if mask is not None:
            # A step with every channel masked says nothing about the machine.
            scores = scores.where(~mask.all(axis=1))
        margins = self.threshold_.margin(scores.to_numpy())
        alarm = pd.Series(self.alarm_.predict(margins), index=data.index, name="alarm")
        contributions = None
        context: dict[str, Any] = {"threshold": self.threshold_.threshold_, "model_id": model_id}
        if hasattr(self.scorer_, "contributions"):
            contributions = self.scorer_.contributions(data)
            if hasattr(self.scorer_, "deviations"):
                context["deviations"] = self.scorer_.deviations(data)
        events = list(
            self.events_.make(
                alarm,
                asset_id=asset_id,
                source=type(self.scorer_).__name__,
                scores=scores,
                contributions=contributions,
                context=context,
            )
        )
        return Detection(
            scores=scores,
            threshold=float(self.threshold_.threshold_),
            alarm=alarm,
            contributions=contributions,
            events=events,
            quality_events=quality,
            mask=mask,
        )
