"""Data-quality guardrails that run before any model.

A broken sensor is not a broken machine. :class:`DataQualityGuard` learns from normal data
what each channel looks like (range, longest flat stretch, sample period) and then, on new
data, *masks* what cannot be trusted (sets it to NaN, which every detector treats as "not
scored") and reports it as a data-quality event instead of letting it raise anomalies:

===================  ==========================================================  ============
check                rule                                                        action
===================  ==========================================================  ============
missing              NaN values, or a channel absent from the table              mask + event
stuck                the value repeats exactly for ``max(stuck_min_steps,        mask + event
                     stuck_factor × longest repeat seen in training)`` steps
out_of_range         outside the channel's stated ``limits`` (sensor or physical  mask + event
                     range), or, if ``range_factor`` is set, beyond the training
                     range by more than ``range_factor`` times its span
unknown_channel      a channel never seen in training                            ignored + event
duplicate            a timestamp repeated (the first row is kept)                drop + event
out_of_order         a timestamp earlier than the one before                     rejected
gap / clock_jump     a step over ``gap_factor`` × the normal period / over        event
                     ``clock_jump_s`` seconds
rate_change          the median step over ``rate_window`` rows differs from the   event
                     normal period by more than a factor ``rate_factor``
===================  ==========================================================  ============

Consecutive findings of one kind on one channel closer than ``merge_steps`` rows become one
event, so a flickering sensor gives one event, not a flood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import FloatArray, Interval, Transformer, check_is_fitted
from shopfloor.core.errors import InputError
from shopfloor.core.events import Event, EventKind, Severity

__all__ = ["DataQualityGuard", "GuardResult"]


@dataclass
class GuardResult:
    """What the guard did to a table: the cleaned table, the mask and the events."""

    frame: pd.DataFrame
    mask: pd.DataFrame
    events: list[Event] = field(default_factory=list)


def _runs(flags: npt.NDArray[np.bool_], merge: int) -> list[tuple[int, int]]:
    """(first, last) positions of runs of True, merging runs less than ``merge`` apart."""
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > merge)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _repeat_lengths(col: FloatArray) -> npt.NDArray[np.int64]:
    """For each row, how many rows in a row (ending here) hold exactly this value."""
    same = np.concatenate(([False], col[1:] == col[:-1]))
    out = np.zeros(col.size, dtype=np.int64)
    run = 0
    for i, s in enumerate(same):
        run = run + 1 if s else 1
        out[i] = run
    return out


class DataQualityGuard(Transformer):
    """Learns normal ranges, flat stretches and sample period; masks and reports bad data.

    ``transform`` masks (NaN) stuck, out-of-range and missing values of an array or table
    with the training columns; :meth:`check` does that for a timestamped table and adds the
    time checks and the events.

    Parameters
    ----------
    limits : dict of channel -> (low, high) or None, default None
        Physically possible range of each channel, in its unit (from the sensor's data sheet
        or the asset's channel metadata). Values outside are sensor faults.
    range_factor : float > 0 or None, default None
        If set, values farther than ``range_factor × span`` outside the training range are
        also implausible. Off by default: a learned range cannot tell a failing sensor from a
        failing machine, and masking the latter would hide the very anomaly to be found.
    stuck_factor : float >= 1, default 3.0
        A repeat longer than this many times the longest repeat seen in training is stuck.
    stuck_min_steps : int >= 2, default 30
        Never call a channel stuck before this many identical values in a row.
    gap_factor : float > 1, default 5.0
        A step longer than this many normal periods is a gap.
    clock_jump_s : float > 0, default 3600
        A forward step longer than this is a clock jump (reported as such).
    rate_factor : float > 1, default 1.5
        The sample rate has changed when the median step moves by more than this factor.
    rate_window : int >= 3, default 60
        Rows over which the median step is taken.
    merge_steps : int >= 0, default 10
        Findings closer than this many rows make one event.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "limits": [dict, None],
        "range_factor": [Interval(float, 0.0, None, closed="neither"), None],
        "stuck_factor": [Interval(float, 1.0, None, closed="left")],
        "stuck_min_steps": [Interval(int, 2, None, closed="left")],
        "gap_factor": [Interval(float, 1.0, None, closed="neither")],
        "clock_jump_s": [Interval(float, 0.0, None, closed="neither")],
        "rate_factor": [Interval(float, 1.0, None, closed="neither")],
        "rate_window": [Interval(int, 3, None, closed="left")],
        "merge_steps": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "detection",
        "input_kind": "table",
        "multivariate": True,
        "handles_missing": True,
    }

    def __init__(
        self,
        limits: dict[str, tuple[float, float]] | None = None,
        range_factor: float | None = None,
        stuck_factor: float = 3.0,
        stuck_min_steps: int = 30,
        gap_factor: float = 5.0,
        clock_jump_s: float = 3600.0,
        rate_factor: float = 1.5,
        rate_window: int = 60,
        merge_steps: int = 10,
    ) -> None:
        self.limits = limits
        self.range_factor = range_factor
        self.stuck_factor = stuck_factor
        self.stuck_min_steps = stuck_min_steps
        self.gap_factor = gap_factor
        self.clock_jump_s = clock_jump_s
        self.rate_factor = rate_factor
        self.rate_window = rate_window
        self.merge_steps = merge_steps

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        self.channels_: list[str] = (
            list(self.feature_names_in_)
            if hasattr(self, "feature_names_in_")
            else [str(i) for i in range(x.shape[1])]
        )
        lo = np.nanmin(np.where(np.isnan(x), np.inf, x), axis=0)
        hi = np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=0)
        if not np.isfinite(lo).all():
            empty = [c for c, v in zip(self.channels_, lo, strict=True) if not np.isfinite(v)]
            raise InputError(f"DataQualityGuard: channels {empty} have no values in training")
        span = np.maximum(hi - lo, 1e-9 * np.maximum(1.0, np.abs(hi)))
        factor = np.inf if self.range_factor is None else self.range_factor
        with np.errstate(invalid="ignore"):
            self.low_: FloatArray = np.where(np.isinf(factor), -np.inf, lo - factor * span)
            self.high_: FloatArray = np.where(np.isinf(factor), np.inf, hi + factor * span)
        for name, (low, high) in (self.limits or {}).items():
            if name in self.channels_:
                j = self.channels_.index(name)
                self.low_[j] = max(self.low_[j], float(low))
                self.high_[j] = min(self.high_[j], float(high))
        longest = np.array([_repeat_lengths(x[:, j]).max() for j in range(x.shape[1])])
        self.stuck_steps_: npt.NDArray[np.int64] = np.maximum(
            self.stuck_min_steps, np.ceil(self.stuck_factor * longest)
        ).astype(np.int64)
        self.period_s_: float | None = None

    def fit(self, x: object, y: object = None) -> Self:
        """Learn ranges and flat stretches (and, for a timestamped table, the sample period)."""
        super().fit(x, y)
        if isinstance(x, pd.DataFrame) and isinstance(x.index, pd.DatetimeIndex) and len(x) > 1:
            steps = np.diff(x.index.as_unit("ns").asi8) / 1e9
            steps = steps[steps > 0]
            self.period_s_ = float(np.median(steps)) if steps.size else None
        return self

    def _masks(self, x: FloatArray) -> dict[str, npt.NDArray[np.bool_]]:
        stuck = np.zeros(x.shape, dtype=bool)
        for j in range(x.shape[1]):
            rep = _repeat_lengths(x[:, j])
            hit = np.flatnonzero(rep >= self.stuck_steps_[j])
            for end in hit:  # mask the whole flat stretch, from its first row
                stuck[end - rep[end] + 1 : end + 1, j] = True
        with np.errstate(invalid="ignore"):
            out_of_range = (x < self.low_) | (x > self.high_)
        return {"missing": np.isnan(x), "stuck": stuck, "out_of_range": out_of_range}

    def _transform(self, x: FloatArray) -> FloatArray:
        bad = np.zeros(x.shape, dtype=bool)
        for m in self._masks(x).values():
            bad |= m
        return np.where(bad, np.nan, x)

    def _feature_names_out(self) -> list[str] | None:
        return list(self.channels_)

    # --- timestamped tables --------------------------------------------------------------

    def check(self, frame: pd.DataFrame, *, asset_id: str = "", source: str = "") -> GuardResult:
        """Clean a timestamped table: reject disorder, drop duplicate times, align channels,
        mask bad values; report every finding as a data-quality event.

        Raises
        ------
        InputError
            When timestamps go backwards (naming the row) or the index is not a DatetimeIndex.
        """
        check_is_fitted(self, "check")
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise InputError("DataQualityGuard.check needs a table indexed by timestamps")
        events: list[Event] = []
        where = source or "input"

        def event(check: str, start: Any, end: Any, channel: str | None, **more: Any) -> None:
            evidence = {"category": "data_quality", "check": check, "channel": channel, **more}
            what = f"data quality: {check}" + (f" on {channel}" if channel else "")
            asset = asset_id or "unknown"
            events.append(
                Event(
                    asset_id=asset,
                    kind=EventKind.DATA_QUALITY,
                    start=pd.Timestamp(start).to_pydatetime(),
                    end=pd.Timestamp(end).to_pydatetime(),
                    severity=Severity.WARNING,
                    summary=what,
                    evidence=evidence,
                    source=type(self).__name__,
                    channel_id=channel,
                    # The same check on the same channel folds into the open event.
                    dedup_key=f"{asset}/data_quality/{check}/{channel or '*'}",
                )
            )

        ns = frame.index.as_unit("ns").asi8
        back = np.flatnonzero(np.diff(ns) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise InputError(
                f"timestamps go backwards at row {i} ({frame.index[i]} after "
                f"{frame.index[i - 1]}); sort the data or fix the clock",
                source=where,
            )
        dup = frame.index.duplicated(keep="first")
        for a, b in _runs(dup, self.merge_steps):
            event(
                "duplicate", frame.index[a], frame.index[b], None, n_rows=int(dup[a : b + 1].sum())
            )
        frame = frame[~dup]
        unknown = [str(c) for c in frame.columns if str(c) not in self.channels_]
        for name in unknown:
            event("unknown_channel", frame.index[0], frame.index[-1], name)
        aligned = pd.DataFrame(
            {c: frame[c] if c in frame.columns else np.nan for c in self.channels_},
            index=frame.index,
        ).astype(np.float64)
        for name in self.channels_:
            if name not in frame.columns:
                event("missing_channel", frame.index[0], frame.index[-1], name)
        x = aligned.to_numpy()
        masks = self._masks(x)
        bad = np.zeros(x.shape, dtype=bool)
        for check, m in masks.items():
            bad |= m
            for j, name in enumerate(self.channels_):
                if check == "missing" and name not in frame.columns:
                    continue  # already reported as a missing channel
                for a, b in _runs(m[:, j], self.merge_steps):
                    event(
                        check,
                        aligned.index[a],
                        aligned.index[b],
                        name,
                        n_rows=int(m[a : b + 1, j].sum()),
                    )
        events.extend(self._time_events(pd.DatetimeIndex(aligned.index), event))
        cleaned = aligned.mask(bad)
        return GuardResult(
            cleaned, pd.DataFrame(bad, index=aligned.index, columns=self.channels_), events
        )

    def _time_events(self, index: pd.DatetimeIndex, event: Any) -> list[Event]:
        if self.period_s_ is None or len(index) < 2:
            return []
        steps = np.diff(index.as_unit("ns").asi8) / 1e9
        for i in np.flatnonzero(steps > self.gap_factor * self.period_s_):
            check = "clock_jump" if steps[i] > self.clock_jump_s else "gap"
            event(check, index[int(i)], index[int(i) + 1], None, seconds=float(steps[i]))
        if steps.size >= self.rate_window:
            med = pd.Series(steps).rolling(self.rate_window).median().to_numpy()
            ratio = med / self.period_s_
            off = (ratio > self.rate_factor) | (ratio < 1.0 / self.rate_factor)
            for a, b in _runs(np.nan_to_num(off, nan=0).astype(bool), self.merge_steps):
                event(
                    "rate_change",
                    index[a],
                    index[b + 1],
                    None,
                    median_step_s=float(np.nanmedian(med[a : b + 1])),
                    normal_step_s=self.period_s_,
                )
        return []
