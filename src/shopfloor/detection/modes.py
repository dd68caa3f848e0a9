"""Operating-mode awareness: normal behaviour is learned per load/speed regime.

A pump at half speed and at full speed has two different "normals". One model of both is
loose (a fault inside one regime hides in the spread between them) and a model of one flags
every switch to the other. :class:`ModeAwareScorer` finds the regimes in the training data by
k-means on the *mode channels* (speed, load, set-points: the channels that say how the machine
is being run, not how it is doing), fits one copy of the base scorer per regime, and scores
each row with the scorer of its nearest regime, so a mode change is not an alarm and a fault
within a mode is judged against that mode's normal. A regime with too few training rows to
fit is merged into the whole-data model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone

from shopfloor.core.base import AnomalyScorer, FloatArray, InstanceOf, Interval
from shopfloor.core.errors import InputError

__all__ = ["ModeAwareScorer"]


class ModeAwareScorer(AnomalyScorer):
    """One base scorer per operating regime, chosen per row by the mode channels.

    Parameters
    ----------
    base : AnomalyScorer or None, default None (a PCAMonitor)
        The scorer fitted per regime.
    mode_channels : list of str or None, default None
        Channels that set the regime (column names; ``"0"``, ``"1"``… for arrays). None uses
        every channel, which only suits data whose regimes dominate its variance.
    n_modes : int >= 1, default 2
        Number of regimes.
    min_rows : int >= 2, default 30
        A regime needs this many training rows for its own scorer.
    random_state : int >= 0, default 0
        Seed of the k-means initialisation.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "base": [InstanceOf(AnomalyScorer), None],
        "mode_channels": [list, None],
        "n_modes": [Interval(int, 1, None, closed="left")],
        "min_rows": [Interval(int, 2, None, closed="left")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True}

    def __init__(
        self,
        base: AnomalyScorer | None = None,
        mode_channels: list[str] | None = None,
        n_modes: int = 2,
        min_rows: int = 30,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.mode_channels = mode_channels
        self.n_modes = n_modes
        self.min_rows = min_rows
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"min_rows": 10}]

    def _names(self, n: int) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        return list(names) if names is not None else [str(i) for i in range(n)]

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        from sklearn.cluster import KMeans

        from shopfloor.detection.pca import PCAMonitor

        names = self._names(x.shape[1])
        wanted = self.mode_channels if self.mode_channels is not None else names
        missing = [c for c in wanted if c not in names]
        if missing:
            raise InputError(f"ModeAwareScorer: mode channels {missing} not in {names}")
        self.mode_columns_: list[int] = [names.index(c) for c in wanted]
        m = x[:, self.mode_columns_]
        self.mode_mean_: FloatArray = m.mean(axis=0)
        std = m.std(axis=0)
        self.mode_scale_: FloatArray = np.where(std > 0, std, 1.0)
        k = min(self.n_modes, len(np.unique(m, axis=0)))
        km = KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
        labels = km.fit_predict((m - self.mode_mean_) / self.mode_scale_)
        self.centers_: FloatArray = np.asarray(km.cluster_centers_, dtype=np.float64)
        base = self.base if self.base is not None else PCAMonitor()
        frame = pd.DataFrame(x, columns=names)
        self.global_: AnomalyScorer = clone(base).fit(frame)
        self.scorers_: list[AnomalyScorer | None] = []
        for mode in range(k):
            rows = frame[labels == mode]
            self.scorers_.append(clone(base).fit(rows) if len(rows) >= self.min_rows else None)

    def modes(self, x: object) -> npt.NDArray[np.int64]:
        """The regime (0 … n_modes−1) of each row."""
        arr = self._validate_input(x, reset=False)
        return self._modes(arr)

    def _modes(self, x: FloatArray) -> npt.NDArray[np.int64]:
        z = (x[:, self.mode_columns_] - self.mode_mean_) / self.mode_scale_
        d2 = ((z[:, None, :] - self.centers_[None, :, :]) ** 2).sum(axis=2)
        out: npt.NDArray[np.int64] = d2.argmin(axis=1).astype(np.int64)
        return out

    def _score(self, x: FloatArray) -> FloatArray:
        frame = pd.DataFrame(x, columns=self._names(x.shape[1]))
        modes = self._modes(x)
        out = np.empty(len(x))
        for mode in np.unique(modes):
            rows = modes == mode
            scorer = self.scorers_[mode] or self.global_
            out[rows] = np.asarray(scorer.score_samples(frame[rows]), dtype=np.float64)
        return out
