"""Re-baseline a registered anomaly monitor from the plant's own verdicts on its alerts.

Operators close every alert as *confirmed* (something was wrong) or *false alarm* (the machine
was fine). A false alarm says the monitor's idea of normal was too narrow: the machine
behaved like that and was healthy (a new load, a new season, after maintenance). A confirmed
alert says that period was not normal. :func:`rebaseline` therefore fits a fresh copy of the
monitor (same scorer, threshold, alarm logic and guard, same hyperparameters) on

    the original healthy period  +  every period closed as false alarm  -  every period
    closed as confirmed

of the asset's stored data, and registers it in the store's model registry as a new version
that records its parent, so it can be compared with the parent and rolled back to it.

The comparison (:class:`Rebaseline.comparison`) replays both versions over the asset's stored
data and counts, per version, the labelled periods in which it alarms. For the new version the
false-alarm periods are part of its training data, so that count is in-sample and named so;
the confirmed periods never are, so "still catches what operators confirmed" is a fair check.
Precision on new alerts accrues on the model page as operators close them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from sklearn.base import clone

from shopfloor.core.errors import InputError

if TYPE_CHECKING:
    from shopfloor.core.store import Store
    from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor

__all__ = ["Rebaseline", "labelled_periods", "rebaseline"]


@dataclass
class Rebaseline:
    """What :func:`rebaseline` made: the new model id and how it compares with its parent."""

    parent_id: str
    model_id: str
    asset_id: str
    healthy_rows: int
    added: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    comparison: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def labelled_periods(store: Store, asset_id: str) -> pd.DataFrame:
    """The asset's operator verdicts: one row per closed alert with ``start``, ``end`` (UTC;
    ``end`` is the start for an instant) and ``label`` (confirmed / false_alarm)."""
    labels = store.feedback_labels(asset_id)
    if labels.empty:
        return pd.DataFrame(columns=["event_id", "start", "end", "label"])
    start = pd.to_datetime(labels["start"], utc=True, format="ISO8601")
    end = pd.to_datetime(labels["end"].fillna(labels["start"]), utc=True, format="ISO8601")
    return pd.DataFrame(
        {"event_id": labels["event_id"], "start": start, "end": end, "label": labels["label"]}
    )


def _inside(index: pd.DatetimeIndex, periods: pd.DataFrame) -> pd.Series:
    hit = pd.Series(False, index=index)
    for start, end in zip(periods["start"], periods["end"], strict=True):
        hit |= (index >= start) & (index <= end)
    return hit


def _alarming(monitor: AnomalyMonitor, frame: pd.DataFrame, periods: pd.DataFrame) -> list[bool]:
    alarm = monitor.detect(frame).alarm.astype(bool)
    return [
        bool(alarm[(alarm.index >= s) & (alarm.index <= e)].any())
        for s, e in zip(periods["start"], periods["end"], strict=True)
    ]


def _utc(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def rebaseline(store: Store, model_id: str, *, who: str) -> Rebaseline:
    """Fit a new version of registered monitor ``model_id`` on its healthy period widened by
    the false-alarm periods and narrowed by the confirmed ones; register it (parent recorded)
    and return the comparison. Needs the store's writer.

    The parent is loaded as trusted: it is a file this store registered, and the registry
    refuses it unless its sha256 still matches the one recorded then.

    Raises
    ------
    InputError
        The model is not an anomaly monitor, was not fitted on a stored asset, or the asset
        has no operator verdicts yet (nothing to learn from).
    """
    from shopfloor.core import persistence
    from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor
    from shopfloor.pipelines.anomaly_registry import (
        feature_config,
        healthy_metrics,
        training_reference,
    )
    from shopfloor.pipelines.detect import read_asset

    if not who.strip():
        raise InputError("say who re-baselines: the registry records the author", column="who")
    record = persistence.read_record(store.model_path(model_id))
    parent = store.load_model(model_id, trusted=True)
    if not isinstance(parent, AnomalyMonitor):
        raise InputError(
            f"model {model_id} is a {type(parent).__name__}; re-baselining needs an anomaly "
            "monitor (shopfloor detect registers them)",
            column="model_id",
        )
    window = record.training_window
    asset_id = window.source if window is not None else None
    if window is None or window.start is None or window.end is None or not asset_id:
        raise InputError(f"model {model_id} does not record its healthy period", column="model_id")
    if not store.has_asset(asset_id):
        raise InputError(
            f"model {model_id} was fitted on {asset_id!r}, which is not a stored asset; "
            "re-baselining needs the data in the store",
            column="model_id",
        )
    periods = labelled_periods(store, asset_id)
    if periods.empty:
        raise InputError(
            f"{asset_id}: no alert has been closed as confirmed or false alarm yet; "
            "there is nothing to re-baseline from",
            column="model_id",
        )
    frame = read_asset(store, asset_id)
    index = _utc(frame.index)
    frame = frame.set_axis(index, axis=0)
    false = periods[periods["label"] == "false_alarm"]
    confirmed = periods[periods["label"] == "confirmed"]
    original = (index >= pd.Timestamp(window.start)) & (index <= pd.Timestamp(window.end))
    keep = (pd.Series(original, index=index) | _inside(index, false)) & ~_inside(index, confirmed)
    healthy = frame[keep.to_numpy()]
    if len(healthy) < 10:
        raise InputError(
            f"{asset_id}: {len(healthy)} healthy rows after the verdicts; need at least 10",
            column="model_id",
        )
    child: AnomalyMonitor = clone(parent).fit(healthy)

    comparison: dict[str, dict[str, float | None]] = {}
    for version, monitor in (("parent", parent), ("new", child)):
        caught = _alarming(monitor, frame, confirmed)
        still = _alarming(monitor, frame, false)
        comparison[version] = {
            "confirmed_periods": float(len(caught)),
            "confirmed_periods_alarmed": float(sum(caught)),
            "false_alarm_periods": float(len(still)),
            "false_alarm_periods_alarmed" + ("_in_sample" if version == "new" else ""): float(
                sum(still)
            ),
            "alarm_events_on_stored_data": float(len(monitor.detect(frame).events)),
        }

    source = f"{asset_id} (re-baselined from {model_id})"
    path = store.home / ".staging" / f"rebaseline-{os.getpid()}-{model_id}.sfmodel"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        persistence.save(
            child,
            path,
            training_window=persistence.TrainingWindow.from_index(healthy.index, source=asset_id),
        )
        config = {
            **feature_config(child),
            "parent_model_id": model_id,
            "rebaseline": {
                "false_alarm_events": list(false["event_id"]),
                "confirmed_events": list(confirmed["event_id"]),
                "rule": "original healthy period + false-alarm periods - confirmed periods",
            },
        }
        metrics = {
            **healthy_metrics(child, healthy),
            **{f"new_{k}": v for k, v in comparison["new"].items() if v is not None},
            **{f"parent_{k}": v for k, v in comparison["parent"].items() if v is not None},
        }
        family = next((m["name"] for m in store.models() if m["id"] == model_id), None)
        new_id = store.register_model(
            path,
            name=str(family or f"anomaly-monitor/{asset_id}"),
            created_by=who,
            feature_config=config,
            training_data=training_reference(source, healthy),
            metrics=metrics,
        )
    finally:
        path.unlink(missing_ok=True)

    def spans(p: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {"event_id": e, "start": s.isoformat(), "end": t.isoformat()}
            for e, s, t in zip(p["event_id"], p["start"], p["end"], strict=True)
        ]

    return Rebaseline(
        parent_id=model_id,
        model_id=new_id,
        asset_id=asset_id,
        healthy_rows=len(healthy),
        added=spans(false),
        excluded=spans(confirmed),
        comparison=comparison,
    )
