"""Alarm logic: persistence and hysteresis, so one spike pages no one.

:class:`PersistenceAlarm` raises an alarm once the score has stayed above its threshold for
``on_steps`` consecutive steps, and clears it once the score has stayed below
``threshold · (1 − hysteresis)`` for ``off_steps`` consecutive steps (the dead band stops an
alarm chattering on and off around the threshold). A masked step (NaN margin: the data
quality guard took it out) neither raises nor clears: it resets the count towards raising and
leaves an active alarm as it is.

>>> alarm = PersistenceAlarm(on_steps=2, off_steps=2, hysteresis=0.1)
>>> alarm.fit([0.0]).predict([0.5, -0.2, 0.3, 0.4, 0.1, -0.05, -0.2, -0.3]).tolist()
[0, 0, 0, 1, 1, 1, 1, 0]
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from shopfloor.core.base import Interval
from shopfloor.core.detection_roles import AlarmLogic

__all__ = ["PersistenceAlarm"]


class PersistenceAlarm(AlarmLogic):
    """On after ``on_steps`` exceedances in a row, off after ``off_steps`` clear steps in a row.

    Parameters
    ----------
    on_steps : int >= 1, default 3
        Consecutive steps above the threshold (margin > 0) before the alarm is raised. At 1 Hz
        the default waits 3 s, which a fault that matters outlasts and a lone spike does not.
    off_steps : int >= 1, default 3
        Consecutive steps below the clearing level before the alarm is cleared.
    hysteresis : float in [0, 1), default 0.1
        Dead band as a fraction of the threshold: the alarm clears only below
        ``threshold · (1 − hysteresis)``, i.e. margin < −hysteresis.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "on_steps": [Interval(int, 1, None, closed="left")],
        "off_steps": [Interval(int, 1, None, closed="left")],
        "hysteresis": [Interval(float, 0.0, 1.0, closed="left")],
    }

    def __init__(self, on_steps: int = 3, off_steps: int = 3, hysteresis: float = 0.1) -> None:
        self.on_steps = on_steps
        self.off_steps = off_steps
        self.hysteresis = hysteresis

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{}, {"on_steps": 1, "off_steps": 1, "hysteresis": 0.0}]

    def _initial_state(self) -> dict[str, Any]:
        return {"on": False, "above": 0, "below": 0}

    def _step(self, state: dict[str, Any], margin: float) -> bool:
        if math.isnan(margin):
            state["above"] = 0
            return bool(state["on"])
        if margin > 0:
            state["above"] += 1
            state["below"] = 0
        elif margin < -self.hysteresis:
            state["below"] += 1
            state["above"] = 0
        else:  # inside the dead band: neither raises nor clears
            state["above"] = 0
            state["below"] = 0
        if not state["on"] and state["above"] >= self.on_steps:
            state["on"] = True
        elif state["on"] and state["below"] >= self.off_steps:
            state["on"] = False
        return bool(state["on"])
