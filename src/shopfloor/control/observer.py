"""Offset-free prediction for the cabin MPC: a disturbance observer on the measured cabin.

A learned simulator rolled out open loop drifts from the plant, and most of that drift is slow
(a load the logs did not show, a droop the model misses), so its error over a few minutes is
mostly a bias. Textbook offset-free MPC (Pannocchia & Rawlings 2003; Maeder, Borrelli & Morari
2009) augments the model with a constant disturbance state, estimates it every control step from
the measured output, and carries it over the horizon. Here the disturbance ``d`` (K per control
interval) is added to the simulator's cabin update::

    cabin[k+1] = f(cabin[k], ...) + d

and estimated from the innovation of the one-step prediction the controller made an interval
earlier, with the measured cabin temperature a real car's logger records::

    d ← d + L · (cabin measured − cabin predicted)

Because ``d`` enters the model's state, the simulated stock PID reacts to it inside a rollout as
the plant's does. ``L = 0`` is the uncorrected simulator. The gain is measured per mode on the
in-log validation split by :func:`~shopfloor.control.mpc_guard.calibrate_guard`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopfloor.control.simulator import CabinSimulator, FloatArray
from shopfloor.core.errors import InputError

#: Observer gains tried on the validation split; 0 keeps the uncorrected simulator, 1 puts the
#: whole last innovation into the disturbance (deadbeat).
OBSERVER_GAINS = (0.0, 0.2, 0.35, 0.5, 1.0)


def disturbed_rollout(
    sim: CabinSimulator,
    cabin_c: float,
    battery_c: float,
    observer_z: float,
    setpoints: FloatArray,
    ambient: FloatArray,
    speed: FloatArray,
    disturbance_k: float,
) -> tuple[FloatArray, FloatArray]:
    """:meth:`CabinSimulator.rollout` with ``disturbance_k`` (K per interval) added to the
    cabin at every interval's end (no extrapolation warning: callers state it once).

    Parameters and returns as :meth:`CabinSimulator.rollout`: ``setpoints`` is
    (n_candidates, horizon) °C; returns (n_candidates, horizon) cabin °C and power W.
    """
    return sim.rollout(
        cabin_c, battery_c, observer_z, setpoints, ambient, speed,
        warn=False, disturbance_k=disturbance_k,
    )  # fmt: skip


@dataclass
class DisturbanceObserver:
    """Cabin disturbance estimate (K per control interval) from the measured cabin.

    Parameters
    ----------
    gain:
        Share of each innovation (measured − predicted cabin, K) added to the estimate,
        0 ≤ gain ≤ 1; 0 never corrects.
    """

    gain: float = 0.0
    estimate_k: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gain <= 1.0:
            raise InputError(f"observer gain must be in [0, 1], got {self.gain}", column="gain")

    def update(self, innovation_k: float) -> float:
        """Fold in one innovation of the *disturbed* one-step prediction; returns the estimate."""
        if np.isfinite(innovation_k):  # a missing reading leaves the estimate as it is
            self.estimate_k += self.gain * float(innovation_k)
        return self.estimate_k


def estimates_along(innovations: FloatArray, gain: float) -> FloatArray:
    """Disturbance estimate available at each interval's start of a logged drive, from the
    innovations of the *undisturbed* one-step predictions (``innovations[k]``: logged cabin at
    the end of interval ``k`` minus the simulator's one-step prediction): the estimate at ``k``
    uses innovations up to ``k − 1``, as a controller deciding at ``k`` would."""
    obs = DisturbanceObserver(gain)
    out = np.empty(len(innovations))
    for k, inn in enumerate(np.asarray(innovations, dtype=float)):
        out[k] = obs.estimate_k
        # the disturbed prediction is the undisturbed one plus the estimate
        obs.update(inn - obs.estimate_k)
    return out
