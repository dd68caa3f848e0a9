"""Remaining life from a health index, for machines without run-to-failure labels of their own.

The health index (HI) of a row is the largest log-ratio, over the amplitude channels (e.g. the
RMS of each accelerometer), of the value to that channel's healthy baseline: the median of the
unit's first ``baseline_steps`` rows. Being a ratio to the unit's own start, it carries no
sensor gain, mounting or machine size, which is what lets it move to another rig.

First prediction time (FPT): the first row where the HI has stayed above ``fpt_sigma`` robust
standard deviations of its baseline (MAD x 1.4826) for ``fpt_consecutive`` rows in a row: the
3-sigma rule of Li et al. (2015, "An improved exponential model for predicting remaining useful
life of rolling element bearings", IEEE TIE 62(12)), with consecutive rows so that one noisy
snapshot does not start the clock.

Degradation model: after the FPT the amplitude grows exponentially, so the HI (a log) grows
linearly in time, ``h = a + b (t - t_fpt)``. The parameters (a, b) are updated row by row with
Bayesian linear regression from a Gaussian prior (Gebraeel et al. 2005, "Residual-life
distributions from component degradation signals: a Bayesian approach", IIE Trans. 37) - the
Kalman filter of a static state. The prior and the noise variance come from the run-to-failure
units given to ``fit`` (for PRONOSTIA: the six learning bearings), as does the failure
threshold (the HI at failure, mean and spread over those units) unless ``failure_threshold``
is set. The failure time is where the line crosses the threshold; drawing (a, b) from the
posterior and the threshold from its spread gives the RUL distribution, hence quantiles and
intervals (Bayesian, not conformal). Before the FPT the unit shows no degradation: its RUL is
the mean residual life of the training units that outlived its age, and at least a degradation
phase (the training units' FPT-to-failure durations). A fitted trend is extrapolated only when
its slope is ``fpt_sigma`` posterior standard deviations above zero; otherwise the unit is
treated as not yet degrading.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from shopfloor.core.base import FloatArray, Interval, Options
from shopfloor.core.errors import InputError
from shopfloor.core.prognostics import RULPredictor, UnitSequences
from shopfloor.prognostics.conformal import NormalisedScores, grouped_folds

__all__ = ["HealthIndexRUL", "first_prediction_time", "health_index"]

_MAD_TO_SIGMA = 1.4826  # MAD of a Gaussian times this is its standard deviation
_SEQ: list[Any] = [list, tuple, None]


def health_index(values: FloatArray, baseline_steps: int) -> FloatArray:
    """Max over channels of log(value / median of the first ``baseline_steps`` rows), for one
    unit's rows of positive amplitudes. Dimensionless (nepers of amplitude)."""
    base = np.median(values[:baseline_steps], axis=0)
    return np.asarray(np.max(np.log(values / base), axis=1), dtype=np.float64)


def first_prediction_time(
    hi: FloatArray, baseline_steps: int, sigma: float, consecutive: int
) -> int | None:
    """Row index where degradation is first detected (the last of the ``consecutive`` rows
    above the baseline's 3-sigma band), or None."""
    base = hi[:baseline_steps]
    spread = _MAD_TO_SIGMA * float(np.median(np.abs(base - np.median(base))))
    limit = float(np.median(base)) + sigma * max(spread, 1e-6)
    above = hi > limit
    above[:baseline_steps] = False
    run = 0
    for i, flag in enumerate(above):
        run = run + 1 if flag else 0
        if run >= consecutive:
            return i
    return None


class HealthIndexRUL(RULPredictor):
    """Exponential degradation of a health index with Bayesian updating (see module docstring).

    Parameters
    ----------
    hi_channels:
        Channels (positive amplitudes, e.g. RMS in g) that make the health index; None: all.
    baseline_steps:
        Rows of each unit's start taken as its healthy baseline (50 gives a median and a MAD
        with a few % sampling error).
    fpt_sigma:
        Width of the healthy band in robust standard deviations (3: the 3-sigma rule).
    fpt_consecutive:
        Rows in a row above the band that mark the first prediction time.
    failure_threshold:
        HI at failure (log amplitude ratio); None: learned from the run-to-failure units.
    n_draws:
        Monte Carlo draws per row for the RUL distribution.
    calibration:
        ``"conformal"``: intervals from unit-grouped cross-conformal calibration of the point
        estimate over the training units (as the fleet models do; the model is then only as
        sure as its errors on held-out units say); ``"bayes"``: the posterior quantiles as they
        are (they ignore that the degradation model itself may be wrong).
    random_state:
        Seed of the draws.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hi_channels": _SEQ,
        "baseline_steps": [Interval(int, 2, None)],
        "fpt_sigma": [Interval(float, 0, None, closed="neither")],
        "fpt_consecutive": [Interval(int, 1, None)],
        "failure_threshold": [Interval(float, 0, None, closed="neither"), None],
        "n_draws": [Interval(int, 10, None)],
        "calibration": [Options(str, {"conformal", "bayes"})],
        "random_state": [Interval(int, 0, None), None],
    }
    interval_method: ClassVar[str] = (
        "Bayesian: posterior of an exponential degradation model and spread of the failure "
        "threshold over the training units"
    )

    def __init__(
        self,
        hi_channels: tuple[str, ...] | None = None,
        baseline_steps: int = 50,
        fpt_sigma: float = 3.0,
        fpt_consecutive: int = 3,
        failure_threshold: float | None = None,
        n_draws: int = 2000,
        calibration: str = "conformal",
        random_state: int | None = None,
    ) -> None:
        self.hi_channels = hi_channels
        self.baseline_steps = baseline_steps
        self.fpt_sigma = fpt_sigma
        self.fpt_consecutive = fpt_consecutive
        self.failure_threshold = failure_threshold
        self.n_draws = n_draws
        self.calibration = calibration
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"hi_channels": ("c0",), "baseline_steps": 10, "n_draws": 200}]

    def _interval_method(self) -> str:
        if getattr(self, "conformal_", None) is not None:
            return (
                "cross-conformal over whole training units, normalised by the error scale at "
                "the predicted RUL (point: posterior median of the degradation model)"
            )
        return self.interval_method

    # --- per unit -----------------------------------------------------------------------

    def _unit_hi(self, seq: UnitSequences) -> list[tuple[int, int, FloatArray]]:
        names = list(self.hi_channels) if self.hi_channels is not None else seq.channels
        missing = [c for c in names if c not in seq.channels]
        if missing:
            raise InputError(f"HealthIndexRUL: health-index channels {missing} not in the input")
        cols = [seq.channels.index(c) for c in names]
        out = []
        for a, b in zip(seq.starts[:-1], seq.starts[1:], strict=True):
            v = seq.values[a:b][:, cols]
            if (v <= 0).any():
                r = int(np.argwhere(v <= 0)[0][0])
                raise InputError(
                    f"HealthIndexRUL: unit {seq.units[a]:g} at time {seq.time[a + r]:g}: "
                    "health-index channels must be positive amplitudes (e.g. RMS)"
                )
            out.append((int(a), int(b), health_index(v, self.baseline_steps)))
        return out

    def _fpt(self, hi: FloatArray) -> int | None:
        if hi.size <= self.baseline_steps:
            return None
        return first_prediction_time(
            hi, self.baseline_steps, float(self.fpt_sigma), self.fpt_consecutive
        )

    def _fit_sequences(self, seq: UnitSequences, rul: FloatArray) -> None:
        lines, finals, durations, residuals = [], [], [], []
        for a, b, hi in self._unit_hi(seq):
            end = seq.time[b - 1] + rul[b - 1]
            fpt = self._fpt(hi)
            if fpt is None or b - a - fpt < 3:
                continue
            t = seq.time[a + fpt : b] - seq.time[a + fpt]
            h = hi[fpt:]
            slope, intercept = np.polyfit(t, h, 1)
            lines.append((intercept, slope))
            residuals.append(h - (intercept + slope * t))
            durations.append(end - seq.time[a + fpt])
            if rul[b - 1] == 0:
                # the HI at failure: the largest of the last few rows (the last snapshots of
                # a failing bearing jump around)
                finals.append(float(np.max(hi[-self.fpt_consecutive :])))
        if not lines:
            raise InputError(
                "HealthIndexRUL: no training unit shows degradation (no first prediction "
                "time): cannot learn a degradation model"
            )
        p = np.array(lines)
        self.prior_mean_ = p.mean(axis=0)
        cov = np.cov(p.T) if p.shape[0] > 1 else np.diag(np.maximum(np.abs(p[0]), 1e-6) ** 2)
        # a prior from a handful of units is uncertain itself: keep it from being singular
        self.prior_cov_ = np.atleast_2d(cov) + np.diag(
            np.maximum(np.abs(self.prior_mean_), 1e-9) ** 2 * 1e-2
        )
        self.noise_var_ = float(np.var(np.concatenate(residuals)))
        if self.failure_threshold is not None:
            self.threshold_ = (float(self.failure_threshold), 0.0)
        elif finals:
            self.threshold_ = (float(np.mean(finals)), float(np.std(finals)))
        else:
            raise InputError(
                "HealthIndexRUL: no unit runs to failure (RUL 0 at its last row): set "
                "failure_threshold"
            )
        self.degradation_durations_ = np.array(durations)
        self.lives_ = np.array(
            [
                seq.time[b - 1] + rul[b - 1] - seq.time[a]
                for a, b in zip(seq.starts[:-1], seq.starts[1:], strict=True)
            ]
        )
        self.calibration_folds_: list[tuple[FloatArray, FloatArray]] = []
        self.conformal_: NormalisedScores | None = None
        if self.calibration == "conformal":
            self._calibrate(seq, rul)

    def _calibrate(self, seq: UnitSequences, rul: FloatArray) -> None:
        """Cross-conformal scores of the point estimate over folds of whole training units."""
        from sklearn.base import clone

        ids = np.unique(seq.units)
        if ids.size < 3:
            return  # too few units to hold any out: the Bayesian intervals stay
        seed = 0 if self.random_state is None else int(self.random_state)
        folds = grouped_folds(seq.units, min(5, int(ids.size)), 0.2, seed)
        oof = np.full(rul.size, np.nan)
        for train_units, cal_units in folds:
            rows = np.isin(seq.units, train_units)
            sub = clone(self).set_params(calibration="bayes")
            frame = np.column_stack([seq.units, seq.time, seq.values])
            try:
                sub.fit(frame[rows], rul[rows])
            except InputError:
                continue  # no degradation among these units: this fold cannot calibrate
            cal = np.isin(seq.units, cal_units)
            oof[cal] = sub.predict(frame[cal])
        done = ~np.isnan(oof)
        if np.unique(seq.units[done]).size < 2:
            return
        self.conformal_ = NormalisedScores.calibrate(rul[done], oof[done], seq.units[done])
        self.calibration_folds_ = [(tr.copy(), ca.copy()) for tr, ca in folds]

    # --- prediction ---------------------------------------------------------------------

    def _unit_samples(self, seq: UnitSequences, a: int, b: int, hi: FloatArray) -> FloatArray:
        """RUL draws per row of one unit, shape (n_rows, n_draws)."""
        rng = np.random.default_rng(
            (0 if self.random_state is None else int(self.random_state), int(seq.units[a]))
        )
        n = b - a
        draws = self.n_draws
        out = np.empty((n, draws))
        pre_by_row = self._no_trend_draws(seq.time[a:b], rng, draws)
        thr_mean, thr_sd = self.threshold_
        thr = thr_mean + thr_sd * rng.standard_normal(draws)
        z = rng.standard_normal((draws, 2))
        prior_prec = np.linalg.inv(self.prior_cov_)
        prior_term = prior_prec @ self.prior_mean_
        # FPT is causal: it depends only on rows up to it, so one pass gives every row's FPT
        fpt = self._fpt(hi)
        upto = n if fpt is None else fpt
        out[:upto] = pre_by_row[:upto]
        if fpt is None:
            return out
        t = seq.time[a + fpt : b] - seq.time[a + fpt]
        h = hi[fpt:]
        # running sufficient statistics of the regression h = a + b t
        s1, st, stt = np.cumsum(np.ones_like(t)), np.cumsum(t), np.cumsum(t * t)
        sh, sth = np.cumsum(h), np.cumsum(t * h)
        for k in range(t.size):
            xtx = np.array([[s1[k], st[k]], [st[k], stt[k]]]) / self.noise_var_
            xty = np.array([sh[k], sth[k]]) / self.noise_var_
            cov = np.linalg.inv(prior_prec + xtx)
            mean = cov @ (prior_term + xty)
            chol = np.linalg.cholesky(cov + np.eye(2) * 1e-12)
            ab = mean[None, :] + z @ chol.T
            level_now = ab[:, 0] + ab[:, 1] * t[k]
            slope = ab[:, 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                remaining = (thr - level_now) / slope
            # a falling or flat trend, or a threshold already passed, has no crossing ahead:
            # fall back to the degradation-phase draws (no trend) or to 0 (past the threshold)
            pre = pre_by_row[fpt + k]
            remaining = np.where(slope <= 0, pre, remaining)
            # extrapolate only a trend that is there: a slope within fpt_sigma posterior
            # standard deviations of zero is noise around a level (e.g. a run-in transient
            # that tripped the FPT), so the unit is treated as not yet degrading
            if mean[1] < float(self.fpt_sigma) * np.sqrt(cov[1, 1]):
                remaining = pre
            out[fpt + k] = np.maximum(remaining, 0.0)
        return out

    def _no_trend_draws(self, time: FloatArray, rng: np.random.Generator, draws: int) -> FloatArray:
        """RUL draws per row for a unit with no degradation trend yet, shape (n, draws).

        Mean residual life of the training lives that exceed the unit's age (a unit that has
        survived to t lives like the training units that did), and never less than a
        degradation phase (drawn from the training units' FPT-to-failure durations): nothing
        has started to degrade, so at least a whole degradation phase remains.
        """
        phase = rng.choice(self.degradation_durations_, size=draws)
        lives = np.sort(self.lives_)
        u = rng.random(draws)
        out = np.empty((time.size, draws))
        for i, age in enumerate(time - time[0]):
            longer = lives[lives > age]
            if longer.size:
                residual = longer[np.minimum((u * longer.size).astype(int), longer.size - 1)] - age
                out[i] = np.maximum(residual, phase)
            else:
                out[i] = phase
        return out

    def _all_samples(self, seq: UnitSequences) -> FloatArray:
        return np.vstack([self._unit_samples(seq, a, b, hi) for a, b, hi in self._unit_hi(seq)])

    def _predict_point(self, seq: UnitSequences) -> FloatArray:
        return np.asarray(np.median(self._all_samples(seq), axis=1), dtype=np.float64)

    def _predict_quantiles(self, seq: UnitSequences, levels: FloatArray) -> FloatArray:
        if self.conformal_ is not None:
            point = np.maximum(self._predict_point(seq), 0.0)
            out: FloatArray = self.conformal_.quantiles(point, levels)
            return out
        q = np.quantile(self._all_samples(seq), levels, axis=1).T
        return np.asarray(np.maximum.accumulate(q, axis=1), dtype=np.float64)

    def first_prediction_times(self, x: object) -> dict[float, float | None]:
        """Time of the first prediction (degradation detected) per unit, None if not yet."""
        seq = self._validate_sequences(x, reset=False)
        out: dict[float, float | None] = {}
        for a, _, hi in self._unit_hi(seq):
            fpt = self._fpt(hi)
            out[float(seq.units[a])] = None if fpt is None else float(seq.time[a + fpt])
        return out

    def _unit_notes(self, seq: UnitSequences) -> dict[float, tuple[str, ...]]:
        notes: dict[float, tuple[str, ...]] = {}
        for a, b, hi in self._unit_hi(seq):
            if b - a <= self.baseline_steps:
                notes[float(seq.units[a])] = (
                    f"only {b - a} rows, not more than the {self.baseline_steps}-row baseline: "
                    "no degradation can be detected yet; RUL is the training units' "
                    "degradation-phase duration",
                )
            elif self._fpt(hi) is None:
                notes[float(seq.units[a])] = (
                    "no degradation detected yet (before the first prediction time): RUL is "
                    "the training units' degradation-phase duration",
                )
        return notes
