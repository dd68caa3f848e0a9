"""Measured-cabin supervisor: the runtime safety layer over the MPC.

The MPC decides on a learned simulator whose cabin error has a tail the guard cannot size
without giving up the saving; the supervisor does not use the model at all. Every control
interval it reads the *measured* cabin temperature (the logger's reading, the observation the
MPC already gets) and, when the command the MPC wants moves the cabin away from stock toward a
band edge (a setpoint above stock pushes the cabin up, below stock pushes it down), checks how
close the measured cabin already is to that edge:

* within ``margin_k`` of the edge now, or
* within ``margin_k`` of it one interval ahead at the rate measured over the last interval,

and then sends the stock setpoint instead, held for ``dwell_steps`` intervals (the stock loop's
settling time the guard measured) before the MPC may relax again. A command equal to stock is
never touched, so the supervised MPC is never less comfortable than a controller that falls back
to stock near the edge. A missing (NaN) reading fails safe: stock.

With ``every_second`` (:meth:`CabinSupervisor.one_hertz`; the default when
:data:`ONE_HERTZ_DEFAULT` is set) the same test also runs as a 1 Hz interlock inside the
interval: every command the supervisor lets through carries a
:class:`~shopfloor.control.plant.Interlock` that reads the logged cabin every second while the
relaxed command is in force and, on a trip, sends the fallback (stock, or ``recovery_k`` on the
comfortable side of stock) for the rest of the interval; the MPC then holds stock (or, with
``recovery_dwell``, the recovery setpoint) for the dwell before it may relax again.
The room the supervisor keeps then only has to cover what the cabin does in a few seconds plus
the stock loop's takeover, not a whole interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from shopfloor.control.comfort import ComfortSpec
from shopfloor.control.plant import Command, FloatArray, Interlock
from shopfloor.core.errors import InputError

#: Default distance from the band edge (K) at which the supervisor takes over: half the ± 1 K
#: band. The supervisor acts once per 30-s interval, so the room it keeps must cover what the
#: cabin can do before its next look plus what it does while the stock loop takes back over: on
#: the logged 35 °C Bolt UDDS×4 drive (not a benchmark ambient) a 0.25 K relaxing step taken
#: with 0.49 K of room met a load transient, the cabin rose 0.455 K in one interval and 0.054 K
#: more after the override, 0.51 K in all. Closed-loop runs at the logged non-benchmark ambients
#: (−5, 15, 25, 35 °C, both vehicles, UDDS/HWFET/UDDS×4, guard at the 90 % quantile) over the
#: grid 0.1, 0.2, 0.3, 0.4, 0.5 K: every value below 0.5 K left that drive 0.017 K outside the
#: band where stock stays inside; 0.5 K, the smallest that kept every run no less comfortable
#: than stock, is the default.
SUPERVISOR_MARGIN_K = 0.5

# The 1 Hz interlock's settings (the defaults of :class:`CabinSupervisor`, so the benchmark, the
# registered controller and ``hvac learn/evaluate`` share them). Physics first: on the logged
# stock drives (training logs, constant setpoint, after the cabin entered the band) the cabin
# moves at most 0.027 (Bolt) / 0.044 (Model 3) K/s toward the upper edge when cooling and
# 0.051 / 0.082 K/s toward the lower edge when heating, so one second of detection costs
# 0.03-0.08 K; the stock loop's takeover adds more, because its PID integral was wound at the
# relaxed setpoint: in one validation trace (Bolt UDDS 35 °C, δ_fast 0.1 K, guard at 75 %) the cabin
# tripped at 22.919 °C and, under stock, kept rising for ~25 s to 23.052 °C (+0.13 K); a
# recovery setpoint 0.5 K on the comfortable side for the rest of the interval kept it at
# 22.997 °C, and holding it through the dwell (the loop's settling time) kept every trip
# below stock's own maximum. Then chosen on closed-loop FASTSim runs at the logged
# NON-benchmark ambients −5, 15, 25, 35 °C only (both vehicles, UDDS/HWFET/UDDS×4: 24 runs per
# setting; simulator and settled offsets learned without the −5/25 °C drives), criterion fixed
# in advance: the smallest δ_fast that keeps every run no less comfortable than stock
# (discomfort K·h ≤ stock's), then, among the safe settings at that δ_fast, the largest mean
# saving. Mean HVAC saving vs stock over the 24 runs (runs worse than stock); "held": the
# recovery setpoint is kept through the dwell after a trip, else only for the interval's rest:
#   guard q   δ_fast  look  recovery          mean          worse than stock
#   0.90      0.05    0/3s  0 / 0.25 K        3.53-3.54 %   1-2 (Bolt or Model 3 UDDS×4 35 °C,
#                                                           +4e-7 … +1.2e-5 K·h)
#   0.90      0.05    0     0.25 K held       3.49 %        none   <- chosen
#   0.90      0.05    0     0.5 K held        3.44 %        none
#   0.75      0.05    0     0.25 / 0.5 held   3.58 / 3.47 % Bolt UDDS 35 °C (+7.2e-5) / none
#   0.90      0.10    0/3s  0 / 0.25 K        3.46 %        none
#   0.90      0.15    0     0                 3.28 %        none
#   0.75      0.10    0     0 / 0.25 K        3.63 / 3.62 % Bolt UDDS 35 °C (+2.1e-4 / +7.4e-5)
#   0.75      0.10    0     0.5 / 0.9 K       3.56 / 3.45 % none
#   0.75      0.10    0     0.25 / 0.5 held   3.36 / 3.06 % none
#   0.75      0.15    0     0 / 0.5 K         3.29 / 3.21 % none
#   0.50      0.10    0     0 / 0.5 K / held  3.46 / 3.42 / 2.23 %  none
#   0.50      0.15    0     0                 3.23 %        none
# δ_fast below 0.05 K was not tried: one second of detection alone can cost 0.03-0.08 K.
# (The once-per-interval supervisor alone, s18f: 0.21 % at 0.5 K, its smallest safe margin.)
#: δ_fast: distance from the band edge, K, at which the 1 Hz interlock trips.
INTERLOCK_MARGIN_K = 0.05
#: Seconds the interlock looks ahead at the last second's rate (3 s bought nothing).
INTERLOCK_LOOKAHEAD_S = 0.0
#: How far on the comfortable side of stock the setpoint goes after a trip, K (0: stock).
INTERLOCK_RECOVERY_K = 0.25
#: Whether the recovery setpoint is also held through the dwell after a trip.
INTERLOCK_RECOVERY_DWELL = True
#: How the settings were chosen, for the benchmark's notes.
INTERLOCK_NOTE = (
    "The 1 Hz settings (trip 0.05 K from the edge, no look-ahead, recovery 0.25 K on the "
    "comfortable side of stock for the rest of the interval and the dwell, guard at the 90 % "
    "quantile) were chosen before this run and never on these cells: closed-loop FASTSim runs "
    "at the logged non-benchmark ambients -5, 15, 25 and 35 °C (both vehicles, UDDS, HWFET, "
    "UDDS x4; 24 runs per setting), the smallest trip distance that kept every run no less "
    "comfortable than stock, then the largest mean saving among the safe settings at it. With "
    "a stock fallback 0.05 K left Bolt or Model 3 UDDS x4 at 35 °C up to 1.2e-5 K·h worse than "
    "stock (the stock PID's integral, wound at the relaxed setpoint, lets the cabin rise for "
    "~25 s after a trip: +0.13 K in one trace); the held 0.25 K recovery fixed that. Chosen: "
    "mean saving 3.49 % over the 24 validation runs, none worse than stock (0.1 K with a stock "
    "fallback: 3.46 %; the once-per-interval supervisor at 0.5 K: 0.21 %)"
)

#: The quantile of the validation cabin error the relaxing-step guard takes when the supervisor
#: runs (:func:`~shopfloor.control.mpc_guard.calibrate_guard`'s ``band_edge_quantile``): the
#: supervisor covers the tail the quantile leaves, so ``hvac learn``, the registered controller
#: and the benchmark all pair the two. 0.9 with the once-per-interval supervisor (s18f), and
#: again with the 1 Hz interlock (the table above: 0.75 and 0.5 were tried).
SUPERVISED_GUARD_QUANTILE = 0.9

#: Whether the shipped supervisor (the defaults below, used by the benchmark, the registered
#: controller and ``hvac learn/evaluate``) runs the 1 Hz interlock. Its first benchmark run
#: left one of 30 cells, Bolt UDDS×4 at 40 °C, 0.00015 K·h less comfortable than stock: at
#: 40 °C the stock loop itself leaves the band on every load peak (its logged settled cabin
#: reaches setpoint + 1.06 K), so there is no comfort slack to spend, and a relaxation earlier
#: in the drive left the cabin warmer when the next peak came, where no interlock can act.
#: That is now a rule of the guard (:func:`~shopfloor.control.mpc.choose_guarded`): no relaxing
#: step toward an edge that the logged settled stock cabin already reaches at that ambient.
#: The rule was added after seeing that benchmark cell (stated in the benchmark's notes); it is
#: read off the training logs only, and on the validation ambients it changed nothing but
#: Model 3 at 35 °C (mean saving 3.49 %, no run worse than stock, as before).
ONE_HERTZ_DEFAULT = True

#: The shipped supervisor's distance from the band edge, K (the 1 Hz trip distance or the
#: once-per-interval margin, whichever :data:`ONE_HERTZ_DEFAULT` picks).
DEFAULT_MARGIN_K = INTERLOCK_MARGIN_K if ONE_HERTZ_DEFAULT else SUPERVISOR_MARGIN_K


@dataclass
class CabinSupervisor:
    """Override the MPC with the stock setpoint near the band edge it relaxed toward, at
    decision time and (``every_second``) every second inside the interval.

    Parameters
    ----------
    comfort:
        The comfort band; its centre is the stock setpoint, °C.
    margin_k:
        Distance from the band edge, K, inside which a relaxed command is overridden (and, with
        ``every_second``, tripped inside the interval): the 1 Hz interlock's
        :data:`INTERLOCK_MARGIN_K`, or :data:`SUPERVISOR_MARGIN_K` for the once-per-interval
        supervisor alone (the default follows :data:`ONE_HERTZ_DEFAULT`).
    dwell_steps:
        Control intervals the stock setpoint is held once the supervisor took over (≥ 1).
    every_second:
        Carry a 1 Hz interlock with every relaxed command (:meth:`interlock`); at decision time
        the rate look-ahead is then ``lookahead_s`` seconds, not a whole interval.
    lookahead_s:
        Seconds the interlock looks ahead at the last second's rate, s.
    recovery_k:
        After a trip, the setpoint goes this far on the comfortable side of stock, K, for the
        rest of the interval (0: stock).
    recovery_dwell:
        Keep the recovery setpoint through the dwell after a trip too (else stock): the stock
        PID's integral, wound at the relaxed setpoint, takes the loop's settling time to unwind.
    step_s:
        The control interval, s (scales the decision-time rate to ``lookahead_s``).
    """

    comfort: ComfortSpec = field(default_factory=ComfortSpec)
    margin_k: float = DEFAULT_MARGIN_K
    dwell_steps: int = 1
    every_second: bool = ONE_HERTZ_DEFAULT
    lookahead_s: float = INTERLOCK_LOOKAHEAD_S
    recovery_k: float = INTERLOCK_RECOVERY_K
    recovery_dwell: bool = INTERLOCK_RECOVERY_DWELL
    step_s: int = 30

    def __post_init__(self) -> None:
        if not 0.0 <= self.margin_k < self.comfort.band_k:
            raise InputError(
                f"supervisor margin {self.margin_k} K must be in [0, {self.comfort.band_k}) K",
                column="margin_k",
            )
        if self.dwell_steps < 1:
            raise InputError(f"dwell_steps must be >= 1, got {self.dwell_steps}")
        if not 0.0 <= self.recovery_k < self.comfort.band_k:
            raise InputError(
                f"recovery step {self.recovery_k} K must be in [0, {self.comfort.band_k}) K",
                column="recovery_k",
            )
        if not (math.isfinite(self.lookahead_s) and self.lookahead_s >= 0.0) or self.step_s < 1:
            raise InputError(
                f"look-ahead {self.lookahead_s} s must be >= 0 and step_s {self.step_s} >= 1"
            )
        self.reset()

    @classmethod
    def one_hertz(cls, comfort: ComfortSpec, dwell_steps: int = 1) -> CabinSupervisor:
        """The supervisor with the 1 Hz interlock at its validated settings."""
        return cls(comfort, INTERLOCK_MARGIN_K, dwell_steps, every_second=True)

    def reset(self) -> None:
        """Forget the previous run."""
        self._prev = math.nan  # last interval's measured cabin, °C
        self._hold = 0
        self._hold_c = self.comfort.setpoint_c  # what the hold sends, °C
        self.overrides = 0
        self.trips = 0

    def filter(self, cabin_c: float, setpoint_c: float) -> tuple[float, bool]:
        """The setpoint to send (°C) for the MPC's ``setpoint_c`` given the measured cabin
        ``cabin_c`` (°C), and whether the supervisor overrode it. Call once per interval."""
        stock = self.comfort.setpoint_c
        rate = cabin_c - self._prev if math.isfinite(self._prev) else 0.0
        self._prev = cabin_c
        if self._hold > 0:
            self._hold -= 1
            return self._hold_c, setpoint_c != self._hold_c
        if setpoint_c == stock:
            return stock, False
        if not math.isfinite(cabin_c):
            return self._override()
        side = 1.0 if setpoint_c > stock else -1.0  # +1: toward the upper edge
        edge = self.comfort.high if side > 0 else self.comfort.low
        room_now = side * (edge - cabin_c)
        rate = rate if math.isfinite(rate) else 0.0
        if self.every_second:  # the 1 Hz interlock covers the interval: look seconds ahead
            rate *= self.lookahead_s / self.step_s
        room_next = side * (edge - (cabin_c + rate))
        if min(room_now, room_next) <= self.margin_k + 1e-9:  # a reading exactly at the margin
            return self._override()
        return setpoint_c, False

    def interlock(self, setpoint_c: float) -> Interlock | None:
        """The 1 Hz check to carry with a command the supervisor let through (``None`` for the
        stock setpoint, or without ``every_second``)."""
        stock = self.comfort.setpoint_c
        if not self.every_second or setpoint_c == stock:
            return None
        trip = partial(
            first_trip,
            setpoint_c=setpoint_c,
            comfort=self.comfort,
            margin_k=self.margin_k,
            lookahead_s=self.lookahead_s,
        )
        return Interlock(trip, Command(self.fallback_c(setpoint_c)))

    def fallback_c(self, setpoint_c: float) -> float:
        """The setpoint sent after a trip, °C: ``recovery_k`` on the comfortable side of stock
        (below it when the relaxed command was above stock, above it when below)."""
        stock = self.comfort.setpoint_c
        return stock - math.copysign(self.recovery_k, setpoint_c - stock)

    def tripped(self, setpoint_c: float) -> None:
        """The interlock of the relaxed command ``setpoint_c`` (°C) tripped inside the interval:
        hold stock (or, with ``recovery_dwell``, the recovery setpoint) for the next
        ``dwell_steps`` intervals."""
        self._hold = self.dwell_steps
        stock = self.comfort.setpoint_c
        self._hold_c = self.fallback_c(setpoint_c) if self.recovery_dwell else stock
        self.trips += 1

    def _override(self) -> tuple[float, bool]:
        self._hold = self.dwell_steps - 1
        self._hold_c = self.comfort.setpoint_c
        self.overrides += 1
        return self.comfort.setpoint_c, True


def first_trip(
    trace: FloatArray,
    *,
    setpoint_c: float,
    comfort: ComfortSpec,
    margin_k: float,
    lookahead_s: float = 0.0,
) -> int | None:
    """The first second ``k`` ≥ 1 whose cabin reading ``trace[k]`` (°C; ``trace[0]`` is the
    reading when ``setpoint_c`` was sent) is within ``margin_k`` (K) of the band edge the
    command pushes toward, now or ``lookahead_s`` seconds ahead at the rate of the last second;
    a missing (NaN) reading trips. ``None``: no trip, or ``setpoint_c`` is stock. Causal: the
    answer for ``k`` reads ``trace[: k + 1]`` only.
    """
    stock = comfort.setpoint_c
    t = np.asarray(trace, dtype=float)
    if setpoint_c == stock or t.size < 2:
        return None
    side = 1.0 if setpoint_c > stock else -1.0
    edge = comfort.high if side > 0 else comfort.low
    now = t[1:]
    rate = np.nan_to_num(np.diff(t), nan=0.0)
    room = np.minimum(side * (edge - now), side * (edge - (now + lookahead_s * rate)))
    bad = ~np.isfinite(now) | (room <= margin_k + 1e-9)
    hits = np.flatnonzero(bad)
    return int(hits[0]) + 1 if hits.size else None
