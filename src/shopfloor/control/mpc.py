"""Sampling-based model-predictive control of the cabin on the learned simulator, and the
oracle that optimises on the plant itself.

:class:`SamplingMPC` tries every setpoint of a grid, held over the horizon, on the learned
:class:`~shopfloor.control.simulator.CabinSimulator`, and keeps the cheapest one (predicted HVAC
energy) whose predicted discomfort, measured against the comfort band shrunk by ``margin_k``, is
no worse than what the stock setpoint is predicted to give from the same state. The margin is the
safety allowance for model error; sweeping it traces shopfloor's energy-comfort curve.

Until the cabin first reaches the band the MPC commands the stock setpoint, so its warm-up is the
stock controller's, the same allowance the comfort definition grants every controller.

:func:`oracle_search` is the limit: the same kind of decision (setpoint, and a cabin power cap)
searched directly on FASTSim, keeping the cheapest run whose measured discomfort is no worse than
stock's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from shopfloor.control.comfort import ComfortSpec, comfort_metrics, warmup_s
from shopfloor.control.mpc_guard import MPCGuard
from shopfloor.control.observer import disturbed_rollout
from shopfloor.control.plant import CabinPlant, Command, Episode, FloatArray
from shopfloor.control.policies import FixedSetpoint, hvac_energy_wh, run_episode
from shopfloor.control.simulator import CabinSimulator, ExtrapolationWarning, observer_gain
from shopfloor.control.steady import offset_bounds
from shopfloor.control.supervisor import CabinSupervisor


@dataclass
class SamplingMPC:
    """Receding-horizon setpoint choice on a learned simulator.

    Parameters
    ----------
    simulator:
        A fitted :class:`CabinSimulator` (its ``step_s`` is the control interval).
    comfort:
        The comfort band.
    margin_k:
        How far inside the band (K) the prediction must stay to count as comfortable (default
        a tenth of the 1 K half-width).
    horizon_steps:
        Control intervals looked ahead.
    setpoints_c:
        Candidate setpoints, °C (default: band centre ± 3 K in 0.25 K steps).
    guard:
        Anti-chatter rules (dwell, relaxing-step guard, stock preference) measured on the
        training logs by :func:`~shopfloor.control.mpc_guard.calibrate_guard`; ``None``: every
        interval decides afresh with ``margin_k`` alone.
    supervisor:
        Measured-cabin safety layer (:class:`~shopfloor.control.supervisor.CabinSupervisor`)
        applied to every command after warm-up: near the band edge the MPC relaxed toward it
        sends the stock setpoint instead, and (``every_second``) a relaxed command carries its
        1 Hz interlock into the plant; ``None``: no supervisor.
    """

    simulator: CabinSimulator
    comfort: ComfortSpec = field(default_factory=ComfortSpec)
    margin_k: float = 0.1
    horizon_steps: int = 8
    setpoints_c: FloatArray | None = None
    constant: bool = False
    notes: list[str] = field(default_factory=list)
    guard: MPCGuard | None = None
    supervisor: CabinSupervisor | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.margin_k < self.comfort.band_k:
            from shopfloor.core.errors import InputError

            raise InputError(
                f"infeasible comfort band: margin {self.margin_k} K leaves nothing of the "
                f"± {self.comfort.band_k} K band",
                column="margin_k",
            )

    def reset(self) -> None:
        """Forget the previous run."""
        self._warm = False
        self._z = 0.0
        self.notes = []
        self._warned = False
        self._held = self.comfort.setpoint_c
        self._left = 0
        self._d = 0.0  # cabin disturbance estimate, K per interval (offset-free prediction)
        self._pred = float("nan")  # last interval's one-step cabin prediction, °C
        self._last = (self.comfort.setpoint_c, float("nan"), 0.0)  # sent, cabin, z before
        if self.supervisor is not None:
            self.supervisor.reset()

    def _candidates(self) -> FloatArray:
        if self.setpoints_c is not None:
            return np.asarray(self.setpoints_c, dtype=float)
        c = self.comfort.setpoint_c
        return np.arange(c - 3.0, c + 3.0 + 1e-9, 0.25)

    def act(self, obs: dict[str, float], future: dict[str, FloatArray]) -> Command:
        spec = self.comfort
        heating = obs["ambient_temp"] < spec.setpoint_c
        gain = 0.0 if self.guard is None else self.guard.observer_gain_for(heating)
        command = self._decide(obs, future, heating, gain)
        if self.supervisor is not None:
            setpoint, over = self.supervisor.filter(obs["cabin_temp"], command.setpoint_c)
            if over:  # stock (or recovery); the MPC decides afresh once the hold ends
                command = Command(setpoint)
                self._held, self._left = self.comfort.setpoint_c, 0
            else:
                command = replace(command, interlock=self.supervisor.interlock(setpoint))
        return self._commit(command, obs, future, gain)

    def tripped(self, seconds: int) -> None:
        """The command's 1 Hz interlock tripped after ``seconds`` of the interval (called by
        :func:`~shopfloor.control.policies.run_episode`): the supervisor holds stock (or its
        recovery setpoint) for its dwell, the MPC decides afresh after it, the observer state
        is redone with the time-weighted setpoint actually sent, and the next innovation is
        skipped (its one-step prediction was for the relaxed command)."""
        if self.supervisor is None:
            return
        sent, cab, z0 = self._last
        self.supervisor.tripped(sent)
        stock = self.comfort.setpoint_c
        self._held, self._left, self._pred = stock, 0, float("nan")
        frac = min(max(seconds / self.simulator.step_s, 0.0), 1.0)
        eff = frac * sent + (1.0 - frac) * self.supervisor.fallback_c(sent)
        a = observer_gain(self.simulator.step_s)
        self._z = a * z0 + (1.0 - a) * (eff - cab)

    def _decide(
        self, obs: dict[str, float], future: dict[str, FloatArray], heating: bool, gain: float
    ) -> Command:
        """The MPC's own command for this interval (before the supervisor)."""
        spec = self.comfort
        if gain > 0.0 and np.isfinite(self._pred):  # measured − predicted cabin
            self._d += gain * (obs["cabin_temp"] - self._pred)
        if not self._warm and spec.low <= obs["cabin_temp"] <= spec.high:
            self._warm = True
        if not self._warm:
            return Command(spec.setpoint_c)
        if self._left > 0:  # dwell: the plant's PID is still settling on the last decision
            self._left -= 1
            return Command(self._held)
        step = self.simulator.step_s
        amb = _per_step(future["ambient_temp"], step, self.horizon_steps, obs["ambient_temp"])
        spd = _per_step(future["speed"], step, self.horizon_steps, obs["speed"])
        if self.simulator.extrapolating(amb) and not self._warned:
            self._warned = True
            lo, hi = self.simulator.ambient_range_
            self.notes.append(
                f"ambient {amb.min():.1f} °C outside logged {lo:.1f}..{hi:.1f} °C: extrapolating"
            )
        # last two rows: the setpoint held now, and the stock setpoint
        cands = np.append(self._candidates(), [self._held, spec.setpoint_c])
        state = (obs["cabin_temp"], obs["battery_temp"], self._z)
        plan = np.repeat(cands[:, None], self.horizon_steps, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)  # noted once above
            cabin, power = disturbed_rollout(self.simulator, *state, plan, amb, spd, self._d)
            if self._d != 0.0 and self.guard is not None and not self.guard.correct_energy:
                # the guard measured the uncorrected energy as the better one
                _, power = self.simulator.rollout(*state, plan, amb, spd, warn=False)
        if self.guard is None:
            choice, note = choose(cands, cabin, power, spec, self.margin_k)
        else:
            choice, note = choose_guarded(
                cands,
                cabin,
                power,
                spec,
                self.margin_k,
                self.guard,
                heating=heating,
                ambient_c=float(np.mean(amb)),
            )
            self._left = self.guard.dwell_steps - 1
        if note:
            self.notes.append(note)
        self._held = choice
        return Command(choice)

    def _commit(
        self, command: Command, obs: dict[str, float], future: dict[str, FloatArray], gain: float
    ) -> Command:
        """Advance the simulator's observer state (the stock PID's integral, as the simulator
        learned it from logs) by the command now sent, and, with a disturbance observer
        (``gain`` > 0), predict the cabin at this interval's end for the next innovation."""
        if gain > 0.0:
            step = self.simulator.step_s
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExtrapolationWarning)
                cabin, _ = disturbed_rollout(
                    self.simulator,
                    obs["cabin_temp"],
                    obs["battery_temp"],
                    self._z,
                    np.array([[command.setpoint_c]]),
                    _per_step(future["ambient_temp"], step, 1, obs["ambient_temp"]),
                    _per_step(future["speed"], step, 1, obs["speed"]),
                    self._d,
                )
            self._pred = float(cabin[0, 0])
        a = observer_gain(self.simulator.step_s)
        self._last = (command.setpoint_c, obs["cabin_temp"], self._z)
        self._z = a * self._z + (1.0 - a) * (command.setpoint_c - obs["cabin_temp"])
        return command


def choose(
    cands: FloatArray, cabin: FloatArray, power: FloatArray, spec: ComfortSpec, margin_k: float
) -> tuple[float, str]:
    """The cheapest candidate whose predicted discomfort, against the band shrunk by
    ``margin_k``, is no worse than the last candidate's (the stock setpoint) against the full
    band. Returns the setpoint and a note when no candidate qualifies (then: least discomfort).
    """
    shrunk = ComfortSpec(spec.setpoint_c, spec.band_k - margin_k)
    excess = shrunk.excess_k(cabin).sum(axis=1)
    feasible = excess <= spec.excess_k(cabin[-1]).sum() + 1e-9
    if not feasible.any():  # only with NaN predictions; stated fallback
        return float(cands[int(np.nanargmin(excess))]), "no comfortable setpoint: least discomfort"
    energy = np.where(feasible, power.sum(axis=1), np.inf)
    return float(cands[int(np.argmin(energy))]), ""


def choose_guarded(
    cands: FloatArray,
    cabin: FloatArray,
    power: FloatArray,
    spec: ComfortSpec,
    margin_k: float,
    guard: MPCGuard,
    *,
    heating: bool = True,
    ambient_c: float | None = None,
) -> tuple[float, str]:
    """:func:`choose` with the guard's rules. Rows: candidates, then the setpoint held now
    (second to last), then the stock setpoint (last).

    A candidate predicted to use less energy than holding the current setpoint (a relaxing
    step) must keep its whole predicted cabin inside the band edges themselves by the model's
    cabin error for that move (``guard.cabin_error_for(candidate − held, heating)``, or
    ``margin_k``, the larger): an absolute test, not a comparison with stock's predicted
    excursion (a stock prediction just outside the band used to let a relaxing step through at
    the edge). Where the guard has the stock loop's settled offsets for ``ambient_c`` (°C), a
    relaxing step also passes when the settled cabin at that setpoint (setpoint + the logged
    settled offset bounds) and the whole predicted horizon both stay ``margin_k`` inside the
    band: the settled offset is read off the logs, with no horizon model error in it.
    Where those settled offsets say the stock loop itself, settled at its own setpoint, already
    reaches a band edge at this ambient (the logged drives left the band there), no relaxing
    step toward that edge is taken at all: "no less comfortable than stock" leaves no slack on
    that side, and a relaxation now leaves the cabin warmer (or colder) when the next load peak
    that drives stock out comes.
    The stock setpoint is kept unless the chosen candidate's predicted saving over
    the horizon, as a fraction of stock's predicted energy, exceeds ``guard.saving_error_frac``.
    """
    energy = power.sum(axis=1)
    stock_excess = spec.excess_k(cabin[-1]).sum() + 1e-9
    excess = ComfortSpec(spec.setpoint_c, spec.band_k - margin_k).excess_k(cabin).sum(axis=1)
    relaxing = energy < energy[-2]
    inside = np.ones(len(cands), dtype=bool)
    bounds = None if ambient_c is None else offset_bounds(guard.steady_offsets, ambient_c)
    stock_c = float(cands[-1])
    # the settled stock cabin (stock setpoint + logged settled offsets) already at an edge
    no_slack_high = bounds is not None and stock_c + bounds[1] >= spec.high
    no_slack_low = bounds is not None and stock_c + bounds[0] <= spec.low
    for i in np.flatnonzero(relaxing):
        if (no_slack_high and cands[i] > stock_c) or (no_slack_low and cands[i] < stock_c):
            inside[i] = False
            continue
        err = guard.cabin_error_for(float(cands[i] - cands[-2]), heating)
        strict_k = min(max(margin_k, err), spec.band_k - 1e-6)
        lo, hi = spec.low + strict_k, spec.high - strict_k
        inside[i] = bool(np.all((cabin[i] >= lo) & (cabin[i] <= hi)))
        if not inside[i] and bounds is not None:
            # settled-offset route: the stock loop's logged settled cabin at this setpoint stays
            # inside the band by the margin, and so does the whole predicted horizon
            lo, hi = spec.low + margin_k, spec.high - margin_k
            settled = lo <= cands[i] + bounds[0] and cands[i] + bounds[1] <= hi
            inside[i] = settled and bool(np.all((cabin[i] >= lo) & (cabin[i] <= hi)))
    feasible = (excess <= stock_excess) & (~relaxing | inside)
    stock = float(cands[-1])
    if not feasible.any():
        if np.isnan(cabin).any():  # only NaN predictions get here; stated fallback
            return stock, "no comfortable setpoint predicted: stock setpoint"
        return stock, ""
    best = int(np.argmin(np.where(feasible, energy, np.inf)))
    base = float(energy[-1])
    if not base > 0.0:  # no HVAC energy predicted for stock: nothing to save
        return stock, ""
    if (base - energy[best]) / base <= guard.saving_error_frac:
        return stock, ""
    return float(cands[best]), ""


@dataclass
class PlantMPC:
    """The oracle's receding-horizon half: :class:`SamplingMPC`'s decision rule with FASTSim
    itself (a perfect model) previewing every candidate from the true state."""

    plant: CabinPlant
    comfort: ComfortSpec = field(default_factory=ComfortSpec)
    horizon_steps: int = 4
    setpoints_c: FloatArray | None = None
    constant: bool = False

    def reset(self) -> None:
        """Forget the previous run."""
        self._warm = False

    def act(self, obs: dict[str, float], future: dict[str, FloatArray]) -> Command:
        spec = self.comfort
        if not self._warm and spec.low <= obs["cabin_temp"] <= spec.high:
            self._warm = True
        if not self._warm:
            return Command(spec.setpoint_c)
        base = (
            np.arange(spec.setpoint_c - 2.0, spec.setpoint_c + 2.0 + 1e-9, 0.5)
            if self.setpoints_c is None
            else np.asarray(self.setpoints_c, dtype=float)
        )
        cands = np.append(base, spec.setpoint_c)
        seconds = self.horizon_steps * self.plant.step_s
        rows = [self.plant.preview(Command(float(c)), seconds) for c in cands]
        n = min(len(r[0]) for r in rows)
        cabin = np.array([r[0][:n] for r in rows])
        power = np.array([r[1][:n] for r in rows])
        return Command(choose(cands, cabin, power, spec, 0.0)[0])


def _per_step(values: FloatArray, step: int, steps: int, fallback: float) -> FloatArray:
    """Means of ``values`` (1 Hz) over ``steps`` intervals, padding with the last value."""
    need = step * steps
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        arr = np.array([fallback])
    if arr.size < need:
        arr = np.concatenate([arr, np.full(need - arr.size, arr[-1])])
    out: FloatArray = arr[:need].reshape(steps, step).mean(axis=1)
    return out


def score(episode: Episode, comfort: ComfortSpec, allowance_s: float) -> dict[str, float]:
    """Energies (Wh), comfort and distance of one run."""
    return {
        "hvac_wh": hvac_energy_wh(episode),
        "hvac_cabin_wh": float(episode.hvac_cabin_power.sum() / 3600.0),
        "hvac_battery_wh": float(episode.hvac_battery_power.sum() / 3600.0),
        "battery_wh": episode.battery_energy_j / 3600.0,
        "distance_km": episode.distance_m / 1000.0,
        **comfort_metrics(episode.log["cabin_temp"], comfort, allowance_s),
    }


@dataclass
class OracleResult:
    """Best plant-side decision found and its score."""

    setpoint_c: float
    power_cap_w: float | None
    score: dict[str, float]
    tried: int
    gain_scale: float = 1.0


def oracle_search(
    plant: CabinPlant,
    cycle: str,
    ambient_c: float,
    comfort: ComfortSpec,
    allowance_s: float,
    stock_discomfort_kh: float,
    *,
    setpoints_c: FloatArray | None = None,
    caps_w: tuple[float | None, ...] = (None, 3000.0),
    gains: tuple[float, ...] = (1.0, 0.5, 2.0),
) -> OracleResult:
    """Cheapest (setpoint, cabin power cap, cabin PID gain scale) held for the whole run on the
    plant itself, or FASTSim-previewed receding-horizon setpoints, whose discomfort is no worse
    than stock's."""
    grid = (
        np.arange(comfort.setpoint_c - 2.0, comfort.setpoint_c + 2.0 + 1e-9, 0.25)
        if setpoints_c is None
        else setpoints_c
    )
    best: OracleResult | None = None
    tried = 0
    for gain in gains:
        for cap in caps_w:
            for sp in grid:
                policy = FixedSetpoint(float(sp), cap, gain_scale=gain)
                s = score(run_episode(plant, policy, cycle, ambient_c), comfort, allowance_s)
                tried += 1
                if s["discomfort_kh"] > stock_discomfort_kh + 1e-9:
                    continue
                if best is None or s["hvac_wh"] < best.score["hvac_wh"]:
                    best = OracleResult(float(sp), cap, s, 0, gain)
    ep = run_episode(plant, PlantMPC(plant, comfort), cycle, ambient_c, lookahead_s=0)
    s = score(ep, comfort, allowance_s)
    tried += 1
    if s["discomfort_kh"] <= stock_discomfort_kh + 1e-9 and (
        best is None or s["hvac_wh"] < best.score["hvac_wh"]
    ):
        best = OracleResult(float("nan"), None, s, 0)  # nan: a setpoint sequence, not one
    if best is None:  # stock itself is in the grid, so this means the grid excludes 22 °C
        ep = run_episode(plant, FixedSetpoint(comfort.setpoint_c), cycle, ambient_c)
        best = OracleResult(comfort.setpoint_c, None, score(ep, comfort, allowance_s), 0)
    best.tried = tried
    return best


def stock_allowance(plant: CabinPlant, cycle: str, ambient_c: float, comfort: ComfortSpec) -> Any:
    """Run the stock controller; returns (episode, warm-up allowance s).

    When stock never brings the cabin into the band (a short drive in deep cold) there is no
    warm-up to grant: the allowance is 0 and discomfort counts over the whole drive, so no
    controller can look comfortable by heating less than stock.
    """
    ep = run_episode(plant, FixedSetpoint(comfort.setpoint_c), cycle, ambient_c)
    allowance = warmup_s(ep.log["cabin_temp"], comfort)
    if allowance >= len(ep.log["cabin_temp"]):
        allowance = 0.0
    return ep, allowance


def pack_outside_kh(episode: Episode, window_c: tuple[float, float]) -> float:
    """Pack temperature outside ``window_c`` (°C), integrated over the run, K·h."""
    bat = np.asarray(episode.log["battery_temp"], dtype=float)
    lo, hi = window_c
    return float((np.clip(lo - bat, 0, None) + np.clip(bat - hi, 0, None)).sum() / 3600.0)


def pack_loop_search(
    plant: CabinPlant,
    cycle: str,
    ambient_c: float,
    comfort: ComfortSpec,
    allowance_s: float,
    stock: Episode,
    caps_w: tuple[float, ...] = (1000.0, 2500.0),
) -> dict[str, Any]:
    """What commanding the battery loop (its power cap, stock cabin control) can save on the
    plant while the pack stays no longer or further outside the window the stock loop keeps
    (K·h outside no more than stock's) and the cabin no less comfortable: the best cap and the
    saving, reported apart from the headline."""
    window = plant.pack_window_c
    base = score(stock, comfort, allowance_s)
    base_kh = pack_outside_kh(stock, window)
    rows = []
    best: dict[str, Any] = {"pack_cap_w": None, "hvac_wh": base["hvac_wh"], "saving_pct": 0.0}
    for cap in caps_w:
        ep = run_episode(plant, FixedSetpoint(comfort.setpoint_c, pack_cap_w=cap), cycle, ambient_c)
        s = score(ep, comfort, allowance_s)
        kh = pack_outside_kh(ep, window)
        saving = 100.0 * (1.0 - s["hvac_wh"] / base["hvac_wh"]) if base["hvac_wh"] > 0 else 0.0
        ok = kh <= base_kh + 1e-9 and s["discomfort_kh"] <= base["discomfort_kh"] + 1e-9
        rows.append({"pack_cap_w": cap, "saving_pct": saving, "pack_outside_kh": kh, "ok": ok})
        if ok and s["hvac_wh"] < best["hvac_wh"]:
            best = {"pack_cap_w": cap, "hvac_wh": s["hvac_wh"], "saving_pct": saving}
    return {"window_c": list(window), "stock_pack_outside_kh": base_kh, "best": best, "tried": rows}
