"""From alarms to events: what leaves detection is an :class:`~shopfloor.core.events.Event`.

Each run of consecutive alarm steps becomes one ANOMALY event with its asset, start and end
(wall-clock times from the scores' DatetimeIndex; ``end`` is None while the alarm is still on
at the last step), a severity from how far the score went past its threshold, the model that
raised it, and the channels that drove it: their share of the score over the interval and how
far each moved from normal, in its own unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from shopfloor.core.detection_roles import EventMaker
from shopfloor.core.errors import InputError
from shopfloor.core.events import Event, EventKind
from shopfloor.core.severity_scale import from_anomaly_level

__all__ = ["AlarmEvents", "alarm_runs", "to_datetime_index"]


def to_datetime_index(index: pd.Index, origin: datetime | None = None) -> pd.DatetimeIndex:
    """Wall-clock times of rows: a DatetimeIndex as it is, or seconds since ``origin``.

    Recordings with a TIMESTAMPS time base carry seconds from their start (``TimeBase.start``);
    events need datetimes, so this is the one place that converts.
    """
    if isinstance(index, pd.DatetimeIndex):
        return index
    if origin is None:
        raise InputError("row times are seconds, not datetimes: give the recording's start time")
    seconds = pd.to_numeric(pd.Series(index), errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(seconds).any():
        raise InputError("row times must be numbers of seconds from the recording's start")
    return pd.DatetimeIndex(pd.Timestamp(origin) + pd.to_timedelta(seconds, unit="s"))


def alarm_runs(alarm: pd.Series) -> list[tuple[int, int]]:
    """``(first, last)`` row positions of each run of 1 in a 0/1 series (inclusive)."""
    on = np.asarray(alarm.fillna(0).to_numpy(dtype=np.float64) == 1.0, dtype=np.int8)
    edges = np.diff(np.concatenate(([0], on, [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


class AlarmEvents(EventMaker):
    """One ANOMALY event per alarm interval, with contributing channels as evidence.

    Parameters
    ----------
    top_channels : int, default 3
        How many channels, by share of the score, are named in the evidence.
    critical_ratio : float, default 3.0
        Peak score over threshold from which an event is CRITICAL rather than an ALARM.
    """

    def __init__(self, top_channels: int = 3, critical_ratio: float = 3.0) -> None:
        self.top_channels = top_channels
        self.critical_ratio = critical_ratio

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
        """Events for the alarm intervals of ``alarm`` (0/1 on a DatetimeIndex).

        ``context`` may hold ``threshold`` (score units), ``deviations`` (a DataFrame of
        departures from normal in channel units, same index), ``units`` ({channel: unit}) and
        ``model_id`` (the registered model that raised the alarm).

        Severity is an anomaly level on the one scale (:mod:`shopfloor.core.severity_scale`):
        an alarm is a threshold crossing that persisted, level ``high``; a peak at least
        ``critical_ratio`` times the threshold is ``extreme``. Events of one asset and model
        share a ``dedup_key``, so the store folds a repeat into the open event.
        """
        if not isinstance(alarm.index, pd.DatetimeIndex):
            raise InputError("alarm series needs a DatetimeIndex; see to_datetime_index")
        ctx = dict(context or {})
        threshold = ctx.get("threshold")
        deviations: pd.DataFrame | None = ctx.get("deviations")
        units: Mapping[str, str] = ctx.get("units", {})
        model_id: str | None = ctx.get("model_id")
        events = []
        last_row = len(alarm) - 1
        for first, last in alarm_runs(alarm):
            start = alarm.index[first].to_pydatetime()
            end = None if last == last_row else alarm.index[last].to_pydatetime()
            evidence: dict[str, Any] = {"n_steps": last - first + 1}
            level = "high"
            if scores is not None:
                window = scores.iloc[first : last + 1]
                peak = float(np.nanmax(window.to_numpy())) if window.notna().any() else None
                evidence["peak_score"] = peak
                if threshold is not None and peak is not None:
                    evidence["threshold"] = float(threshold)
                    ratio = peak / float(threshold) if threshold else float("inf")
                    level = "extreme" if ratio >= self.critical_ratio else "high"
            if contributions is not None:
                evidence["channels"] = self._channels(
                    contributions.iloc[first : last + 1],
                    None if deviations is None else deviations.iloc[first : last + 1],
                    units,
                )
            evidence["level"] = level
            names = [c["channel"] for c in evidence.get("channels", [])]
            summary = "anomaly" + (f" driven by {', '.join(names)}" if names else "")
            events.append(
                Event(
                    asset_id=asset_id,
                    kind=EventKind.ANOMALY,
                    start=start,
                    end=end,
                    severity=from_anomaly_level(level),
                    summary=summary,
                    evidence=evidence,
                    source=source,
                    model_id=model_id,
                    channel_id=names[0] if names else None,
                    dedup_key=f"{asset_id}/anomaly/{model_id or source}",
                )
            )
        return events

    def _channels(
        self, contrib: pd.DataFrame, dev: pd.DataFrame | None, units: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        mean = contrib.clip(lower=0.0).mean(axis=0)
        total = float(mean.sum())
        out = []
        for name in mean.sort_values(ascending=False).index[: self.top_channels]:
            item: dict[str, Any] = {
                "channel": str(name),
                "share": float(mean[name] / total) if total > 0 else 0.0,
            }
            if dev is not None and name in dev.columns:
                item["deviation"] = float(dev[name].mean())
                item["unit"] = units.get(str(name), "")
            out.append(item)
        return out
