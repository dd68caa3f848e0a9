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

import itertools
import warnings
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import Interval, Predictor
from shopfloor.core.errors import InputError, NotFittedError

FloatArray = npt.NDArray[np.float64]

#: Columns of a log table for :meth:`CabinSimulator.fit`, in this order (1 Hz rows). A new
#: drive starts wherever ``time_s`` restarts (does not increase); an optional text ``run``
#: column names drives in :meth:`CabinSimulator.simulate_log`.
LOG_COLUMNS = (
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


def run_starts(time_s: FloatArray) -> npt.NDArray[np.intp]:
    """Row indices where a drive starts: the first row and wherever time does not increase."""
    t = np.asarray(time_s, dtype=float)
    return np.concatenate([[0], np.flatnonzero(np.diff(t) <= 0) + 1]).astype(np.intp)


def check_log(log: pd.DataFrame | FloatArray, source: str = "log") -> None:
    """Raise :class:`InputError` for a log the simulator cannot learn from: missing columns,
    NaN or infinite values (naming row and column) or a gap in a drive's 1 Hz time."""
    if isinstance(log, pd.DataFrame):
        missing = [c for c in LOG_COLUMNS if c not in log.columns]
        if missing:
            raise InputError(f"log lacks columns {missing}", source=source)
        values = log[list(LOG_COLUMNS)].to_numpy(dtype=float)
    else:
        values = np.asarray(log, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(LOG_COLUMNS):
            raise InputError(
                f"log must have the {len(LOG_COLUMNS)} columns {list(LOG_COLUMNS)}, got shape "
                f"{values.shape}",
                source=source,
            )
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"NaN or infinite value in row {row}: drop or fill it before learning",
            source=source,
            column=LOG_COLUMNS[col],
        )
    dt = np.diff(values[:, 0])
    gap = np.flatnonzero((dt > 0) & ~np.isclose(dt, 1.0))
    if gap.size:
        i = int(gap[0])
        raise InputError(
            f"a gap or step of {dt[i]:g} s after t={values[i, 0]:g} s (row {i}); the simulator "
            "learns from gap-free 1 Hz logs (split the drive at the gap)",
            source=source,
            column="time_s",
        )


def to_steps(values: FloatArray, step_s: int) -> dict[str, FloatArray]:
    """Aggregate a 1 Hz log (rows x :data:`LOG_COLUMNS`) to control intervals: states at
    interval starts, inputs and HVAC power as means over the interval."""
    col = {name: k for k, name in enumerate(LOG_COLUMNS)}
    cols: dict[str, list[FloatArray]] = {}
    bounds = [*run_starts(values[:, 0]).tolist(), len(values)]
    for a, b in itertools.pairwise(bounds):
        part = values[a:b]
        n = (len(part) - 1) // step_s
        if n < 2:
            continue
        idx = np.arange(n) * step_s

        def mean_over(name: str, part: FloatArray = part, n: int = n) -> FloatArray:
            arr = part[1 : n * step_s + 1, col[name]]
            out: FloatArray = arr.reshape(n, step_s).mean(axis=1)
            return out

        cab = part[:, col["cabin_temp"]]
        bat = part[:, col["battery_temp"]]
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
        }
        for key, arr in one.items():
            cols.setdefault(key, []).append(arr)
    if not cols:
        raise InputError(f"log has no drive longer than two {step_s}-s control intervals")
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
    # The vehicle's controller heats while the cabin is below its setpoint and cools above it
    # (ambient alone does not say which: mild days need both).
    heating = (s["cabin_now"] < s["setpoint"]).astype(float)
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


class CabinSimulator(Predictor):
    """Learned cabin-HVAC simulator (shopfloor/scikit-learn contract).

    ``fit(log)`` learns from a 1 Hz log table (:data:`LOG_COLUMNS`, drives back to back);
    ``predict(log)`` replays the log's setpoints open loop from each drive's first state and
    returns the predicted cabin temperature per row (°C). :meth:`rollout` simulates candidate
    setpoint sequences for a controller.

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
    cabin_rmse_k_:
        Open-loop cabin RMSE on the training drives, K (1 Hz rows).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "step_s": [Interval(int, 1, 3600, closed="both")],
        "n_estimators": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "control",
        "multivariate": True,
        "optional_dependency": "lightgbm",
    }

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

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"n_estimators": 20, "step_s": 20}]

    @classmethod
    def _contract_data(cls, seed: int) -> tuple[FloatArray, None]:
        from shopfloor.control.synthetic import rc_cabin_log

        logs = [rc_cabin_log(amb, seed * 10 + k, n=400) for k, amb in enumerate((-5.0, 30.0))]
        return pd.concat(logs)[list(LOG_COLUMNS)].to_numpy(dtype=float), None

    # ---------------------------------------------------------------- learning
    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        if x.shape[1] != len(LOG_COLUMNS):
            raise InputError(
                f"CabinSimulator needs the {len(LOG_COLUMNS)} log columns {list(LOG_COLUMNS)}, "
                f"got {x.shape[1]}"
            )
        check_log(x)
        s = to_steps(x, self.step_s)
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
        self.power_max_ = float(x[:, LOG_COLUMNS.index("hvac_power")].max())
        self.n_intervals_ = len(s["power"])
        # Open-loop error on the training drives: the controller's default safety margin.
        col = LOG_COLUMNS.index("cabin_temp")
        err = self._predict(x) - x[:, col]
        self.cabin_rmse_k_ = float(np.sqrt(np.mean(err**2)))

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

    def _predict(self, x: FloatArray) -> FloatArray:
        check_log(x)
        out = np.empty(len(x))
        bounds = [*run_starts(x[:, 0]).tolist(), len(x)]
        for a, b in itertools.pairwise(bounds):
            out[a:b] = self._replay(x[a:b])[0]
        return out

    def _replay(self, part: FloatArray) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        """Open-loop replay of one drive: per-row cabin prediction (°C, linear between interval
        ends, held after the last), plus interval powers and the interval table."""
        col = {name: k for k, name in enumerate(LOG_COLUMNS)}
        n = (len(part) - 1) // self.step_s
        cab_row = np.full(len(part), part[0, col["cabin_temp"]])
        if n < 1:
            return cab_row, np.zeros(0), {}
        s = to_steps(part, self.step_s) if n >= 2 else None
        setp = part[1 : n * self.step_s + 1, col["setpoint"]].reshape(n, -1).mean(axis=1)
        amb = part[1 : n * self.step_s + 1, col["ambient_temp"]].reshape(n, -1).mean(axis=1)
        spd = part[1 : n * self.step_s + 1, col["speed"]].reshape(n, -1).mean(axis=1)
        cabin, power = self.rollout(
            part[0, col["cabin_temp"]],
            part[0, col["battery_temp"]],
            0.0,
            setp[None, :],
            amb,
            spd,
        )
        knots = np.arange(n + 1) * self.step_s
        values = np.concatenate([[part[0, col["cabin_temp"]]], cabin[0]])
        rows = np.arange(len(part))
        cab_row = np.interp(rows, knots, values)
        return cab_row, power[0], s or {}

    # ---------------------------------------------------------------- simulation
    def step(self, s: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray]:
        """One control interval for a batch of states: returns (cabin next °C, battery next °C,
        mean HVAC power W). ``s`` holds arrays ``cabin_now``, ``battery_now``, ``ambient``,
        ``speed``, ``setpoint``, ``power_prev``."""
        self._check_fitted()
        pf = _power_features(s)
        power = np.clip(self.power_model_.predict(pf), 0.0, self.power_max_)
        cab_x, bat_x = _rc_features(s, power)
        corr_x = np.column_stack([pf, power])
        cab = s["cabin_now"] + cab_x @ self.rc_cabin_ + self.cabin_correction_.predict(corr_x)
        bat = s["battery_now"] + bat_x @ self.rc_battery_ + self.battery_correction_.predict(corr_x)
        return cab, bat, power

    def _check_fitted(self) -> None:
        if not hasattr(self, "power_model_"):
            raise NotFittedError("This CabinSimulator instance is not fitted yet: call fit first.")

    def extrapolating(self, ambient_c: FloatArray) -> bool:
        """Whether any ambient (°C) lies outside the trained range (with 0.5 K tolerance)."""
        self._check_fitted()
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
        """Open-loop replay of every drive in a 1 Hz log under its logged setpoints: the model
        starts from the drive's first logged state and never sees the plant again.

        Returns one row per interval: ``run`` (the log's ``run`` column, else the drive's
        number), ``cabin_true``, ``cabin_pred`` (°C at interval end), ``power_true``,
        ``power_pred`` (mean W over the interval).
        """
        self._check_fitted()
        check_log(log)
        values = log[list(LOG_COLUMNS)].to_numpy(dtype=float)
        names = log["run"].to_numpy() if "run" in log.columns else None
        bounds = [*run_starts(values[:, 0]).tolist(), len(values)]
        out = []
        for k, (a, b) in enumerate(itertools.pairwise(bounds)):
            cab_rows, power, s = self._replay(values[a:b])
            if not s:
                continue
            n = len(s["power"])
            knots = np.arange(1, n + 1) * self.step_s
            cab_pred = cab_rows[knots]
            out.append(
                pd.DataFrame(
                    {
                        "run": names[a] if names is not None else k,
                        "cabin_true": s["cabin_next"],
                        "cabin_pred": cab_pred,
                        "power_true": s["power"],
                        "power_pred": power[:n],
                    }
                )
            )
        if not out:
            raise InputError(f"log has no drive longer than two {self.step_s}-s intervals")
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
