"""The AI simulator: a cabin-HVAC dynamics model learned from operating logs alone.

Grey-box, per control interval of ``step_s`` seconds:

* **Cabin**: a linear RC model (heat exchange with ambient, with the pack, and the cabin HVAC
  power heating or cooling) plus gradient-boosted trees for what it misses.
* **Pack**: a passive RC model (exchange with ambient and cabin, driving losses) learned where
  the pack loop is off, so that the logged pack temperature reveals the heat the pack loop put
  in each interval. The pack loop's electric power is that heat times a learned W-per-K factor
  (heating and cooling apart), and its controller is learned as the pack temperature window it
  keeps (heat below, cool above) with the largest rate seen in the logs.
* **Cabin HVAC power** (the vehicle's own PID with deadband, droop and integral state): a linear
  model of the heat delivered to the cabin (heating and cooling apart, by whether the cabin is
  below its setpoint: conductance times the cabin-ambient difference, speed, ambient, setpoint
  error and an observer state) plus trees on the residual, capped at the largest delivered heat
  in the logs; the electric power is that heat divided by the COP, whose dependence on the
  temperature lift is identified from the logged cabin heat balance
  (:func:`~shopfloor.control.sim_features.fit_cop_shape`: a resistance heater's COP comes out
  constant, a heat pump's falls with lift). The cabin RC model is driven by the delivered heat.
  The observer is a leaky integral of the setpoint error (time constant
  :data:`OBSERVER_TAU_S`) computed from logged cabin temperature and setpoint only: it stands in
  for the PID's hidden integral, so the model can predict the stock controller's droop.

The total HVAC power the logger records is cabin power plus pack-loop power; the learner never
sees the split (nor the COP). Inputs are only what a car's logger records
(:data:`shopfloor.control.plant.CHANNELS`) plus the setpoint command. The model knows the
ambient range it was trained on and warns with :class:`ExtrapolationWarning` outside it.

Log handling lives in :mod:`shopfloor.control.sim_data` and the regressors in
:mod:`shopfloor.control.sim_features`; this module re-exports the public names.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.optimize

from shopfloor.control.sim_data import (
    LOG_COLUMNS,
    OBSERVER_TAU_S,
    ExtrapolationWarning,
    FloatArray,
    accuracy,
    check_log,
    observer,
    observer_gain,
    replay_table,
    run_starts,
    to_steps,
)
from shopfloor.control.sim_features import (
    PACK_HEAT_FLOOR_K,
    PASSIVE_AMBIENT_C,
    cop_relative,
    fit_cop_shape,
    load_features,
    passive_pack,
    rc_cabin,
    tree_features,
)
from shopfloor.core.base import Interval, Options, Predictor
from shopfloor.core.errors import InputError, NotFittedError

__all__ = [
    "LOG_COLUMNS",
    "OBSERVER_TAU_S",
    "PACK_HEAT_FLOOR_K",
    "PASSIVE_AMBIENT_C",
    "CabinSimulator",
    "ExtrapolationWarning",
    "FloatArray",
    "accuracy",
    "check_log",
    "observer",
    "observer_gain",
    "replay_table",
    "run_starts",
    "to_steps",
]


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
    cop:
        ``"learned"``: the COP's dependence on the temperature lift is identified from the logs
        (:func:`~shopfloor.control.sim_features.fit_cop_shape`); ``"constant"``: one COP per
        mode whatever the lift (the previous model, kept as the ablation peer).

    Attributes
    ----------
    ambient_range_:
        (min, max) mean ambient of the training intervals, °C.
    rc_cabin_, rc_pack_:
        Least-squares RC coefficients.
    cop_shape_:
        (r_heat, r_cool): the COP's lift dependence identified from the logs
        (:func:`~shopfloor.control.sim_features.cop_relative`; 0 = constant COP).
    heat_max_, cabin_power_max_:
        Largest delivered heat (zero-lift W, at each interval's mean lift) and cabin electric
        power (W) in the logs.
    cabin_rmse_k_:
        Open-loop cabin RMSE on the training drives, K (1 Hz rows).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "step_s": [Interval(int, 1, 3600, closed="both")],
        "n_estimators": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "random_state": [Interval(int, 0, None, closed="left")],
        "cop": [Options(str, {"learned", "constant"})],
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
        cop: str = "learned",
    ) -> None:
        self.step_s = step_s
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.cop = cop

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
        pack_w = self._fit_pack(s)
        # Total logged power = cabin load (linear) + pack loop (W per K of heat it put in).
        xl = load_features(s)
        heat_in = self.pack_heat_in_
        regs = np.column_stack([xl, np.clip(heat_in, 0, None), np.clip(-heat_in, 0, None)])
        coef = np.linalg.lstsq(regs, s["power"], rcond=None)[0]
        self.pack_w_per_k_ = np.clip(coef[xl.shape[1] :], 0.0, None)
        pack_w = self.pack_w_per_k_[0] * np.clip(heat_in, 0, None) + self.pack_w_per_k_[
            1
        ] * np.clip(-heat_in, 0, None)
        cabin_w = np.clip(s["power"] - pack_w, 0.0, None)
        self.cabin_power_max_ = float(cabin_w.max())
        # Heat delivered = electric power x COP (relative to zero lift), the COP's lift
        # dependence identified from the logged cabin heat balance. The load model predicts
        # heat (linear in the cabin's losses); electric power is heat / COP.
        self.cop_shape_ = fit_cop_shape(s, cabin_w) if self.cop == "learned" else (0.0, 0.0)
        heat_w = cabin_w * cop_relative(s, self.cop_shape_)
        # The cap is measured at each interval's mean lift: an interval that starts soaked
        # (cabin = ambient, zero lift) has its machine work against a growing lift during it,
        # so its start-of-interval COP overstates the heat it delivered. Chosen on the in-log
        # validation split (Model 3's whole-drive cabin RMSE there 0.674 → 0.435 K, energy
        # error energy-weighted 2.95 → 2.03 %; horizon errors unchanged).
        s_mid = {**s, "cabin_now": 0.5 * (s["cabin_now"] + s["cabin_next"])}
        self.heat_max_ = float((cabin_w * cop_relative(s_mid, self.cop_shape_)).max())
        self.power_linear_ = np.linalg.lstsq(xl, heat_w, rcond=None)[0]
        self.power_trees_ = self._trees().fit(tree_features(s), heat_w - xl @ self.power_linear_)
        cab_x = rc_cabin(s, heat_w)
        d_cab = s["cabin_next"] - s["cabin_now"]
        self.rc_cabin_ = np.linalg.lstsq(cab_x, d_cab, rcond=None)[0]
        corr_x = np.column_stack([tree_features(s), cabin_w])
        self.cabin_correction_ = self._trees().fit(corr_x, d_cab - cab_x @ self.rc_cabin_)
        self.ambient_range_ = (float(s["ambient"].min()), float(s["ambient"].max()))
        self.n_intervals_ = len(s["power"])
        del self.pack_heat_in_
        # Open-loop error on the training drives: the controller's default safety margin.
        col = LOG_COLUMNS.index("cabin_temp")
        err = self._predict(x) - x[:, col]
        self.cabin_rmse_k_ = float(np.sqrt(np.mean(err**2)))

    def _fit_pack(self, s: dict[str, FloatArray]) -> FloatArray:
        """Learn the pack's passive RC, the heat its loop put in per interval (K), the window it
        keeps and its largest rates; returns nothing it does not also store."""
        lo, hi = PASSIVE_AMBIENT_C
        passive = (s["ambient"] >= lo) & (s["ambient"] <= hi)
        if passive.sum() < 10:  # stated fallback: logs without mild days, learn from all
            passive = np.ones(len(passive), dtype=bool)
        xp = passive_pack(s)
        d_bat = s["battery_next"] - s["battery_now"]
        # Conductances and driving losses cannot be negative (non-negative least squares).
        self.rc_pack_ = scipy.optimize.nnls(xp[passive], d_bat[passive])[0]
        heat_in = d_bat - xp @ self.rc_pack_
        resid = heat_in[passive]
        # Heat the passive model cannot explain counts as the loop's only above the residual
        # noise and above PACK_HEAT_FLOOR_K per 30 s (a logger's temperature resolution).
        mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        noise = max(4.0 * mad, PACK_HEAT_FLOOR_K * self.step_s / 30.0)
        heat_in = np.where(np.abs(heat_in) > noise, heat_in, 0.0)
        heated = heat_in > 0
        # The window: how warm the loop heats the pack, how cool it cools it. A loop cools
        # only a pack above the temperature it heats to (1 K apart); faster-than-modelled
        # cooling below that is passive loss the mild-day RC does not resolve.
        low = float(np.percentile(s["battery_next"][heated], 95)) if heated.any() else -np.inf
        cooled = (heat_in < 0) & (s["battery_now"] > low + 1.0)
        heat_in = np.where(heated | cooled, heat_in, 0.0)
        high = float(np.percentile(s["battery_next"][cooled], 5)) if cooled.any() else np.inf
        self.pack_window_c_ = (low, high)
        self.pack_rate_k_ = (
            float(heat_in.max()) if heated.any() else 0.0,
            float(-heat_in.min()) if cooled.any() else 0.0,
        )
        self.pack_heat_in_ = heat_in
        return heat_in

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
        mean HVAC power W: cabin plus pack loop). ``s`` holds arrays ``cabin_now``,
        ``battery_now``, ``ambient``, ``speed``, ``setpoint`` and ``observer`` (K, the observer
        state including this interval's start, see :func:`observer`)."""
        self._check_fitted()
        free = s["battery_now"] + passive_pack(s) @ self.rc_pack_
        low, high = self.pack_window_c_
        rate_h, rate_c = self.pack_rate_k_
        heat_in = np.clip(low - free, 0.0, rate_h) - np.clip(free - high, 0.0, rate_c)
        pack_w = self.pack_w_per_k_[0] * np.clip(heat_in, 0, None) + self.pack_w_per_k_[
            1
        ] * np.clip(-heat_in, 0, None)
        tf = tree_features(s)
        heat_w = load_features(s) @ self.power_linear_ + self.power_trees_.predict(tf)
        # Both limits a real HVAC has, as seen in the logs: the heat it can deliver (at low
        # lift) and the electric power it may draw (at high lift).
        heat_w = np.clip(heat_w, 0.0, self.heat_max_)
        rel = cop_relative(s, self.cop_shape_)
        cabin_w = np.clip(heat_w / rel, 0.0, self.cabin_power_max_)
        cab_x = rc_cabin(s, cabin_w * rel)
        corr = self.cabin_correction_.predict(np.column_stack([tf, cabin_w]))
        cab = s["cabin_now"] + cab_x @ self.rc_cabin_ + corr
        return cab, free + heat_in, cabin_w + pack_w

    def _check_fitted(self) -> None:
        if not hasattr(self, "power_trees_"):
            raise NotFittedError("This CabinSimulator instance is not fitted yet: call fit first.")
        if not hasattr(self, "cop_shape_"):
            # A model saved before the COP model existed would silently mix delivered heat and
            # electric power; refuse it instead.
            raise InputError(
                "this simulator was saved by an older shopfloor (no learned COP): re-learn it "
                "from the logs (shopfloor hvac learn)"
            )

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
        observer_z: float,
        setpoints: FloatArray,
        ambient: FloatArray,
        speed: FloatArray,
        *,
        warn: bool = True,
        disturbance_k: float = 0.0,
    ) -> tuple[FloatArray, FloatArray]:
        """Open-loop simulation of candidate setpoint sequences.

        Parameters
        ----------
        cabin_c, battery_c, observer_z:
            State now: cabin and battery temperature (°C), and the observer state (K) before
            this interval (:func:`observer` over the drive so far; 0 at a drive's start).
        setpoints:
            (n_candidates, horizon) setpoints, °C.
        ambient, speed:
            (horizon,) mean ambient (°C) and speed (m/s) per interval.
        disturbance_k:
            Added to the cabin at every interval's end, K per interval (an offset-free MPC's
            disturbance estimate, :mod:`shopfloor.control.observer`); 0 leaves the model as is.

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
        z = np.full(n, float(observer_z))
        a = observer_gain(self.step_s)
        cabins = np.empty((n, h))
        powers = np.empty((n, h))
        for k in range(h):
            z = a * z + (1.0 - a) * (sp[:, k] - cab)
            state = {
                "cabin_now": cab,
                "battery_now": bat,
                "ambient": np.full(n, float(ambient[k])),
                "speed": np.full(n, float(speed[k])),
                "setpoint": sp[:, k],
                "observer": z,
            }
            cab, bat, power = self.step(state)
            if disturbance_k != 0.0:  # skipped at 0: the plain rollout stays bit for bit
                cab = cab + disturbance_k
            cabins[:, k] = cab
            powers[:, k] = power
        return cabins, powers

    def simulate_log(self, log: pd.DataFrame) -> pd.DataFrame:
        """Open-loop replay of every drive in a 1 Hz log under its logged setpoints: the model
        starts from the drive's first logged state and never sees the plant again.

        Returns one row per interval: ``run`` (the log's ``run`` column, else the drive's
        number), ``cabin_true``, ``cabin_pred`` (°C at interval end), ``power_true``,
        ``power_pred`` (mean W over the interval).
        """
        self._check_fitted()
        return replay_table(self, log)
