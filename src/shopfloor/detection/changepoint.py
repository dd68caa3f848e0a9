"""Changepoint detection: when did the fault begin? A CUSUM on the threshold margin.

:class:`CusumAlarm` is an alarm logic (Page 1954): it accumulates how far the score runs above
its threshold, ``g⁺_t = max(0, g⁺_{t−1} + m_t)`` with ``m_t = score/threshold − 1``, and raises
the alarm when ``g⁺`` exceeds ``decision`` (a lone spike of margin < ``decision`` is absorbed;
a sustained excess of any size is caught, the larger the sooner). The estimated changepoint is
the last step at which ``g⁺`` was zero, i.e. where the excess began (``onset`` in the state;
:meth:`CusumAlarm.changepoints` lists them). Once on, the alarm clears by the mirror rule on
``g⁻_t = max(0, g⁻_{t−1} − m_t − hysteresis)``.

>>> alarm = CusumAlarm(decision=1.0).fit([0.0])
>>> alarm.predict([-0.5, 0.4, 0.4, 0.4, -0.5, -1.0, -1.0]).tolist()
[0, 0, 0, 1, 1, 0, 0]
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from shopfloor.core.base import Interval
from shopfloor.core.detection_roles import AlarmLogic

__all__ = ["CusumAlarm"]


class CusumAlarm(AlarmLogic):
    """CUSUM of the threshold margin, with a changepoint (onset) estimate.

    Parameters
    ----------
    decision : float > 0, default 2.0
        Cumulative margin (in thresholds) that raises the alarm: e.g. 2 steps at twice the
        threshold, or 10 steps 20 % above it.
    hysteresis : float in [0, 1), default 0.1
        Margin below ``−hysteresis`` counts towards clearing.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "decision": [Interval(float, 0.0, None, closed="neither")],
        "hysteresis": [Interval(float, 0.0, 1.0, closed="left")],
    }

    def __init__(self, decision: float = 2.0, hysteresis: float = 0.1) -> None:
        self.decision = decision
        self.hysteresis = hysteresis

    def _initial_state(self) -> dict[str, Any]:
        return {"on": False, "up": 0.0, "down": 0.0, "step": -1, "zero": -1, "onsets": []}

    def _step(self, state: dict[str, Any], margin: float) -> bool:
        state["step"] += 1
        if math.isnan(margin):
            return bool(state["on"])
        # Margins are capped at the decision interval so one wild value cannot decide alone.
        m = min(margin, self.decision)
        if not state["on"]:
            state["up"] = max(0.0, state["up"] + m)
            if state["up"] == 0.0:
                state["zero"] = state["step"]
            if state["up"] >= self.decision:
                state["on"] = True
                state["down"] = 0.0
                state["onsets"].append(state["zero"] + 1)
        else:
            state["down"] = max(0.0, state["down"] - m - self.hysteresis)
            if state["down"] >= self.decision:
                state["on"] = False
                state["up"] = 0.0
                state["zero"] = state["step"]
        return bool(state["on"])

    def changepoints(self, margins: object) -> list[int]:
        """Row positions where each alarm's excess began (CUSUM onset estimates)."""
        state = self._initial_state()
        for m in np.asarray(margins, dtype=np.float64).reshape(-1):
            self._step(state, float(m))
        return list(state["onsets"])
