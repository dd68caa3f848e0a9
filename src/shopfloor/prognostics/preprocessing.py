"""Fleet preprocessing for remaining-life models: operating regimes, per-regime normalisation,
sensor selection by trend and monotonicity, windowing and the capped (piecewise-linear) target.

Engines and machines run in several operating regimes (altitude, Mach and throttle for a
turbofan; speed and load for a pump): a sensor's raw value mostly tells the regime, not the
wear. Regimes are found by clustering the operating settings, and every sensor is standardised
with the mean and spread of its own regime, so what is left is the deviation from what the
regime explains. With a single regime this is plain standardisation; the step is always run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopfloor.core.base import FloatArray
from shopfloor.core.errors import InputError
from shopfloor.core.prognostics import UnitSequences

__all__ = [
    "RegimeNormalizer",
    "cap_rul",
    "fit_fleet_preprocessing",
    "select_sensors",
    "sensor_trends",
    "window_features",
]

# Silhouette above which clusters count as distinct operating regimes: Rousseeuw (1987) and
# Kaufman & Rousseeuw (1990) read > 0.7 as "a strong structure has been found"; settings that
# scatter around one point never get there, distinct flight conditions get ~0.99.
_STRONG_STRUCTURE = 0.7
_MAX_REGIMES = 10
_SPREAD_FLOOR = 1e-9


def cap_rul(rul: FloatArray, cap: float | None) -> FloatArray:
    """Piecewise-linear target: RUL capped at ``cap`` (cycles; 125 is the published convention
    for C-MAPSS); ``None`` keeps it linear."""
    return rul if cap is None else np.minimum(rul, cap)


@dataclass
class RegimeNormalizer:
    """Find operating regimes from setting columns and standardise sensors per regime.

    Parameters
    ----------
    setting_columns: indices (into the channels) of the operating settings; may be empty
        (one regime).
    random_state: seed of the k-means restarts.
    """

    setting_columns: list[int]
    random_state: int = 0
    centers_: FloatArray | None = None
    scale_: FloatArray | None = None
    mean_: FloatArray | None = None
    std_: FloatArray | None = None
    n_regimes_: int = 1

    def fit(self, values: FloatArray) -> RegimeNormalizer:
        """Cluster the settings (k = 1..10, chosen by silhouette) and learn per-regime mean
        and standard deviation of every channel."""
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # no stubs

        labels = np.zeros(values.shape[0], dtype=np.int64)
        self.centers_ = None
        if self.setting_columns:
            s = values[:, self.setting_columns]
            self.scale_ = np.where(s.std(axis=0) > _SPREAD_FLOOR, s.std(axis=0), 1.0)
            z = s / self.scale_
            rng = np.random.default_rng(self.random_state)
            sample = z[rng.choice(z.shape[0], min(z.shape[0], 4000), replace=False)]
            best = (_STRONG_STRUCTURE, 1, None)
            # a few thousand rows need no thread pool; on a busy machine one costs seconds
            with threadpool_limits(limits=1):
                for k in range(2, _MAX_REGIMES + 1):
                    if sample.shape[0] <= k:
                        break
                    km = KMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit(sample)
                    if np.unique(km.labels_).size < 2:
                        continue
                    # the silhouette costs O(n^2): 1,500 rows estimate it to about +-0.02
                    score = float(
                        silhouette_score(
                            sample, km.labels_, sample_size=min(1500, len(sample)), random_state=0
                        )
                    )
                    if score > best[0]:
                        best = (score, k, km.cluster_centers_)
            if best[2] is not None:
                self.centers_ = np.asarray(best[2])
                labels = self.regimes(values)
        self.n_regimes_ = 1 if self.centers_ is None else self.centers_.shape[0]
        mean = np.zeros((self.n_regimes_, values.shape[1]))
        std = np.ones((self.n_regimes_, values.shape[1]))
        for r in range(self.n_regimes_):
            rows = values[labels == r]
            if rows.shape[0] == 0:
                continue
            mean[r] = rows.mean(axis=0)
            sd = rows.std(axis=0)
            # a channel constant within a regime carries no wear information there
            std[r] = np.where(sd > _SPREAD_FLOOR * np.maximum(np.abs(mean[r]), 1.0), sd, np.inf)
        self.mean_, self.std_ = mean, std
        return self

    def regimes(self, values: FloatArray) -> np.ndarray:
        """Regime index of each row (nearest cluster centre of the scaled settings)."""
        if self.centers_ is None or self.scale_ is None:
            return np.zeros(values.shape[0], dtype=np.int64)
        z = values[:, self.setting_columns] / self.scale_
        d = ((z[:, None, :] - self.centers_[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(np.argmin(d, axis=1), dtype=np.int64)

    def transform(self, values: FloatArray) -> FloatArray:
        """Per-regime standard scores of every channel (0 where constant in the regime)."""
        if self.mean_ is None or self.std_ is None:
            raise InputError("RegimeNormalizer is not fitted")
        r = self.regimes(values)
        return np.asarray((values - self.mean_[r]) / self.std_[r], dtype=np.float64)


def sensor_trends(seq: UnitSequences, normalised: FloatArray) -> pd.DataFrame:
    """Trendability and monotonicity of every channel over the units' lives.

    trend: |Spearman correlation| between the channel and the fraction of life elapsed, pooled
    over rows (0 = no trend, 1 = strictly monotone in life). monotonicity: per unit,
    |#rises - #falls| / (n - 1) of the channel smoothed over 10 % of that unit's life, averaged
    over units (Coble & Hines 2009).
    """
    from scipy.stats import spearmanr

    pos = seq.position().astype(np.float64)
    lengths = np.diff(seq.starts)
    frac = pos / np.maximum(np.repeat(lengths, lengths) - 1, 1)
    rows = []
    for j, name in enumerate(seq.channels):
        v = normalised[:, j]
        if np.ptp(v) == 0:
            rows.append((name, 0.0, 0.0))
            continue
        rho = spearmanr(v, frac).statistic
        mono = []
        for a, b in zip(seq.starts[:-1], seq.starts[1:], strict=True):
            if b - a < 3:
                continue
            span = max(int(0.1 * (b - a)), 1)
            smooth = pd.Series(v[a:b]).rolling(span, min_periods=1).mean().to_numpy()
            d = np.diff(smooth)
            mono.append(abs(int((d > 0).sum()) - int((d < 0).sum())) / (b - a - 1))
        rows.append((name, abs(float(np.nan_to_num(rho))), float(np.mean(mono)) if mono else 0.0))
    return pd.DataFrame(rows, columns=["channel", "trend", "monotonicity"]).set_index("channel")


def select_sensors(trends: pd.DataFrame, min_trend: float, exclude: list[str]) -> list[str]:
    """Channels whose trendability reaches ``min_trend`` (dimensionless, 0-1), not excluded."""
    keep = trends.index[(trends["trend"] >= min_trend) & ~trends.index.isin(exclude)]
    return [str(c) for c in keep]


def window_features(seq: UnitSequences, values: FloatArray, window: int) -> FloatArray:
    """Features of the last ``window`` rows (time steps) of each row's unit, per channel.

    Per channel: last value, window mean, standard deviation, least-squares slope per time
    step, minimum and maximum, and the mean over the whole history so far; plus the number of
    time steps seen. Early rows of a unit use the rows available (the window is shorter).
    Shape (n_rows, 7 * n_channels + 1).
    """
    c = values.shape[1]
    frame = pd.DataFrame(values)
    units = seq.units
    pos = seq.position().astype(np.float64)
    grp = frame.groupby(units, sort=False)
    roll = grp.rolling(window, min_periods=1)
    mean = roll.mean().to_numpy()
    std = np.nan_to_num(roll.std(ddof=0).to_numpy())
    mn = roll.min().to_numpy()
    mx = roll.max().to_numpy()
    # slope = cov(x, t) / var(t) over the window, with t = position in the unit
    t = pd.DataFrame(np.repeat(pos[:, None], c, axis=1))
    tm = t.groupby(units, sort=False).rolling(window, min_periods=1).mean().to_numpy()
    xtm = (
        pd.DataFrame(values * pos[:, None])
        .groupby(units, sort=False)
        .rolling(window, min_periods=1)
        .mean()
        .to_numpy()
    )
    t2m = (
        pd.DataFrame(np.repeat((pos**2)[:, None], c, axis=1))
        .groupby(units, sort=False)
        .rolling(window, min_periods=1)
        .mean()
        .to_numpy()
    )
    var_t = t2m - tm**2
    slope = np.where(var_t > 1e-12, (xtm - mean * tm) / np.where(var_t > 1e-12, var_t, 1), 0.0)
    hist = grp.expanding().mean().to_numpy()
    return np.column_stack([values, mean, std, slope, mn, mx, hist, pos + 1]).astype(np.float64)


def feature_names(channels: list[str]) -> list[str]:
    """Names of the columns of :func:`window_features`."""
    kinds = ("last", "mean", "std", "slope", "min", "max", "history_mean")
    return [f"{c}_{k}" for k in kinds for c in channels] + ["steps_seen"]


def fit_fleet_preprocessing(model: Any, seq: UnitSequences) -> None:
    """Fit regimes, per-regime normalisation and sensor selection for a fleet model with
    parameters ``settings`` and ``min_trend``; sets ``normalizer_``, ``sensor_trends_``,
    ``sensors_`` and ``sensor_index_`` on it. If no sensor reaches ``min_trend``, every
    non-setting channel is used."""
    settings = [seq.channels.index(s) for s in model.settings if s in seq.channels]
    seed = 0 if model.random_state is None else int(model.random_state)
    model.normalizer_ = RegimeNormalizer(settings, random_state=seed).fit(seq.values)
    z = model.normalizer_.transform(seq.values)
    model.sensor_trends_ = sensor_trends(seq, np.nan_to_num(z, posinf=0.0, neginf=0.0))
    setting_names = [seq.channels[i] for i in settings]
    chosen = select_sensors(model.sensor_trends_, model.min_trend, setting_names)
    if not chosen:
        chosen = [c for c in seq.channels if c not in setting_names] or list(seq.channels)
    model.sensors_ = chosen
    model.sensor_index_ = [seq.channels.index(c) for c in chosen]


def normalised_sensors(model: Any, seq: UnitSequences) -> FloatArray:
    """The selected sensors of ``seq``, standardised per regime (after
    :func:`fit_fleet_preprocessing`)."""
    z = model.normalizer_.transform(seq.values)[:, model.sensor_index_]
    return np.asarray(np.nan_to_num(z, posinf=0.0, neginf=0.0), dtype=np.float64)


def short_history_notes(seq: UnitSequences, window: int) -> dict[float, tuple[str, ...]]:
    """The fallback stated for units with fewer time steps than the window."""
    notes: dict[float, tuple[str, ...]] = {}
    for unit, n in zip(seq.unit_ids, np.diff(seq.starts), strict=True):
        if n < window:
            notes[float(unit)] = (
                f"history of {n} steps is shorter than the {window}-step window: the window "
                f"holds the {n} steps available",
            )
    return notes
