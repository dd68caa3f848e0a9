"""Thresholds fitted on anomaly scores of normal operation.

Each is set by a false-alarm budget per scored step on *normal* data, never by a guessed
fraction of outliers in the data being scored (the complaint about PyOD's ``contamination``):

* :class:`QuantileThreshold`: the empirical ``1 − risk`` quantile of the normal scores.
  Cannot go beyond what was seen, so with little normal data a small ``risk`` just gives the
  maximum.
* :class:`POTThreshold`: peaks over threshold (Siffer et al., KDD 2017, "SPOT"): the scores
  above an initial high quantile are fitted with a generalised Pareto distribution, which
  extrapolates the tail to the ``risk`` no sample size could show directly.
* :class:`ControlLimit`: a fixed value on the score's own scale (e.g. 1.0 for
  :class:`~shopfloor.detection.pca.PCAMonitor`, whose score is a ratio to its control limits).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from shopfloor.core.base import FloatArray, Interval
from shopfloor.core.detection_roles import Threshold
from shopfloor.core.errors import InputError

__all__ = ["ControlLimit", "POTThreshold", "QuantileThreshold"]

# Fewer peaks than this cannot pin down a GPD's shape; the tail is then the empirical quantile.
_MIN_PEAKS = 10


def _finite_scores(x: FloatArray, owner: str) -> FloatArray:
    s = x[:, 0]
    s = s[~np.isnan(s)]
    if s.size == 0:
        raise InputError(f"{owner}: every score is NaN (masked); nothing to calibrate on")
    return s


class QuantileThreshold(Threshold):
    """Empirical ``1 − risk`` quantile of the normal scores.

    Parameters
    ----------
    risk : float in (0, 0.5), default 0.001
        Allowed probability that a normal step's score exceeds the threshold.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "risk": [Interval(float, 0.0, 0.5, closed="neither")]
    }

    def __init__(self, risk: float = 0.001) -> None:
        self.risk = risk

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        s = _finite_scores(x, type(self).__name__)
        self.threshold_: float = float(np.quantile(s, 1.0 - self.risk, method="higher"))


class POTThreshold(Threshold):
    """Peaks-over-threshold (extreme value) threshold at a per-step ``risk``.

    Parameters
    ----------
    risk : float in (0, 0.5), default 1e-4
        Allowed probability that a normal step's score exceeds the threshold.
    initial_quantile : float in (0.5, 1), default 0.98
        Quantile above which scores count as peaks (Siffer et al. use 0.98).

    Attributes
    ----------
    threshold_ : float
        The threshold on the score scale.
    initial_threshold_ : float
        The initial quantile ``t``.
    shape_, scale_ : float
        GPD shape ``γ`` and scale ``σ`` of the peaks (NaN when too few peaks).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "risk": [Interval(float, 0.0, 0.5, closed="neither")],
        "initial_quantile": [Interval(float, 0.5, 1.0, closed="neither")],
    }

    def __init__(self, risk: float = 1e-4, initial_quantile: float = 0.98) -> None:
        self.risk = risk
        self.initial_quantile = initial_quantile

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        s = _finite_scores(x, type(self).__name__)
        t = float(np.quantile(s, self.initial_quantile))
        peaks = s[s > t] - t
        self.initial_threshold_: float = t
        if peaks.size < _MIN_PEAKS or np.ptp(peaks) == 0:
            self.shape_: float = float("nan")
            self.scale_: float = float("nan")
            self.threshold_: float = float(np.quantile(s, 1.0 - self.risk, method="higher"))
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # optimizer chatter on flat tails
            gamma, _, sigma = stats.genpareto.fit(peaks, floc=0.0)
        self.shape_ = float(gamma)
        self.scale_ = float(sigma)
        ratio = self.risk * s.size / peaks.size
        if abs(gamma) < 1e-6:
            z = t - sigma * np.log(ratio)
        else:
            z = t + sigma / gamma * (ratio ** (-gamma) - 1.0)
        # Never below the initial quantile: the tail model only extends upwards.
        self.threshold_ = float(max(z, t))


class ControlLimit(Threshold):
    """A fixed threshold on the score's own scale; ``fit`` only checks the scores.

    Parameters
    ----------
    value : float, default 1.0
        The limit, in score units (1.0 = a ratio-to-limit score's own control limit).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "value": [Interval(float, None, None, closed="neither")]
    }

    def __init__(self, value: float = 1.0) -> None:
        self.value = value

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        _finite_scores(x, type(self).__name__)
        self.threshold_: float = float(self.value)
