"""The AI simulator: a cabin-HVAC dynamics model learned from operating logs alone.

Grey-box: each control interval of ``step_s`` seconds, a linear RC thermal model (cabin and
battery exchange heat with ambient and each other; HVAC power heats or cools them) predicts the
temperature change, and gradient-boosted trees learn what the RC model misses from the same
logged quantities. The HVAC electric power the car draws in response to a setpoint (the
vehicle's own controller with its deadband, droop, integral state and power limits) is learned by
trees from the setpoint error, the ambient, the pack temperature and the power of the previous
interval, which stands in for the controller's hidden integral state.

Inputs are only what a car's logger records (:data:`shopfloor.control.plant.CHANNELS`) plus the
setpoint command. The model knows the ambient range it was trained on and warns with
:class:`ExtrapolationWarning` when asked to simulate outside it.
"""

from __future__ import annotations

import warnings
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator

from shopfloor.core.errors import InputError, NotFittedError

FloatArray = npt.NDArray[np.float64]

#: Columns a log table for :meth:`CabinSimulator.fit` must have (1 Hz rows).
LOG_COLUMNS = (
    "run",
    "time_s",
    "cabin_temp",
    "battery_temp",
    "ambient_temp",
    "speed",
    "hvac_power",
    "setpoint",
)


class ExtrapolationWarning(UserWarning):
    """The simulator was asked about conditions outside those in its training logs."""


def check_log(log: pd.DataFrame, source: str = "log") -> None:
    """Raise :class:`InputError` for a log the simulator cannot learn from: missing columns,
    NaN or infinite values (naming run, row and column) or gaps in a run's 1 Hz time."""
    missing = [c for c in LOG_COLUMNS if c not in log.columns]
    if missing:
        raise InputError(f"log lacks columns {missing}", source=source)
    values = log[list(LOG_COLUMNS[1:])].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"NaN or infinite value in run {log['run'].iloc[row]!r}, row {row}: drop or fill "
            "it before learning",
            source=source,
            column=LOG_COLUMNS[1 + col],
        )
    for run, part in log.groupby("run", sort=False):
        dt = np.diff(part["time_s"].to_numpy(dtype=float))
        if dt.size and not np.allclose(dt, 1.0):
            i = int(np.flatnonzero(~np.isclose(dt, 1.0))[0])
            t = float(part["time_s"].iloc[i])
            raise InputError(
                f"run {run!r} has a gap or step of {dt[i]:g} s after t={t:g} s; the simulator "
                "learns from gap-free 1 Hz logs (split the run at the gap)",
                source=source,
                column="time_s",
            )


def to_steps(log: pd.DataFrame, step_s: int) -> dict[str, FloatArray]:
    """Aggregate a 1 Hz log to control intervals: states at interval starts, inputs and HVAC
    power as means over the interval. Keys end in ``_now``, ``_next`` or name an input."""
    cols: dict[str, list[FloatArray]] = {}
    for _, part in log.groupby("run", sort=False):
        n = (len(part) - 1) // step_s
        if n < 2:
            continue
        idx = np.arange(n) * step_s

        def mean_over(name: str, part: pd.DataFrame = part, n: int = n) -> FloatArray:
            arr = part[name].to_numpy(dtype=float)[1 : n * step_s + 1]
            out: FloatArray = arr.reshape(n, step_s).mean(axis=1)
            return out

        cab = part["cabin_temp"].to_numpy(dtype=float)
        bat = part["battery_temp"].to_numpy(dtype=float)
        power = mean_over("hvac_power")
        one = {
            "cabin_now": cab[idx],
            "cabin_next": cab[idx + step_s],
            "battery_now": bat[idx],
            "battery_next": bat[idx + step_s],
            "ambient": mean_over("ambient_temp"),
            "speed": mean_over("speed"),
            "setpoint": mean_over("setpoint"),
            "power": power,
            "power_prev": np.concatenate([[0.0], power[:-1]]),
            "first": (np.arange(n) == 0).astype(float),
        }
        for key, arr in one.items():
            cols.setdefault(key, []).append(arr)
    if not cols:
        raise InputError(f"log has no run longer than two {step_s}-s control intervals")
    return {k: np.concatenate(v) for k, v in cols.items()}


def _power_features(s: dict[str, FloatArray]) -> FloatArray:
    return np.column_stack(
        [
            s["setpoint"] - s["cabin_now"],
            s["ambient"] - s["cabin_now"],
            s["ambient"],
            s["battery_now"],
            s["speed"],
            s["power_prev"],
            s["setpoint"] - s["ambient"],
        ]
    )


def _rc_features(s: dict[str, FloatArray], power: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Regressors of the linear RC model for cabin and battery temperature change."""
    heating = (s["ambient"] < s["setpoint"]).astype(float)
    cab_dt = s["ambient"] - s["cabin_now"]
    cab = np.column_stack(
        [
            cab_dt,
            cab_dt * s["speed"],
            s["battery_now"] - s["cabin_now"],
            power * heating / 1000.0,
            power * (1.0 - heating) / 1000.0,
            np.ones_like(cab_dt),
        ]
    )
    bat = np.column_stack(
        [
            s["ambient"] - s["battery_now"],
            s["cabin_now"] - s["battery_now"],
            power * heating / 1000.0,
            power * (1.0 - heating) / 1000.0,
            np.ones_like(cab_dt),
        ]
    )
    return cab, bat


class CabinSimulator(BaseEstimator):  # type: ignore[misc]  # sklearn has no stubs
    """Learned cabin-HVAC simulator (scikit-learn contract).

    Parameters
    ----------
    step_s:
        Control interval, s; logs are aggregated to it.
    n_estimators:
        Trees of each gradient-boosted correction.
    learning_rate:
        Shrinkage of the boosted trees.
    random_state:
        Seed of the boosted trees.

    Attributes
    ----------
    ambient_range_:
        (min, max) mean ambient of the training intervals, °C.
    rc_cabin_, rc_battery_:
        Least-squares RC coefficients.
    """

    def __init__(
        self,
        step_s: int = 30,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        random_state: int = 0,
    ) -> None:
        self.step_s = step_s
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state

    # ---------------------------------------------------------------- learning
    def fit(self, X: pd.DataFrame, y: None = None) -> Self:  # noqa: N803  (sklearn name)
        """Learn from a 1 Hz log table with :data:`LOG_COLUMNS` (one ``run`` per drive)."""
        if not isinstance(self.step_s, int) or self.step_s < 1:
            raise InputError(f"step_s must be a whole number of seconds >= 1, got {self.step_s!r}")
        if not isinstance(X, pd.DataFrame):
            raise InputError("CabinSimulator.fit needs a log table (pandas DataFrame)")
        check_log(X)
        s = to_steps(X, self.step_s)
        self.power_model_ = self._trees().fit(_power_features(s), s["power"])
        cab_x, bat_x = _rc_features(s, s["power"])
        d_cab = s["cabin_next"] - s["cabin_now"]
        d_bat = s["battery_next"] - s["battery_now"]
        self.rc_cabin_ = np.linalg.lstsq(cab_x, d_cab, rcond=None)[0]
        self.rc_battery_ = np.linalg.lstsq(bat_x, d_bat, rcond=None)[0]
        corr_x = np.column_stack([_power_features(s), s["power"]])
        self.cabin_correction_ = self._trees().fit(corr_x, d_cab - cab_x @ self.rc_cabin_)
        self.battery_correction_ = self._trees().fit(corr_x, d_bat - bat_x @ self.rc_battery_)
        self.ambient_range_ = (float(s["ambient"].min()), float(s["ambient"].max()))
        self.power_max_ = float(X["hvac_power"].max())
        self.n_intervals_ = len(s["power"])
        return self

    def _trees(self) -> Any:
        import lightgbm

        return lightgbm.LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=15,
            min_child_samples=10,
            random_state=self.random_state,
            num_threads=1,
            verbose=-1,
        )

    # ---------------------------------------------------------------- simulation
    def step(self, s: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray]:
        """One control interval for a batch of states: returns (cabin next °C, battery next °C,
        mean HVAC power W). ``s`` holds arrays ``cabin_now``, ``battery_now``, ``ambient``,
        ``speed``, ``setpoint``, ``power_prev``."""
        if not hasattr(self, "power_model_"):
            raise NotFittedError("This CabinSimulator is not fitted yet: call fit first.")
        pf = _power_features(s)
        power = np.clip(self.power_model_.predict(pf), 0.0, self.power_max_)
        cab_x, bat_x = _rc_features(s, power)
        corr_x = np.column_stack([pf, power])
        cab = s["cabin_now"] + cab_x @ self.rc_cabin_ + self.cabin_correction_.predict(corr_x)
        bat = s["battery_now"] + bat_x @ self.rc_battery_ + self.battery_correction_.predict(corr_x)
        return cab, bat, power

    def extrapolating(self, ambient_c: FloatArray) -> bool:
        """Whether any ambient (°C) lies outside the trained range (with 0.5 K tolerance)."""
        lo, hi = self.ambient_range_
        amb = np.asarray(ambient_c, dtype=float)
        return bool(np.any(amb < lo - 0.5) or np.any(amb > hi + 0.5))

    def rollout(
        self,
        cabin_c: float,
        battery_c: float,
        power_prev_w: float,
        setpoints: FloatArray,
        ambient: FloatArray,
        speed: FloatArray,
        *,
        warn: bool = True,
    ) -> tuple[FloatArray, FloatArray]:
        """Open-loop simulation of candidate setpoint sequences.

        Parameters
        ----------
        cabin_c, battery_c, power_prev_w:
            State now: cabin and battery temperature (°C), mean HVAC power of the last
            interval (W).
        setpoints:
            (n_candidates, horizon) setpoints, °C.
        ambient, speed:
            (horizon,) mean ambient (°C) and speed (m/s) per interval.

        Returns
        -------
        cabin, power
            (n_candidates, horizon) cabin temperature at each interval's end (°C) and mean
            HVAC power over each interval (W).
        """
        sp = np.atleast_2d(np.asarray(setpoints, dtype=float))
        n, h = sp.shape
        if warn and self.extrapolating(ambient):
            lo, hi = self.ambient_range_
            warnings.warn(
                f"ambient {np.min(ambient):.1f}..{np.max(ambient):.1f} °C is outside the logged "
                f"range {lo:.1f}..{hi:.1f} °C: the simulator is extrapolating",
                ExtrapolationWarning,
                stacklevel=2,
            )
        cab = np.full(n, float(cabin_c))
        bat = np.full(n, float(battery_c))
        prev = np.full(n, float(power_prev_w))
        cabins = np.empty((n, h))
        powers = np.empty((n, h))
        for k in range(h):
            state = {
                "cabin_now": cab,
                "battery_now": bat,
                "ambient": np.full(n, float(ambient[k])),
                "speed": np.full(n, float(speed[k])),
                "setpoint": sp[:, k],
                "power_prev": prev,
            }
            cab, bat, prev = self.step(state)
            cabins[:, k] = cab
            powers[:, k] = prev
        return cabins, powers

    def simulate_log(self, log: pd.DataFrame) -> pd.DataFrame:
        """Open-loop replay of every run in a 1 Hz log under its logged setpoints: the model
        starts from the first logged state and never sees the plant again.

        Returns one row per interval: ``run``, ``cabin_true``, ``cabin_pred`` (°C at interval
        end), ``power_true``, ``power_pred`` (mean W over the interval).
        """
        check_log(log)
        out = []
        for run, part in log.groupby("run", sort=False):
            s = to_steps(part, self.step_s)
            cab, power = self.rollout(
                s["cabin_now"][0],
                s["battery_now"][0],
                0.0,
                s["setpoint"][None, :],
                s["ambient"],
                s["speed"],
            )
            out.append(
                pd.DataFrame(
                    {
                        "run": run,
                        "cabin_true": s["cabin_next"],
                        "cabin_pred": cab[0],
                        "power_true": s["power"],
                        "power_pred": power[0],
                    }
                )
            )
        return pd.concat(out, ignore_index=True)


def accuracy(replay: pd.DataFrame) -> dict[str, float]:
    """Open-loop accuracy of :meth:`CabinSimulator.simulate_log` output: cabin RMSE (K) over all
    intervals, and HVAC energy error (%) per whole run (mean and worst of |error|)."""
    err = replay["cabin_pred"] - replay["cabin_true"]
    per_run = replay.groupby("run", sort=False)[["power_true", "power_pred"]].sum()
    energy_err = 100.0 * (per_run["power_pred"] - per_run["power_true"]) / per_run["power_true"]
    return {
        "cabin_rmse_k": float(np.sqrt(np.mean(err**2))),
        "energy_error_pct_mean_abs": float(energy_err.abs().mean()),
        "energy_error_pct_worst": float(energy_err.abs().max()),
    }
