"""A machine's own healthy baseline: how far its vibration has moved since it was healthy.

Practitioners judge a bearing against the same machine, sensor and operating point when it was
known to be good, not against absolute limits: a healthy bearing on one rig can be as impulsive
as a damaged one on another, and a ball fault may show no envelope line at all, only more
impulsive vibration. :class:`HealthyBaseline` learns, from short snapshots of one channel in a
stated healthy period, the spread of six indicators that need no bearing geometry, and scores
new snapshots by how far each indicator rose beyond that spread.

Indicators of each snapshot (all positive, compared as logarithms so a change reads as a ratio):

* level: ``rms`` (the signal's RMS) and ``envelope_rms`` (RMS of the envelope in the
  0.17–0.42·fs band, where impacts ring the housing resonances of small machines; the same band
  as the diagnosis features' ``high`` band);
* impulsiveness: ``kurtosis`` and ``crest_factor`` of the raw signal, ``prewhitened_kurtosis``
  (kurtosis after cepstrum pre-whitening, fs/40–0.42·fs, which removes the shaft and gear lines
  that hide impacts), and ``spectral_kurtosis`` (the kurtogram's largest spectral kurtosis + 2,
  i.e. the impulsiveness of the most impulsive band, Antoni 2006).

Limits, fixed in advance and never fitted to a data set:

* Each indicator's log is described by its mean, standard deviation (n - 1) and skewness over
  the healthy snapshots. The alarm limit is the one-sided prediction limit for a new snapshot
  at a stated false-alarm rate ``alpha`` shared by the six indicators (Bonferroni:
  ``alpha / 6`` each): ``mean + q * sd * sqrt(1 + 1/n)`` with ``q`` Student's
  ``t(1 - alpha/6, n - 1)``, so a short baseline widens its own limits (5 snapshots: about
  7 sd; 200: about 3 sd), moved by the first Cornish-Fisher term ``(q² - 1) γ / 6`` for the
  baseline's skewness γ (only when positive: the limit is never narrower than the normal one).
  Crest factor and the kurtogram's maximum are maxima, right-skewed even as logarithms: on
  Gaussian noise the uncorrected limit let 1.2 % of snapshots past the spectral-kurtosis limit
  alone, seven times its share of the stated rate.
* A level indicator must also have grown by ``min_level_growth_db`` (6 dB: the amplitude
  doubled, the usual alert step of vibration trending), because a level moves with load,
  temperature and mounting more than a within-period spread shows. Impulsiveness indicators
  are ratios that load and gain do not move, so their statistical limit stands alone.

A recording (many snapshots) has changed when more than half of its snapshots exceed the limit
of the same indicator (consistency across snapshots, the rule the diagnosis applies to windows);
see :meth:`HealthyBaseline.compare`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.core.base import AnomalyScorer, ConstraintLike, FloatArray, check_is_fitted
from shopfloor.core.constraints import Interval
from shopfloor.core.errors import InputError
from shopfloor.manipulation.envelope import prewhiten_spectrum
from shopfloor.manipulation.kurtogram import select_band

__all__ = [
    "INDICATORS",
    "LEVEL_INDICATORS",
    "BaselineComparison",
    "HealthyBaseline",
    "IndicatorChange",
    "baseline_indicators",
]

#: Indicator names, in column order of :func:`baseline_indicators`.
INDICATORS = (
    "rms",
    "envelope_rms",
    "kurtosis",
    "crest_factor",
    "prewhitened_kurtosis",
    "spectral_kurtosis",
)
#: Indicators that scale with the signal's amplitude (the others are dimensionless ratios).
LEVEL_INDICATORS = frozenset({"rms", "envelope_rms"})
LABELS = {
    "rms": "RMS",
    "envelope_rms": "envelope RMS (0.17–0.42·fs)",
    "kurtosis": "kurtosis",
    "crest_factor": "crest factor",
    "prewhitened_kurtosis": "pre-whitened kurtosis",
    "spectral_kurtosis": "spectral kurtosis (kurtogram max + 2)",
}
ENVELOPE_BAND = (0.17, 0.42)
"""Band of ``envelope_rms`` as fractions of fs (the diagnosis features' ``high`` band)."""
PREWHITENED_BAND = (1 / 40, 0.42)
"""Band of ``prewhitened_kurtosis`` as fractions of fs (as ``cpw_time.kurtosis``)."""
MIN_SNAPSHOTS = 5
"""Fewest healthy snapshots that give a spread (4 degrees of freedom)."""
_TINY = 1e-12


def _kurtosis(x: FloatArray) -> FloatArray:
    dev = x - x.mean(axis=1, keepdims=True)
    m2 = np.mean(dev * dev, axis=1)
    m4 = np.mean(dev**4, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(m2 > _TINY, m4 / (m2 * m2), np.nan), dtype=np.float64)


def baseline_indicators(windows: npt.ArrayLike, fs: float) -> FloatArray:
    """The six indicators of :data:`INDICATORS` for each snapshot.

    Parameters
    ----------
    windows:
        Snapshots of one channel, shape (n_snapshots, n_samples), any unit (g, m/s²); at least
        256 samples each (the kurtogram's longest segment is 128).
    fs:
        Sample rate, Hz.

    Returns
    -------
    ndarray, shape (n_snapshots, 6)
        ``rms`` and ``envelope_rms`` in the signal's unit; the others dimensionless. NaN where a
        snapshot is flat (no variance).
    """
    x = np.asarray(windows, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 256:
        raise InputError(f"snapshots need shape (n, >= 256 samples), got {x.shape}")
    if not math.isfinite(fs) or fs <= 0:
        raise InputError(f"sample rate must be a positive number of Hz, got {fs!r}")
    n = x.shape[1]
    dev = x - x.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(dev * dev, axis=1))
    peak = np.max(np.abs(dev), axis=1)
    spec = np.fft.rfft(dev, axis=1)
    freqs = np.fft.rfftfreq(n, 1.0 / fs)
    band = (freqs >= ENVELOPE_BAND[0] * fs) & (freqs <= ENVELOPE_BAND[1] * fs)
    # the envelope of a band signal has sqrt(2) times its RMS (Parseval on the analytic signal)
    band_power = 2.0 * np.sum(np.abs(spec[:, band]) ** 2, axis=1) / (n * n)
    envelope_rms = np.sqrt(2.0 * band_power)
    white = prewhiten_spectrum(spec.copy())
    keep = (freqs >= PREWHITENED_BAND[0] * fs) & (freqs <= PREWHITENED_BAND[1] * fs)
    white[:, ~keep] = 0.0
    prewhitened = _kurtosis(np.fft.irfft(white, n=n, axis=1))
    sk = select_band(x, fs).kurtosis + 2.0  # SK >= -1, so SK + 2 >= 1 has a logarithm
    with np.errstate(divide="ignore", invalid="ignore"):
        crest = np.where(rms > _TINY, peak / rms, np.nan)
    flat = rms <= _TINY
    out = np.column_stack([rms, envelope_rms, _kurtosis(x), crest, prewhitened, sk])
    out[flat, 2:] = np.nan
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class IndicatorChange:
    """One indicator now against the baseline (values in the indicator's own unit).

    ``baseline`` / ``now``: medians over snapshots; ``sigma``: the now-median's distance from
    the baseline mean in baseline standard deviations (of the log); ``limit``: the alarm limit
    in the indicator's unit; ``beyond``: share of the new snapshots above it.
    """

    name: str
    baseline: float
    now: float
    sigma: float
    limit: float
    beyond: float
    n_beyond: int
    n: int

    @property
    def changed(self) -> bool:
        """More than half of the snapshots exceed the limit."""
        return self.n_beyond * 2 > self.n

    @property
    def change_db(self) -> float:
        """The median's change in dB (20 log10 for the amplitude-like ratios)."""
        if self.baseline <= 0 or self.now <= 0:
            return math.nan
        return 20.0 * math.log10(self.now / self.baseline)

    def describe(self) -> str:
        unit = f" ({self.change_db:+.1f} dB)" if self.name in LEVEL_INDICATORS else ""
        return (
            f"{LABELS.get(self.name, self.name)} {self.baseline:.3g} → {self.now:.3g}{unit}, "
            f"{self.sigma:.1f}σ over baseline; {self.n_beyond} of {self.n} snapshots beyond "
            f"the limit {self.limit:.3g}"
        )


@dataclass(frozen=True)
class BaselineComparison:
    """A recording's snapshots against the healthy baseline.

    changes: every indicator, most significant first; ``changed``: those where more than half
    of the snapshots exceed the limit; ``inside``: snapshots inside every limit.
    """

    changes: list[IndicatorChange]
    n_snapshots: int
    inside: int
    n_baseline: int
    alpha: float
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[IndicatorChange]:
        return [c for c in self.changes if c.changed]

    @property
    def is_change(self) -> bool:
        return bool(self.changed)

    def confidence(self) -> float:
        """Laplace's rule of succession over the snapshots that carry the decision.

        Changed: the share of snapshots beyond the limit of the indicator that moved most
        consistently; no change: the share inside every limit. Never 0 or 1 on finite data.
        """
        if self.is_change:
            best = max(c.n_beyond for c in self.changed)
            return (best + 1) / (self.n_snapshots + 2)
        return (self.inside + 1) / (self.n_snapshots + 2)

    def describe(self) -> str:
        shown = self.changed or self.changes[:1]
        return "; ".join(c.describe() for c in shown)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": [c.name for c in self.changed],
            "snapshots": self.n_snapshots,
            "inside_all_limits": self.inside,
            "baseline_snapshots": self.n_baseline,
            "false_alarm_rate_per_snapshot": self.alpha,
            "indicators": [
                {
                    "name": c.name,
                    "baseline": c.baseline,
                    "now": c.now,
                    "sigma_over_baseline": round(c.sigma, 2),
                    "limit": c.limit,
                    "fraction_beyond": round(c.beyond, 4),
                    "changed": c.changed,
                }
                for c in self.changes
            ],
        }


class HealthyBaseline(AnomalyScorer):
    """Healthy-period statistics of one channel; scores snapshots by their rise since then.

    ``fit`` takes snapshots (rows) of one channel from a stated healthy period, all of the same
    length and sample rate; ``score_samples`` gives, per snapshot, the largest rise of any
    indicator over its baseline mean in baseline standard deviations of its log (higher = more
    changed); :meth:`exceeds` the per-indicator alarm decisions and :meth:`compare` the
    recording-level change with its evidence. See the module docstring for the limits.

    Parameters
    ----------
    fs_hz:
        Sample rate of the snapshots, Hz (the indicators' bands are fractions of it).
    alpha:
        False-alarm rate per healthy snapshot, all indicators together (one-sided).
    min_level_growth_db:
        Growth a level indicator (RMS, envelope RMS) needs on top of its statistical limit, dB.

    Attributes
    ----------
    mean_, sd_, skew_: per indicator, mean, standard deviation and skewness of the log over
        the baseline.
    limit_: per indicator, the alarm limit of the log.
    median_: per indicator, the baseline median in the indicator's unit.
    n_baseline_: healthy snapshots fitted.
    """

    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "fs_hz": [Interval(float, 0, None, closed="neither")],
        "alpha": [Interval(float, 0, 1, closed="neither")],
        "min_level_growth_db": [Interval(float, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "assessment",
        "input_kind": "windows",
        "fixed_input_width": True,
    }

    def __init__(
        self, fs_hz: float = 12_000.0, alpha: float = 0.01, min_level_growth_db: float = 6.0
    ) -> None:
        self.fs_hz = fs_hz
        self.alpha = alpha
        self.min_level_growth_db = min_level_growth_db

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"fs_hz": 1024.0}]

    def _logs(self, x: FloatArray) -> FloatArray:
        values = baseline_indicators(x, float(self.fs_hz))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.log(np.where(values > 0, values, np.nan)), dtype=np.float64)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        from scipy.stats import t as student_t

        logs = self._logs(x)
        n = int(np.min(np.sum(np.isfinite(logs), axis=0)))
        if n < MIN_SNAPSHOTS:
            raise InputError(
                f"HealthyBaseline: {n} usable healthy snapshots; need at least {MIN_SNAPSHOTS} "
                "(record a longer healthy period)"
            )
        mean = np.nanmean(logs, axis=0)
        sd = np.maximum(np.nanstd(logs, axis=0, ddof=1), 1e-9)
        k = len(INDICATORS)
        q = float(student_t.ppf(1.0 - self.alpha / k, n - 1))
        # crest factor and the kurtogram's maximum are maxima (right-skewed even as logs):
        # Cornish-Fisher moves the quantile by the baseline's own skewness; never narrower
        skew = np.nan_to_num(np.nanmean(((logs - mean) / sd) ** 3, axis=0), nan=0.0)
        factor = (q + (q * q - 1.0) * np.maximum(skew, 0.0) / 6.0) * math.sqrt(1.0 + 1.0 / n)
        floor = np.array(
            [
                self.min_level_growth_db / 20.0 * math.log(10.0) if name in LEVEL_INDICATORS else 0
                for name in INDICATORS
            ]
        )
        self.mean_ = mean
        self.sd_ = sd
        self.skew_ = skew
        self.limit_ = mean + np.maximum(factor * sd, floor)
        self.median_ = np.exp(np.nanmedian(logs, axis=0))
        self.n_baseline_ = n

    def _score(self, x: FloatArray) -> FloatArray:
        z = (self._logs(x) - self.mean_) / self.sd_
        return np.asarray(np.nanmax(np.where(np.isfinite(z), z, -np.inf), axis=1), dtype=float)

    def exceeds(self, x: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Per snapshot and indicator, whether the alarm limit is exceeded; (n, 6) booleans."""
        check_is_fitted(self, "exceeds")
        logs = self._logs(self._validate_input(x, reset=False))
        return np.asarray(np.nan_to_num(logs, nan=-np.inf) > self.limit_, dtype=bool)

    def compare(self, x: npt.ArrayLike) -> BaselineComparison:
        """How the snapshots ``x`` (one recording or period) moved since the baseline."""
        check_is_fitted(self, "compare")
        logs = self._logs(self._validate_input(x, reset=False))
        beyond = np.nan_to_num(logs, nan=-np.inf) > self.limit_
        now = np.nanmedian(logs, axis=0)
        changes = []
        for j, name in enumerate(INDICATORS):
            nb = int(beyond[:, j].sum())
            changes.append(
                IndicatorChange(
                    name=name,
                    baseline=float(self.median_[j]),
                    now=float(np.exp(now[j])),
                    sigma=float((now[j] - self.mean_[j]) / self.sd_[j]),
                    limit=float(np.exp(self.limit_[j])),
                    beyond=nb / logs.shape[0],
                    n_beyond=nb,
                    n=logs.shape[0],
                )
            )
        changes.sort(key=lambda c: (-c.n_beyond, -c.sigma))
        return BaselineComparison(
            changes=changes,
            n_snapshots=logs.shape[0],
            inside=int((~beyond.any(axis=1)).sum()),
            n_baseline=int(self.n_baseline_),
            alpha=float(self.alpha),
        )
