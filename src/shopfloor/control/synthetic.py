"""A synthetic lumped cabin with a known answer, for tests and the contract kit.

Physics (not FASTSim): cabin heat capacity 80 kJ/K, conductance to ambient 120 W/K, a
proportional heater/cooler (1.5 kW/K, capped at 5 kW electric; COP 1 heating, 2.5 cooling) and
a slow battery pack coupled to cabin and ambient. Setpoint steps every 5 minutes.

With ``heat_pump=True`` the machine is a vapour-compression heat pump instead: the proportional
controller asks for heat (1.5 kW/K, capped at 5 kW of heat) and the electric power is that heat
divided by a COP of 30 % of Carnot at the cabin-ambient lift (the lift floored at 1 K, the COP
capped at 10), in heating and in cooling alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rc_cabin_log(
    ambient_c: float,
    seed: int,
    n: int = 1800,
    run: str | None = None,
    *,
    heat_pump: bool = False,
) -> pd.DataFrame:
    """``n`` seconds of a 1 Hz log (``run`` plus :data:`~.simulator.LOG_COLUMNS`) at a constant
    ambient (°C), starting soaked at ambient; ``heat_pump`` selects the heat-pump machine."""
    rng = np.random.default_rng(seed)
    cab = bat = float(ambient_c)
    setpoint = 22.0
    rows = []
    for t in range(n):
        if t % 300 == 0 and t > 0:
            setpoint = float(rng.uniform(19.0, 25.0))
        speed = 10.0 + 5.0 * np.sin(t / 60.0)
        err = setpoint - cab
        if heat_pump:
            heat = float(np.clip(err * 1500.0, -5000.0, 5000.0))
            cop = min(0.3 * (cab + 273.15) / max(abs(ambient_c - cab), 1.0), 10.0)
            power = abs(heat) / cop
        else:
            power = float(np.clip(abs(err) * 1500.0, 0.0, 5000.0))
            heat = power * (1.0 if err > 0 else -2.5)
        cab += (120.0 * (ambient_c - cab) + heat) / 80_000.0
        bat += (20.0 * (ambient_c - bat) + 5.0 * (cab - bat)) / 200_000.0
        rows.append((float(t), cab, bat, float(ambient_c), speed, power, setpoint))
    columns = ["time_s", "cabin_temp", "battery_temp", "ambient_temp", "speed", "hvac_power"]
    log = pd.DataFrame(rows, columns=[*columns, "setpoint"])
    log.insert(0, "run", run or f"amb{ambient_c:+.0f}s{seed}")
    return log
