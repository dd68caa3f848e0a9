"""The measured-cabin supervisor: known answers at the band edge and well inside it, on both
sides, the rate look-ahead, the dwell hold, the fail-safe, and its wiring into the MPC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopfloor.control.comfort import ComfortSpec
from shopfloor.control.mpc import SamplingMPC
from shopfloor.control.mpc_guard import calibrate_guard
from shopfloor.control.simulator import LOG_COLUMNS, CabinSimulator
from shopfloor.control.supervisor import (
    INTERLOCK_LOOKAHEAD_S,
    INTERLOCK_MARGIN_K,
    INTERLOCK_RECOVERY_DWELL,
    INTERLOCK_RECOVERY_K,
    ONE_HERTZ_DEFAULT,
    SUPERVISOR_MARGIN_K,
    CabinSupervisor,
)
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core.errors import InputError


def _fresh(margin_k: float = 0.1, dwell_steps: int = 1) -> CabinSupervisor:
    """The once-per-interval supervisor (no 1 Hz interlock: ``tests/control/test_interlock.py``)."""
    return CabinSupervisor(
        ComfortSpec(22.0, 1.0), margin_k=margin_k, dwell_steps=dwell_steps, every_second=False
    )


def test_overrides_at_the_upper_edge_not_well_inside() -> None:
    """Cooling, the MPC relaxed up to 22.25 °C: band 21..23 °C, margin 0.1 K."""
    sup = _fresh()
    assert sup.filter(22.50, 22.25) == (22.25, False)  # 0.5 K of room: the MPC's command
    sup = _fresh()
    assert sup.filter(22.95, 22.25) == (22.0, True)  # 0.05 K from the edge: stock
    sup = _fresh()
    assert sup.filter(22.90, 22.25) == (22.0, True)  # exactly the margin: stock
    assert sup.overrides == 1


def test_overrides_at_the_lower_edge_not_well_inside() -> None:
    """Heating, the MPC relaxed down to 21.75 °C."""
    sup = _fresh()
    assert sup.filter(21.50, 21.75) == (21.75, False)
    sup = _fresh()
    assert sup.filter(21.05, 21.75) == (22.0, True)
    # the side is the one the command moves the cabin toward: a setpoint below stock is never
    # stopped by the upper edge
    sup = _fresh()
    assert sup.filter(22.95, 21.75) == (21.75, False)


def test_stock_command_is_never_touched() -> None:
    sup = _fresh()
    assert sup.filter(22.99, 22.0) == (22.0, False)
    assert sup.filter(21.01, 22.0) == (22.0, False)
    assert sup.overrides == 0


def test_rate_look_ahead_overrides_before_the_edge() -> None:
    """0.3 K of room now, but the cabin rose 0.25 K over the last interval: 0.05 K next."""
    sup = _fresh()
    assert sup.filter(22.45, 22.0) == (22.0, False)
    assert sup.filter(22.70, 22.25) == (22.0, True)
    # the same reading after a steady interval passes
    sup = _fresh()
    sup.filter(22.70, 22.0)
    assert sup.filter(22.70, 22.25) == (22.25, False)


def test_hold_for_the_dwell_then_release() -> None:
    sup = _fresh(dwell_steps=3)
    assert sup.filter(22.95, 22.25) == (22.0, True)
    assert sup.filter(22.40, 22.25) == (22.0, True)  # held although well inside now
    assert sup.filter(22.40, 22.25) == (22.0, True)
    assert sup.filter(22.40, 22.25) == (22.25, False)
    assert sup.overrides == 1


def test_missing_reading_fails_safe_and_bad_settings_are_refused() -> None:
    sup = _fresh()
    assert sup.filter(float("nan"), 22.25) == (22.0, True)
    with pytest.raises(InputError, match="supervisor margin"):
        _fresh(margin_k=1.0)
    with pytest.raises(InputError, match="dwell_steps"):
        _fresh(dwell_steps=0)


def test_mpc_sends_stock_when_the_measured_cabin_is_at_the_edge() -> None:
    log = pd.concat([rc_cabin_log(a, s, n=2400) for a in (25.0, 30.0, 35.0) for s in (1, 2)])
    sim = CabinSimulator(n_estimators=20).fit(log[list(LOG_COLUMNS)])
    future = {"ambient_temp": np.full(240, 30.0), "speed": np.full(240, 10.0)}

    def command(cabin: float, supervised: bool) -> float:
        sup = (
            CabinSupervisor(ComfortSpec(), margin_k=0.1, every_second=False) if supervised else None
        )
        mpc = SamplingMPC(sim, ComfortSpec(), setpoints_c=np.array([22.5]), supervisor=sup)
        mpc.reset()
        obs = {"cabin_temp": cabin, "battery_temp": 30.0, "ambient_temp": 30.0, "speed": 10.0}
        return mpc.act(obs, future).setpoint_c

    assert command(22.0, supervised=False) == 22.5  # cooling: the MPC relaxes
    assert command(22.0, supervised=True) == 22.5  # well inside: left alone
    assert command(22.95, supervised=True) == 22.0  # at the edge: stock


def test_defaults_and_the_one_hertz_constructor() -> None:
    """``one_hertz`` is the 1 Hz interlock at its validated settings; the default supervisor is
    the one ``ONE_HERTZ_DEFAULT`` names; the once-per-interval supervisor keeps s18f's 0.5 K:
    0.4 K of room is overridden, 0.6 K is left alone."""
    fast = CabinSupervisor.one_hertz(ComfortSpec(), dwell_steps=2)
    assert fast.every_second
    assert (fast.margin_k, fast.dwell_steps, fast.lookahead_s) == (
        INTERLOCK_MARGIN_K,
        2,
        INTERLOCK_LOOKAHEAD_S,
    )
    assert (fast.recovery_k, fast.recovery_dwell) == (
        INTERLOCK_RECOVERY_K,
        INTERLOCK_RECOVERY_DWELL,
    )
    edge = ComfortSpec().high
    assert fast.filter(edge - INTERLOCK_MARGIN_K + 0.01, 22.25) == (22.0, True)
    fast = CabinSupervisor.one_hertz(ComfortSpec())
    assert fast.filter(edge - INTERLOCK_MARGIN_K - 0.02, 22.25) == (22.25, False)
    default = CabinSupervisor()
    assert default.every_second == ONE_HERTZ_DEFAULT
    assert default.margin_k == (INTERLOCK_MARGIN_K if ONE_HERTZ_DEFAULT else SUPERVISOR_MARGIN_K)
    slow = CabinSupervisor(margin_k=SUPERVISOR_MARGIN_K, every_second=False)
    assert slow.filter(22.6, 22.25) == (22.0, True)
    assert CabinSupervisor(margin_k=SUPERVISOR_MARGIN_K, every_second=False).filter(
        22.4, 22.25
    ) == (22.25, False)
    assert slow.interlock(22.25) is None


def test_guard_quantile_sizes_the_band_edge_distance() -> None:
    """The 90 % quantile the supervised MPC uses is never larger than the largest error (the
    unsupervised default), row by row; a quantile outside (0, 1] is refused."""
    log = pd.concat(
        [rc_cabin_log(a, s, n=2400) for a in (-10.0, -5.0, 0.0, 30.0, 35.0) for s in (1, 2)],
        ignore_index=True,
    )[list(LOG_COLUMNS)]
    kw = {"validation_ambients_c": (-5.0, 30.0), "simulator_params": {"n_estimators": 20}}
    largest = calibrate_guard(log, gains=(0.0,), **kw)
    q90 = calibrate_guard(log, gains=(0.0,), band_edge_quantile=0.9, **kw)
    assert q90.cabin_error_k < largest.cabin_error_k
    rows = {(r["mode"], r["move_max_k"]): r["error_k"] for r in largest.cabin_error_table}
    for r in q90.cabin_error_table:
        assert r["error_k"] <= rows[(r["mode"], r["move_max_k"])] + 1e-9
    assert "90% quantile" in q90.how["cabin_error"]
    with pytest.raises(InputError, match="band_edge_quantile"):
        calibrate_guard(log, gains=(0.0,), band_edge_quantile=0.0, **kw)
