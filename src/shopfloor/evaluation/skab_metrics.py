"""SKAB's evaluation metrics: outlier F1 / FAR / MAR and the changepoint NAB score.

These follow the reference definitions in ``waico/SKAB`` (``core/metrics.py``, taken from the
TSAD package) as its notebooks call them, re-implemented here over timestamped 0/1 series:

* **Outlier metrics** (``metric="binary"``): true/false positives and negatives summed over all
  files, then ``F1 = TP / (TP + (FN + FP) / 2)``, ``FAR = 100 FP / (FP + TN)`` % and
  ``MAR = 100 FN / (FN + TP)`` %. F1 means little alone: on SKAB's test parts flagging every
  row scores F1 0.70, so FAR and MAR are always reported beside it.
* **NAB score** (``metric="nab"``): each true changepoint ``t`` opens a detection window; the
  leaderboard uses ``[t, t + 60 s]`` ("righter", window_width "60s"), and where windows overlap
  the right one is cut to start where the left one ends. In each window only the *first*
  predicted changepoint counts, scored by the scaled sigmoid
  ``A_fp + (A_tp - A_fp) / 2 * (1 - tanh(x) / tanh(pi / 2))``, ``x`` running from ``-pi/2`` at
  the window's start to ``pi/2`` at its end on a 1000-point grid, so an early detection earns
  almost ``A_tp``. A window with no prediction costs ``A_fn``; every predicted changepoint
  outside all windows costs ``A_fp``. Predictions inside a window after its first count for
  nothing. Scores are summed over files and normalised as
  ``100 (S - S_null) / (S_perfect - S_null)`` with ``S_null = n_windows A_fn`` and
  ``S_perfect = n_windows A_tp``. Profiles (A_tp, A_fp, A_fn): standard (1, -0.11, -1),
  low FP (1, -0.22, -1), low FN (1, -0.11, -2).

Results are rounded to two decimals as the reference prints them; the unrounded values are
returned too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.errors import InputError

__all__ = [
    "NAB_PROFILES",
    "NabResult",
    "OutlierResult",
    "changepoints_from_alarms",
    "detection_windows",
    "nab_score",
    "outlier_metrics",
]

#: (A_tp, A_fp, A_fn) of the three NAB application profiles, as in SKAB's reference table.
NAB_PROFILES: dict[str, tuple[float, float, float]] = {
    "standard": (1.0, -0.11, -1.0),
    "low_fp": (1.0, -0.22, -1.0),
    "low_fn": (1.0, -0.11, -2.0),
}
_GRID = 1000  # the reference's "detalization" of the scoring sigmoid


@dataclass(frozen=True)
class OutlierResult:
    """Point-wise outlier metrics summed over files: F1 (0..1), FAR and MAR in %."""

    f1: float
    far: float
    mar: float
    tp: int
    tn: int
    fp: int
    fn: int

    def rounded(self) -> dict[str, float]:
        """F1, FAR and MAR rounded to two decimals, as the SKAB leaderboard prints them."""
        return {"f1": round(self.f1, 2), "far": round(self.far, 2), "mar": round(self.mar, 2)}


@dataclass(frozen=True)
class NabResult:
    """NAB scores (0 = null detector, 100 = perfect) and the counts behind them."""

    standard: float
    low_fp: float
    low_fn: float
    n_changepoints: int
    missed: int
    false_positives: int
    detected_delays_s: tuple[float, ...]

    def rounded(self) -> dict[str, float]:
        return {
            "nab_standard": round(self.standard, 2),
            "nab_low_fp": round(self.low_fp, 2),
            "nab_low_fn": round(self.low_fn, 2),
        }


def _binary(series: pd.Series, what: str, i: int) -> npt.NDArray[np.bool_]:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    known = values[~np.isnan(values)]
    if not np.isin(known, (0.0, 1.0)).all():
        bad = known[~np.isin(known, (0.0, 1.0))][0]
        raise InputError(f"{what} of file {i} must be 0/1, got {bad!r}")
    # The reference compares ``== 1``: a missing prediction is not an alarm.
    out: npt.NDArray[np.bool_] = values == 1.0
    return out


def _pairs(
    truth: Sequence[pd.Series], prediction: Sequence[pd.Series]
) -> list[tuple[pd.Series, pd.Series]]:
    if len(truth) != len(prediction):
        raise InputError(f"{len(truth)} truth series but {len(prediction)} prediction series")
    for i, (t, p) in enumerate(zip(truth, prediction, strict=True)):
        if len(t) != len(p) or not t.index.equals(p.index):
            raise InputError(f"file {i}: truth and prediction must share one index")
        if not t.index.is_monotonic_increasing or t.index.has_duplicates:
            raise InputError(f"file {i}: the index must increase strictly")
    return list(zip(truth, prediction, strict=True))


def outlier_metrics(truth: Sequence[pd.Series], prediction: Sequence[pd.Series]) -> OutlierResult:
    """F1, FAR (%) and MAR (%) over all rows of all files (SKAB ``metric="binary"``).

    Parameters
    ----------
    truth, prediction
        One 0/1 series per file, sharing an index (NaN in a prediction counts as 0).
    """
    tp = tn = fp = fn = 0
    for i, (t, p) in enumerate(_pairs(truth, prediction)):
        yt, yp = _binary(t, "truth", i), _binary(p, "prediction", i)
        tp += int((yt & yp).sum())
        tn += int((~yt & ~yp).sum())
        fp += int((~yt & yp).sum())
        fn += int((yt & ~yp).sum())
    f1 = tp / (tp + (fn + fp) / 2) if tp + fn + fp else 1.0
    far = 100.0 * fp / (fp + tn) if fp + tn else 0.0
    mar = 100.0 * fn / (fn + tp) if fn + tp else 0.0
    return OutlierResult(f1=f1, far=far, mar=mar, tp=tp, tn=tn, fp=fp, fn=fn)


def changepoints_from_alarms(alarm: pd.Series) -> pd.Series:
    """Predicted changepoints from a 0/1 alarm series: 1 where it switches on or off.

    The SKAB notebooks take ``abs(prediction.diff())`` with the first row set to the first
    prediction, so both edges of an alarm count as changepoints.
    """
    values = alarm.fillna(0).to_numpy(dtype=np.float64)
    edges = np.abs(np.diff(values, prepend=0.0))
    return pd.Series(edges, index=alarm.index, name="changepoint")


def _seconds(index: pd.Index) -> npt.NDArray[np.int64]:
    if isinstance(index, pd.DatetimeIndex):
        # Integer nanoseconds keep the window arithmetic exact, as pandas' Timedelta does.
        out: npt.NDArray[np.int64] = index.as_unit("ns").asi8.astype(np.int64)
        return out
    raise InputError("changepoint series need a DatetimeIndex (the window width is in seconds)")


def detection_windows(changepoints: npt.NDArray[np.int64], width_ns: int) -> list[tuple[int, int]]:
    """Right-side windows ``[t, t + width]`` (ns); overlaps cut the right window (reference
    ``intersection_mode="cut right window"``)."""
    windows = [[int(t), int(t) + width_ns] for t in changepoints]
    for i in range(len(windows) - 1):
        if windows[i][1] >= windows[i + 1][0]:
            windows[i + 1][0] = windows[i][1]
    return [(a, b) for a, b in windows]


def _sigmoid_score(start: int, hit: int, end: int, a_tp: float, a_fp: float) -> float:
    x = np.linspace(-np.pi / 2, np.pi / 2, _GRID)
    # A zero-width window (fully cut) has only its start; count the hit as immediate.
    event = 0 if end == start else int((hit - start) / (end - start) * _GRID)
    event = min(event, _GRID - 1)
    y = (a_tp - a_fp) / 2 * -np.tanh(x[event]) / np.tanh(np.pi / 2) + (a_tp - a_fp) / 2 + a_fp
    return float(y)


def nab_score(
    truth: Sequence[pd.Series], prediction: Sequence[pd.Series], window_s: float = 60.0
) -> NabResult:
    """NAB standard / low-FP / low-FN scores for changepoint detection (SKAB leaderboard).

    Parameters
    ----------
    truth, prediction
        One 0/1 changepoint series per file on a shared DatetimeIndex.
    window_s
        Width of the detection window to the right of each true changepoint, in seconds.
    """
    if not (window_s > 0 and math.isfinite(window_s)):
        raise InputError(f"window_s must be a positive number of seconds, got {window_s!r}")
    width_ns = round(window_s * 1e9)
    totals = {name: [0.0, 0.0, 0.0] for name in NAB_PROFILES}  # score, null, perfect
    n_cp = missed = false_pos = 0
    delays: list[float] = []
    for i, (t, p) in enumerate(_pairs(truth, prediction)):
        times = _seconds(t.index)
        cps = times[_binary(t, "truth", i)]
        hits = times[_binary(p, "prediction", i)]
        windows = detection_windows(cps, width_ns)
        inside = np.zeros(hits.size, dtype=bool)
        first_hits: list[tuple[int, int, int]] = []
        for start, end in windows:
            in_window = (hits >= start) & (hits <= end)
            inside |= in_window
            if in_window.any():
                first_hits.append((start, int(hits[in_window][0]), end))
                delays.append((int(hits[in_window][0]) - start) / 1e9)
            else:
                missed += 1
        n_fp = int((~inside).sum())
        false_pos += n_fp
        n_cp += len(windows)
        for name, (a_tp, a_fp, a_fn) in NAB_PROFILES.items():
            score = a_fp * n_fp + a_fn * (len(windows) - len(first_hits))
            score += sum(_sigmoid_score(s, h, e, a_tp, a_fp) for s, h, e in first_hits)
            totals[name][0] += score
            totals[name][1] += len(windows) * a_fn
            totals[name][2] += len(windows) * a_tp
    norm: dict[str, Any] = {}
    for name, (score, null, perfect) in totals.items():
        norm[name] = 100.0 * (score - null) / (perfect - null) if perfect != null else 0.0
    return NabResult(
        standard=norm["standard"],
        low_fp=norm["low_fp"],
        low_fn=norm["low_fn"],
        n_changepoints=n_cp,
        missed=missed,
        false_positives=false_pos,
        detected_delays_s=tuple(delays),
    )
