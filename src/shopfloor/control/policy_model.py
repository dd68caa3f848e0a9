"""The shopfloor cabin controller as a model the store can register.

:class:`MPCPolicy` bundles a learned :class:`~shopfloor.control.simulator.CabinSimulator` with
the :class:`~shopfloor.control.mpc.SamplingMPC` settings (comfort band, safety margin, horizon,
route look-ahead). ``fit`` learns the simulator from a 1 Hz log, or copies a given fitted one;
``predict`` replays a log and returns, per row, the setpoint (°C) the MPC would have commanded
from the logged state, with the log's own next minutes as the route ahead (as a navigation
system would tell it). Saved with :func:`shopfloor.core.persistence.save`, the controller is one
file carrying its simulator, so a registered controller can be loaded and driven as it was
checked.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.control.comfort import ComfortSpec
from shopfloor.control.mpc_guard import MPCGuard
from shopfloor.control.simulator import (
    LOG_COLUMNS,
    CabinSimulator,
    ExtrapolationWarning,
    check_log,
    run_starts,
)
from shopfloor.core.base import Interval, Predictor

FloatArray = npt.NDArray[np.float64]


class MPCPolicy(Predictor):
    """Receding-horizon cabin controller on a learned simulator (shopfloor contract).

    Parameters
    ----------
    simulator:
        A fitted :class:`CabinSimulator` to use as is, or ``None`` to learn one in ``fit``.
    setpoint_c:
        Comfort band centre, °C.
    band_k:
        Comfort band half-width, K.
    margin_k:
        MPC safety margin inside the band, K.
    horizon_steps:
        Control intervals looked ahead.
    lookahead_s:
        Seconds of route (ambient, speed) the controller is told ahead.
    guard:
        The anti-chatter guard (:class:`~shopfloor.control.mpc_guard.MPCGuard`, measured on
        the training logs by :func:`~shopfloor.control.mpc_guard.calibrate_guard`), or ``None``.

    Attributes
    ----------
    simulator_:
        The simulator the controller plans on.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "simulator": [CabinSimulator, None],
        "setpoint_c": [Interval(float, 10.0, 30.0, closed="both")],
        "band_k": [Interval(float, 0.0, 5.0, closed="right")],
        "margin_k": [Interval(float, 0.0, 5.0, closed="left")],
        "horizon_steps": [Interval(int, 1, 120, closed="both")],
        "lookahead_s": [Interval(int, 0, 3600, closed="both")],
        "guard": [MPCGuard, None],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "control",
        "multivariate": True,
        "optional_dependency": "lightgbm",
    }

    def __init__(
        self,
        simulator: CabinSimulator | None = None,
        setpoint_c: float = 22.0,
        band_k: float = 1.0,
        margin_k: float = 0.05,
        horizon_steps: int = 8,
        lookahead_s: int = 240,
        guard: MPCGuard | None = None,
    ) -> None:
        self.simulator = simulator
        self.setpoint_c = setpoint_c
        self.band_k = band_k
        self.margin_k = margin_k
        self.horizon_steps = horizon_steps
        self.lookahead_s = lookahead_s
        self.guard = guard

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"horizon_steps": 2, "lookahead_s": 60}]

    @classmethod
    def _contract_data(cls, seed: int) -> tuple[FloatArray, None]:
        return CabinSimulator._contract_data(seed)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        check_log(x)
        if self.simulator is not None and hasattr(self.simulator, "power_trees_"):
            self.simulator_ = copy.deepcopy(self.simulator)
        else:
            base = self.simulator if self.simulator is not None else CabinSimulator()
            self.simulator_ = copy.deepcopy(base).fit(x)
        self.mpc().reset()  # an infeasible band or margin fails here, not mid-drive

    def mpc(self) -> Any:
        """A fresh :class:`~shopfloor.control.mpc.SamplingMPC` with these settings."""
        from shopfloor.control.mpc import SamplingMPC
        from shopfloor.control.supervisor import CabinSupervisor

        comfort = ComfortSpec(self.setpoint_c, self.band_k)
        dwell = self.guard.dwell_steps if self.guard is not None else 1
        return SamplingMPC(
            self.simulator_,
            comfort,
            margin_k=self.margin_k,
            horizon_steps=self.horizon_steps,
            guard=self.guard,
            supervisor=CabinSupervisor(comfort, dwell_steps=dwell),
        )

    def _predict(self, x: FloatArray) -> FloatArray:
        check_log(x)
        col = {name: k for k, name in enumerate(LOG_COLUMNS)}
        step = self.simulator_.step_s
        out = np.empty(len(x))
        bounds = [*run_starts(x[:, 0]).tolist(), len(x)]
        for a, b in itertools.pairwise(bounds):
            mpc = self.mpc()
            mpc.reset()
            part = x[a:b]
            for i in range(0, len(part), step):
                row = part[i]
                obs = {
                    "cabin_temp": row[col["cabin_temp"]],
                    "battery_temp": row[col["battery_temp"]],
                    "ambient_temp": row[col["ambient_temp"]],
                    "speed": row[col["speed"]],
                    "hvac_power": row[col["hvac_power"]],
                }
                ahead = part[i + 1 : i + 1 + self.lookahead_s]
                future = {
                    "ambient_temp": ahead[:, col["ambient_temp"]],
                    "speed": ahead[:, col["speed"]],
                }
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExtrapolationWarning)
                    out[a + i : a + min(i + step, len(part))] = mpc.act(obs, future).setpoint_c
        return out
