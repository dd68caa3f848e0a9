"""The supervisor's 1 Hz interlock: known answers for the trip (at δ, on each side, never on a
stock command, NaN fails safe, the look-ahead), the recovery setpoint's side, the plant's
trip-and-rerun emulation against true 1-s stepping, and the MPC wiring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopfloor.control.comfort import ComfortSpec
from shopfloor.control.mpc import SamplingMPC
from shopfloor.control.plant import CabinPlant, Command, FloatArray
from shopfloor.control.policies import run_episode
from shopfloor.control.simulator import LOG_COLUMNS, CabinSimulator
from shopfloor.control.supervisor import CabinSupervisor, first_trip
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core.errors import InputError

SPEC = ComfortSpec(22.0, 1.0)  # band 21..23 °C


def _trip(trace: list[float], setpoint: float, margin: float = 0.1, ahead: float = 0.0) -> object:
    return first_trip(
        np.array(trace), setpoint_c=setpoint, comfort=SPEC, margin_k=margin, lookahead_s=ahead
    )


def test_trips_at_the_margin_from_the_edge_the_command_pushes_toward() -> None:
    # cooling relaxed up to 22.25 °C: the upper edge 23 °C; 22.90 is exactly δ = 0.1 K from it
    assert _trip([22.80, 22.85, 22.89, 22.90, 22.95], 22.25) == 3
    assert _trip([22.80, 22.85, 22.89, 22.88], 22.25) is None
    # heating relaxed down to 21.75 °C: the lower edge 21 °C
    assert _trip([21.30, 21.20, 21.10, 21.05], 21.75) == 2
    # a command below stock is never stopped by the upper edge, nor one above by the lower
    assert _trip([22.80, 22.99, 22.99], 21.75) is None
    assert _trip([21.20, 21.01, 21.01], 22.25) is None


def test_no_trip_on_a_stock_command_and_nan_fails_safe() -> None:
    assert _trip([22.95, 22.99, 23.5], 22.0) is None
    assert _trip([21.05, 21.01, 20.5], 22.0) is None
    assert _trip([22.5, 22.5, float("nan"), 22.5], 22.25) == 2


def test_look_ahead_trips_earlier_at_the_measured_rate() -> None:
    """0.05 K/s toward the edge: with 2 s of look-ahead the check trips at 0.2 K of room."""
    trace = [22.60, 22.65, 22.70, 22.75, 22.80, 22.85]
    assert _trip(trace, 22.25) is None  # no look-ahead: 0.15 K of room at the last reading
    assert _trip(trace, 22.25, margin=0.15) == 5
    assert _trip(trace, 22.25, margin=0.1, ahead=2.0) == 4  # 22.80 + 2·0.05 = 22.90
    # falling away from the edge, the look-ahead never trips
    assert _trip([22.85, 22.84, 22.83], 22.25, margin=0.1, ahead=5.0) is None


def test_recovery_setpoint_is_on_the_comfortable_side_of_stock() -> None:
    sup = CabinSupervisor(SPEC, every_second=True, margin_k=0.1, recovery_k=0.5)
    assert sup.fallback_c(22.25) == 21.5  # relaxed up (cooling): recover below stock
    assert sup.fallback_c(21.75) == 22.5  # relaxed down (heating): recover above stock
    lock = sup.interlock(22.25)
    assert lock is not None
    assert lock.fallback.setpoint_c == 21.5
    assert lock.trip_at(np.array([22.5, 22.95])) == 1
    assert sup.interlock(22.0) is None  # stock carries no interlock
    assert CabinSupervisor(SPEC, every_second=False).interlock(22.25) is None
    assert CabinSupervisor(SPEC, every_second=True, recovery_k=0.0).fallback_c(22.25) == 22.0
    with pytest.raises(InputError, match="recovery"):
        CabinSupervisor(SPEC, every_second=True, recovery_k=1.0)
    with pytest.raises(InputError, match="look-ahead"):
        CabinSupervisor(SPEC, every_second=True, lookahead_s=-1.0)


def test_trip_holds_stock_for_the_dwell() -> None:
    sup = CabinSupervisor(SPEC, every_second=True, margin_k=0.1, dwell_steps=2, recovery_k=0.0)
    sup.tripped(22.25)
    assert sup.filter(22.3, 22.25) == (22.0, True)
    assert sup.filter(22.3, 22.25) == (22.0, True)
    assert sup.filter(22.3, 22.25) == (22.25, False)
    assert sup.trips == 1


def test_recovery_setpoint_held_through_the_dwell() -> None:
    sup = CabinSupervisor(
        SPEC, 0.1, every_second=True, dwell_steps=2, recovery_k=0.5, recovery_dwell=True
    )
    sup.tripped(21.75)  # heating relaxed below stock: recover above it
    assert sup.filter(21.5, 21.75) == (22.5, True)
    assert sup.filter(21.5, 22.0) == (22.5, True)
    assert sup.filter(21.5, 21.75) == (21.75, False)
    # a decision-time override after the hold sends stock, not the recovery setpoint
    assert sup.filter(21.05, 21.75) == (22.0, True)


class _Relaxer:
    """Cooling relaxed to ``setpoint`` once the cabin is within 0.8 K of 22 °C, stock for two
    intervals after each trip."""

    constant = False

    def __init__(self, setpoint: float, sup: CabinSupervisor) -> None:
        self.setpoint, self.sup = setpoint, sup

    def reset(self) -> None:
        self.sup.reset()
        self.hold = 0

    def act(self, obs: dict[str, float], future: dict[str, FloatArray]) -> Command:
        if abs(obs["cabin_temp"] - 22.0) > 0.8 or self.hold > 0:
            self.hold = max(self.hold - 1, 0)
            return Command(22.0)
        return Command(self.setpoint, interlock=self.sup.interlock(self.setpoint))

    def tripped(self, seconds: int) -> None:
        self.hold = 2
        self.sup.tripped(self.setpoint)


@pytest.mark.usefixtures("fastsim_available")
@pytest.mark.parametrize(("vehicle", "ambient", "setpoint"), [("bolt", 30.0, 22.75)])
def test_emulated_interlock_equals_true_one_second_stepping(
    vehicle: str, ambient: float, setpoint: float
) -> None:
    eps = []
    for per_second in (False, True):
        plant = CabinPlant(vehicle, step_s=30, per_second=per_second)
        sup = CabinSupervisor(
            SPEC, every_second=True, margin_k=0.1, lookahead_s=2.0, recovery_k=0.5
        )
        eps.append(run_episode(plant, _Relaxer(setpoint, sup), "hwfet", ambient))
    a, b = eps
    assert len(a.interlock_trips) >= 3  # the check did trip, mid-interval
    assert any(t % 30 not in (0, 1) for t in a.interlock_trips)
    assert a.interlock_trips == b.interlock_trips
    for key in a.log:
        np.testing.assert_array_equal(a.log[key], b.log[key], err_msg=key)
    assert a.battery_energy_j == b.battery_energy_j
    # after each trip the recovery setpoint is what the plant logged for the rest of the interval
    assert {21.5, 22.0, setpoint} <= set(np.unique(a.log["setpoint"]).tolist())


def test_mpc_carries_the_interlock_and_holds_stock_after_a_trip() -> None:
    log = pd.concat([rc_cabin_log(a, s, n=2400) for a in (25.0, 30.0, 35.0) for s in (1, 2)])
    sim = CabinSimulator(n_estimators=20).fit(log[list(LOG_COLUMNS)])
    future = {"ambient_temp": np.full(240, 30.0), "speed": np.full(240, 10.0)}
    obs = {"cabin_temp": 22.0, "battery_temp": 30.0, "ambient_temp": 30.0, "speed": 10.0}
    sup = CabinSupervisor(
        SPEC, every_second=True, margin_k=0.1, dwell_steps=2, recovery_k=0.25, recovery_dwell=False
    )
    mpc = SamplingMPC(sim, SPEC, setpoints_c=np.array([22.5]), supervisor=sup)
    mpc.reset()
    first = mpc.act(obs, future)
    assert first.setpoint_c == 22.5
    assert first.interlock is not None
    assert first.interlock.fallback.setpoint_c == 21.75
    assert first.interlock.trip_at(np.array([22.0, 22.5, 22.91])) == 2
    mpc.tripped(12)
    for _ in range(2):  # stock, without an interlock, for the dwell
        held = mpc.act(obs, future)
        assert held.setpoint_c == 22.0
        assert held.interlock is None
    assert mpc.act(obs, future).setpoint_c == 22.5  # then the MPC decides afresh
    assert sup.trips == 1
