"""MSET-style similarity and the isolation-forest baseline.

:class:`SimilarityMonitor` follows the multivariate state estimation idea (Gross et al.,
MSET; in the auto-associative kernel regression form of Hines & Garvey): a memory of normal
states is kept, each new state is *estimated* as a similarity-weighted mix of the remembered
states, and the score is the size of the estimation residual. A state the memory cannot
reproduce (a new combination of values) gets a large residual even when each channel alone
is within its normal range. The residual of each channel is the per-channel contribution.
Streaming: ``learn_one`` adds a complete row to the rows the memory is chosen from (all, or the
last ``window``) and the memory is rebuilt lazily before the next score, so the live service
gets exactly the model ``fit`` gives on the same rows; ``score_one`` scores one state.

:class:`IsolationForestScorer` wraps scikit-learn's isolation forest (Liu et al. 2008) with
the shopfloor contract; its score is the negated ``score_samples`` (higher = more abnormal).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import (
    AnomalyScorer,
    FloatArray,
    Interval,
    StreamingMixin,
    check_is_fitted,
)
from shopfloor.core.errors import InputError

__all__ = ["IsolationForestScorer", "SimilarityMonitor"]


class SimilarityMonitor(StreamingMixin, AnomalyScorer):
    """Kernel-regression state estimation over a memory of normal states (MSET/AAKR).

    Parameters
    ----------
    memory_size : int >= 2, default 200
        Remembered states: every channel's minimum and maximum state plus evenly spaced rows
        of the training data (Gross & Singer's min-max selection), up to this many.
    bandwidth : float > 0, default 1.0
        Gaussian kernel width in standard deviations of the (standardised) channels.
    window : int >= 2 or None, default None
        Choose the memory from the last ``window`` complete rows only (bounds a live
        service's memory); None keeps every row.

    Attributes
    ----------
    memory_ : ndarray (n_states, n_channels)
        Remembered states, standardised.
    mean_, scale_ : ndarray
        Standardisation of each channel (channel units).
    residual_scale_ : ndarray
        RMS estimation residual of each channel on the training rows (leave-one-out), which
        puts the score in units of normal residual.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "memory_size": [Interval(int, 2, None, closed="left")],
        "bandwidth": [Interval(float, 0.0, None, closed="neither")],
        "window": [Interval(int, 2, None, closed="left"), None],
    }
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True, "handles_missing": True}

    def __init__(
        self, memory_size: int = 200, bandwidth: float = 1.0, window: int | None = None
    ) -> None:
        self.memory_size = memory_size
        self.bandwidth = bandwidth
        self.window = window

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{}, {"memory_size": 10, "window": 40}]

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        self.channels_: list[str] = self._channel_names(x.shape[1])
        self._rows: deque[FloatArray] = deque(x[~np.isnan(x).any(axis=1)], maxlen=self.window)
        self._fit_rows(np.asarray(self._rows))

    def _learn_one(self, x: dict[str, float]) -> None:
        if "channels_" not in vars(self):
            self.channels_ = sorted(k for k, v in x.items() if not math.isnan(v)) or sorted(x)
            self._rows = deque(maxlen=self.window)
        row = np.array([x.get(c, math.nan) for c in self.channels_])
        if np.isnan(row).any():  # as in fit: only complete states are remembered
            self.n_skipped_: int = vars(self).get("n_skipped_", 0) + 1
            return
        self._rows.append(row)
        self._dirty = True

    def _ready(self) -> None:
        if vars(self).get("_dirty", False):
            self._fit_rows(np.asarray(self._rows))

    def _fit_rows(self, x: FloatArray) -> None:
        if len(x) < 2:
            raise InputError(f"SimilarityMonitor: {len(x)} complete rows, need at least 2")
        self._dirty = False
        self.mean_: FloatArray = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale_: FloatArray = np.where(std > 0, std, 1e-6 * (1.0 + np.abs(self.mean_)))
        z = (x - self.mean_) / self.scale_
        extremes = np.unique(np.concatenate((z.argmin(axis=0), z.argmax(axis=0))))
        n_even = max(self.memory_size - extremes.size, 0)
        even = np.linspace(0, len(z) - 1, min(n_even, len(z))).round().astype(int)
        chosen = np.unique(np.concatenate((extremes, even)))[: self.memory_size]
        self.memory_: FloatArray = z[chosen]
        # Leave-one-out residuals on training rows: a remembered row would estimate itself.
        est = self._estimate(z, exclude_self=chosen)
        self.residual_scale_: FloatArray = np.maximum(
            np.sqrt(np.mean((z - est) ** 2, axis=0)), 1e-3
        )

    def _estimate(self, z: FloatArray, exclude_self: npt.NDArray[Any] | None = None) -> FloatArray:
        d2 = ((z[:, None, :] - self.memory_[None, :, :]) ** 2).sum(axis=2)
        if exclude_self is not None:
            rows = np.searchsorted(exclude_self, np.arange(len(z)))
            hit = (rows < len(exclude_self)) & (
                exclude_self[np.minimum(rows, len(exclude_self) - 1)] == np.arange(len(z))
            )
            d2[np.flatnonzero(hit), rows[hit]] = np.inf
        logw = -d2 / (2.0 * self.bandwidth**2)
        logw -= logw.max(axis=1, keepdims=True)  # stable softmax of similarities
        w = np.exp(logw)
        w /= w.sum(axis=1, keepdims=True)
        out: FloatArray = w @ self.memory_
        return out

    def _residuals(self, x: FloatArray) -> FloatArray:
        self._ready()
        z = (x - self.mean_) / self.scale_
        z = np.where(np.isnan(z), 0.0, z)
        out: FloatArray = np.empty_like(z)
        for start in range(0, len(z), 2048):  # bounded memory: rows × states × channels
            chunk = z[start : start + 2048]
            out[start : start + 2048] = (chunk - self._estimate(chunk)) / self.residual_scale_
        out[np.isnan(x)] = 0.0
        return out

    def _score(self, x: FloatArray) -> FloatArray:
        r = self._residuals(x)
        out: FloatArray = np.mean(r**2, axis=1)
        return out

    def _score_one(self, x: dict[str, float]) -> float:
        self._ready()
        row = np.array([[x.get(c, math.nan) for c in self.channels_]])
        return float(self._score(row)[0])

    def contributions(self, x: object) -> pd.DataFrame:
        """Squared standardised residual of each channel (its share of the score × d)."""
        check_is_fitted(self, "contributions")
        arr = self._validate_input(x, reset=False)
        index = x.index if isinstance(x, pd.DataFrame) else None
        names = getattr(self, "feature_names_in_", [str(i) for i in range(arr.shape[1])])
        return pd.DataFrame(self._residuals(arr) ** 2, index=index, columns=names)

    def deviations(self, x: object) -> pd.DataFrame:
        """Departure of each channel from its normal mean, in channel units."""
        check_is_fitted(self, "deviations")
        arr = self._validate_input(x, reset=False)
        self._ready()
        index = x.index if isinstance(x, pd.DataFrame) else None
        names = getattr(self, "feature_names_in_", [str(i) for i in range(arr.shape[1])])
        return pd.DataFrame(arr - self.mean_, index=index, columns=names)


class IsolationForestScorer(AnomalyScorer):
    """Isolation forest (scikit-learn) as a shopfloor scorer; higher = more abnormal.

    Parameters
    ----------
    n_estimators : int >= 1, default 100
    random_state : int >= 0, default 0
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": [Interval(int, 1, None, closed="left")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True}

    def __init__(self, n_estimators: int = 100, random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"n_estimators": 20}]

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        from sklearn.ensemble import IsolationForest

        seed = self.random_state
        # contamination only sets sklearn's own offset, which is not used: thresholds are ours.
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, random_state=seed, n_jobs=1
        ).fit(x)

    def _score(self, x: FloatArray) -> FloatArray:
        out: FloatArray = -self.forest_.score_samples(x)
        return out
