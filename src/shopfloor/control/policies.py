"""Controllers for the cabin plant, and the loop that runs one on a drive.

Every controller sees only the logged observation (and the route ahead, as a navigation system
would tell it) and returns a :class:`~shopfloor.control.plant.Command`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from shopfloor.control.plant import CabinPlant, Command, Episode, FloatArray


class Controller(Protocol):
    """What :func:`run_episode` drives: ``act`` once per control interval."""

    #: True when the command never changes within a run (run as one FASTSim window).
    constant: bool

    def reset(self) -> None: ...

    def act(self, obs: dict[str, float], future: dict[str, FloatArray]) -> Command: ...


@dataclass
class FixedSetpoint:
    """The stock controller: the vehicle's own PID at a fixed setpoint (°C), optionally with a
    cabin HVAC power cap (W), a battery-loop power cap (W) or scaled cabin PID gains (the
    oracle's levers; see :class:`~shopfloor.control.plant.Command`)."""

    setpoint_c: float = 22.0
    power_cap_w: float | None = None
    pack_cap_w: float | None = None
    gain_scale: float = 1.0
    constant: bool = True

    def reset(self) -> None:
        """Nothing to forget."""

    def act(self, obs: dict[str, float], future: dict[str, FloatArray]) -> Command:
        return Command(self.setpoint_c, self.power_cap_w, self.pack_cap_w, self.gain_scale)


@dataclass
class BandEdge:
    """Rule: hold the band edge nearest the ambient (21 °C when heating, 23 °C when cooling)."""

    heat_c: float = 21.0
    cool_c: float = 23.0
    constant: bool = False

    def reset(self) -> None:
        """Nothing to forget."""

    def act(self, obs: dict[str, float], future: dict[str, FloatArray]) -> Command:
        centre = 0.5 * (self.heat_c + self.cool_c)
        return Command(self.heat_c if obs["ambient_temp"] < centre else self.cool_c)


def run_episode(
    plant: CabinPlant,
    controller: Controller,
    cycle: str,
    ambient_c: float,
    *,
    lookahead_s: int = 0,
) -> Episode:
    """Drive ``cycle`` at ``ambient_c`` (°C) under ``controller``; returns the plant's episode.

    A controller whose command never changes runs as one FASTSim window (identical to chained
    windows, which a test checks) because it is ten times faster. When a command's 1 Hz
    :class:`~shopfloor.control.plant.Interlock` trips inside the interval, a controller with a
    ``tripped(seconds)`` method is told after how many seconds, before it acts again.
    """
    obs = plant.reset(cycle, ambient_c)
    controller.reset()
    if controller.constant:
        plant.step(controller.act(obs, plant.future(0)), seconds=plant.n)
        return plant.episode
    tripped = getattr(controller, "tripped", None)
    while not plant.done:
        command = controller.act(obs, plant.future(lookahead_s))
        obs, _ = plant.step(command)
        if plant.tripped_at is not None and tripped is not None:
            tripped(plant.tripped_at)
    return plant.episode


def hvac_energy_wh(episode: Episode) -> float:
    """HVAC electric energy of a run (cabin + battery loop), Wh."""
    return float(np.sum(episode.log["hvac_power"]) / 3600.0)
