"""Decision guard for :class:`~shopfloor.control.mpc.SamplingMPC`, calibrated on the training
logs alone.

A setpoint MPC on a learned simulator can chatter: it steps the setpoint down as soon as the
model says the cabin will stay in the band, the plant's PID recovers more slowly than the model
thinks, and the next decision steps back up. Three rules stop that, each sized from the logs:

* **dwell**: a setpoint decision is held for the plant's observed closed-loop time constant
  (how fast the logged cabin follows logged setpoint steps), so the PID has recovered from one
  step before the next is taken;
* **relaxing-step guard**: a step that saves energy against the setpoint now held (a step down
  when heating, up when cooling) is taken only if the predicted cabin stays the model's own
  horizon error inside the band;
* **stock preference**: the stock setpoint is kept unless the predicted saving over the horizon
  exceeds the simulator's error on a saving.

The two errors are measured on an *in-log validation split*: drives at some logged ambients are
left out, a simulator of the same kind is fitted on the rest and replayed on them. The held-out
benchmark conditions are never used.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopfloor.control.observer import OBSERVER_GAINS, disturbed_rollout, estimates_along
from shopfloor.control.simulator import (
    LOG_COLUMNS,
    CabinSimulator,
    FloatArray,
    run_starts,
    to_steps,
)
from shopfloor.control.steady import SETTLE_TAUS, steady_offsets
from shopfloor.core.errors import InputError

#: Logged ambients (°C) left out for validation: one cold, one warm, both inside the logged
#: range (so validation does not measure extrapolation) and none a benchmark ambient.
VALIDATION_AMBIENTS_C = (-5.0, 25.0)
#: Quantile of the horizon cabin error that ranks observer gains: the error the model stays
#: within nine times in ten.
CABIN_ERROR_QUANTILE = 0.9
#: Quantile of the horizon cabin error that sizes the relaxing-step guard: the largest error seen
#: on the validation split. "No less comfortable than stock" is a hard constraint, and a 90 %
#: quantile let one step in ten through with an error larger than the distance it kept (on the
#: logged 35 °C drives the MPC then left the band by 0.03 K).
BAND_EDGE_QUANTILE = 1.0
#: Upper edges (K) of the move-size bins of the cabin error: a move is the setpoint over the
#: horizon minus the setpoint held before it. The MPC's candidates are 0.25 K apart, so its
#: moves fall in ≤ 0.5 K, ≤ 1 K, ≤ 2 K and larger; 0 is holding the setpoint.
MOVE_BINS_K = (0.0, 0.5, 1.0, 2.0, math.inf)
#: Fewest validation rollouts a bin needs for its own quantile; a thinner bin is pooled with the
#: next larger one (the largest with the next smaller).
MIN_ROLLOUTS_PER_BIN = 10


@dataclass
class MPCGuard:
    """Settings of the anti-chatter rules, and how each was measured.

    Parameters
    ----------
    dwell_steps:
        Control intervals a setpoint decision is held (≥ 1).
    cabin_error_k:
        Distance (K) a relaxing step's predicted cabin must keep inside the band.
    saving_error_frac:
        Smallest predicted horizon saving (fraction of the stock setpoint's predicted energy)
        for which the MPC leaves the stock setpoint.
    """

    dwell_steps: int = 1
    cabin_error_k: float = 0.0
    saving_error_frac: float = 0.0
    how: dict[str, Any] = field(default_factory=dict)
    #: Cabin error (K) by move size and mode: rows ``{"mode": "heating"|"cooling",
    #: "move_max_k": upper bin edge or None (unbounded), "error_k": quantile, "rollouts": n}``,
    #: ascending edges per mode; empty: ``cabin_error_k`` for every move.
    cabin_error_table: list[dict[str, Any]] = field(default_factory=list)
    #: Disturbance-observer gain per mode (``"heating"``/``"cooling"``) the errors above were
    #: measured with (:mod:`shopfloor.control.observer`); a missing mode: 0, no correction.
    observer_gains: dict[str, float] = field(default_factory=dict)
    #: Whether the predicted energy comes from the disturbed rollout too (else from the
    #: uncorrected one): whichever had the smaller saving error on the validation split.
    correct_energy: bool = True
    #: The stock loop's settled cabin − setpoint bounds per logged ambient
    #: (:func:`~shopfloor.control.steady.steady_offsets`); empty: no settled-offset route.
    steady_offsets: list[dict[str, Any]] = field(default_factory=list)

    def observer_gain_for(self, heating: bool) -> float:
        """The observer gain the MPC runs with in this mode (0: uncorrected simulator)."""
        return float(self.observer_gains.get("heating" if heating else "cooling", 0.0))

    def cabin_error_for(self, move_k: float, heating: bool) -> float:
        """The model's cabin error (K) for a setpoint move of ``move_k`` K in this mode: the
        smallest bin holding |move|, the largest bin beyond the table, ``cabin_error_k`` when
        the table has no row for the mode."""
        rows = [
            r for r in self.cabin_error_table if r["mode"] == ("heating" if heating else "cooling")
        ]
        if not rows:
            return self.cabin_error_k
        size = abs(move_k)
        for r in rows:
            if r["move_max_k"] is None or size <= float(r["move_max_k"]) + 1e-9:
                return float(r["error_k"])
        return float(rows[-1]["error_k"])

    def __post_init__(self) -> None:
        if self.dwell_steps < 1:
            raise InputError(f"dwell_steps must be >= 1, got {self.dwell_steps}")
        table_ok = all(float(r["error_k"]) >= 0.0 for r in self.cabin_error_table) and all(
            0.0 <= float(g) <= 1.0 for g in self.observer_gains.values()
        )
        if not (self.cabin_error_k >= 0.0 and self.saving_error_frac >= 0.0 and table_ok):
            raise InputError(
                f"guard errors must be >= 0, got cabin {self.cabin_error_k} K, "
                f"saving {self.saving_error_frac}"
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready settings and their provenance."""
        return asdict(self)


def _drives(log: pd.DataFrame) -> list[pd.DataFrame]:
    bounds = [*run_starts(log["time_s"].to_numpy(dtype=float)).tolist(), len(log)]
    return [log.iloc[a:b] for a, b in itertools.pairwise(bounds) if b - a > 1]


def closed_loop_tau_s(log: pd.DataFrame, step_s: int) -> float:
    """The plant's closed-loop time constant (s) seen in logged setpoint steps.

    Per control interval after the drive first comes within 1 K of its setpoint, the cabin's
    rate of change is regressed on the setpoint error (setpoint − cabin), each drive's mean
    removed (that absorbs the drive's own heat load and the PID's droop): the cabin follows
    ``d cabin/dt = (setpoint − cabin) / tau``. Only drives whose setpoint moves (excited drives)
    carry the information. The rate is the change over one control interval, so the
    per-interval fraction of the error closed is converted to tau exactly.
    """
    xs, ys = [], []
    for d in _drives(log):
        if np.ptp(d["setpoint"].to_numpy(dtype=float)) < 0.5:
            continue
        s = to_steps(d[list(LOG_COLUMNS)].to_numpy(dtype=float), step_s)
        err = s["setpoint"] - s["cabin_now"]
        near = np.flatnonzero(np.abs(err) <= 1.0)
        if near.size == 0:
            continue
        keep = slice(int(near[0]), None)
        x = err[keep]
        y = (s["cabin_next"] - s["cabin_now"])[keep] / step_s
        if x.size < 3:
            continue
        xs.append(x - x.mean())
        ys.append(y - y.mean())
    if not xs:
        raise InputError("log has no drive with setpoint steps: cannot measure the PID's tau")
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    slope = float(x_all @ y_all / (x_all @ x_all))
    if slope <= 0:
        raise InputError("logged cabin does not follow the setpoint: no closed-loop tau")
    # Over one interval a first-order loop closes 1 − exp(−step/tau) of the error, so the
    # per-interval fraction slope·step gives tau exactly; a loop closing it all within one
    # interval is faster than the logs resolve: tau = one interval.
    closed = slope * step_s
    if closed >= 1.0:
        return float(step_s)
    return float(-step_s / np.log1p(-closed))


def _horizon_errors(
    sim: CabinSimulator, drive: pd.DataFrame, horizon: int, gain: float = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Open-loop rollouts of ``horizon`` intervals under the logged setpoints from every logged
    state of one drive once its cabin has first come within 1 K of the setpoint (where the MPC
    decides; before that it commands the stock warm-up): cabin errors (K, one row of
    ``horizon`` per rollout), predicted and logged horizon energy (W summed over the horizon's
    intervals), and each rollout's setpoint move (K: the largest |logged setpoint over the
    horizon − setpoint held in the interval before|, the move the rollout tested).

    With ``gain`` > 0 every rollout carries the disturbance a
    :class:`~shopfloor.control.observer.DisturbanceObserver` of that gain estimated from the
    drive's logged cabin up to the rollout's start (offset-free prediction, as the MPC runs it).
    """
    s = to_steps(drive[list(LOG_COLUMNS)].to_numpy(dtype=float), sim.step_s)
    n = len(s["power"])
    near = np.flatnonzero(np.abs(s["setpoint"] - s["cabin_now"]) <= 1.0)
    first = int(near[0]) if near.size else n
    dist = np.zeros(n)
    if gain > 0.0:
        # one-step predictions of every interval at once; s["observer"][k] is the state the
        # rollout forms from the interval before and this interval's setpoint
        keys = ("cabin_now", "battery_now", "ambient", "speed", "setpoint", "observer")
        one = sim.step({key: s[key] for key in keys})[0]
        dist = estimates_along(s["cabin_next"] - one, gain)
    cab_err, e_pred, e_true, moves = [], [], [], []
    for k in range(first, n - horizon + 1):
        z_before = 0.0 if k == 0 else float(s["observer"][k - 1])
        sl = slice(k, k + horizon)
        cabin, power = disturbed_rollout(
            sim,
            float(s["cabin_now"][k]),
            float(s["battery_now"][k]),
            z_before,
            s["setpoint"][sl][None, :],
            s["ambient"][sl],
            s["speed"][sl],
            float(dist[k]),
        )
        cab_err.append(cabin[0] - s["cabin_next"][sl])
        e_pred.append(power[0].sum())
        e_true.append(s["power"][sl].sum())
        before = float(s["setpoint"][k - 1]) if k > 0 else float(s["setpoint"][k])
        moves.append(float(np.max(np.abs(s["setpoint"][sl] - before))))
    if not cab_err:
        return np.empty((0, horizon)), np.empty(0), np.empty(0), np.empty(0)
    return np.array(cab_err), np.array(e_pred), np.array(e_true), np.array(moves)


def error_by_move(
    errors: FloatArray,
    moves: FloatArray,
    mode: str,
    quantile: float = BAND_EDGE_QUANTILE,
    bins_k: tuple[float, ...] = MOVE_BINS_K,
    min_rollouts: int = MIN_ROLLOUTS_PER_BIN,
) -> list[dict[str, Any]]:
    """Quantile of |cabin error| per move-size bin, from rollouts (rows of ``errors``) whose
    setpoint moved by ``moves`` K.

    Bin ``i`` holds moves in (edge[i−1], edge[i]] (the first, moves ≤ edge[0]). A bin with fewer
    than ``min_rollouts`` rollouts is pooled with the next larger one (the largest with the
    next smaller); the errors are then made non-decreasing in move size (a larger move is never
    trusted more than a smaller one, whatever the sample says).
    """
    err = np.abs(np.asarray(errors, dtype=float))
    mv = np.asarray(moves, dtype=float)
    if err.shape[0] != mv.size or mv.size == 0:
        return []
    lows = (-np.inf, *bins_k[:-1])
    groups = [
        np.flatnonzero((mv > lo + 1e-9) & (mv <= hi + 1e-9))
        for lo, hi in zip(lows, bins_k, strict=True)
    ]
    edges = list(bins_k)
    i = 0
    while i < len(groups):
        if groups[i].size >= min_rollouts or len(groups) == 1:
            i += 1
            continue
        j = i + 1 if i + 1 < len(groups) else i - 1
        groups[j] = np.concatenate([groups[j], groups[i]])
        edges[j] = max(edges[j], edges[i])
        del groups[i], edges[i]
        i = 0
    rows, running = [], 0.0
    for g, hi in zip(groups, edges, strict=True):
        q = float(np.quantile(err[g].ravel(), quantile)) if g.size else running
        running = max(running, q)
        rows.append(
            {
                "mode": mode,
                "move_max_k": None if math.isinf(hi) else hi,
                "error_k": round(running, 4),
                "rollouts": int(g.size),
            }
        )
    return rows


def calibrate_guard(
    log: pd.DataFrame,
    *,
    step_s: int = 30,
    horizon_steps: int = 8,
    validation_ambients_c: tuple[float, ...] = VALIDATION_AMBIENTS_C,
    simulator_params: dict[str, Any] | None = None,
    validation_log: pd.DataFrame | None = None,
    gains: tuple[float, ...] = OBSERVER_GAINS,
    band_edge_quantile: float = BAND_EDGE_QUANTILE,
) -> MPCGuard:
    """Measure the guard's settings on a training log (1 Hz, :data:`LOG_COLUMNS`).

    * ``observer_gains``: per mode, the disturbance-observer gain of ``gains`` whose corrected
      rollouts have the smallest :data:`CABIN_ERROR_QUANTILE` quantile of |cabin error| over
      that mode's validation rollouts (0 keeps the uncorrected simulator where correcting does
      not help); every error below is measured with the gain chosen for its mode.
    * ``dwell_steps`` = ceil(:func:`closed_loop_tau_s` / ``step_s``), at most the horizon (a
      hold longer than the preview would commit to what was never checked).
    * ``cabin_error_k``: the ``band_edge_quantile`` (default :data:`BAND_EDGE_QUANTILE`;
      a lower one, ``SUPERVISED_GUARD_QUANTILE``, only with the measured-cabin supervisor
      of :mod:`shopfloor.control.supervisor` on top) quantile of |predicted − logged
      cabin| over horizon rollouts from every logged state of the validation drives, by a
      simulator fitted without them.
    * ``saving_error_frac``: the horizon-energy error over the same rollouts, after scaling
      each validation drive's predictions by that drive's own predicted/logged energy ratio (a
      bias common to every candidate cancels in a saving; what is left is the error of a
      difference), summed as |error| and divided by the logged energy (energy-weighted, so
      near-idle horizons do not dominate).

    ``validation_log``: more validation drives (for example drives excited with the MPC's own
    move sizes at the validation ambients); they are never used to fit the simulator.

    Both errors count only states after the cabin first comes within 1 K of its setpoint, the
    states where the MPC decides.
    """
    if not 0.0 < band_edge_quantile <= 1.0:
        raise InputError(f"band_edge_quantile must be in (0, 1], got {band_edge_quantile}")
    amb = log.groupby(run_starts_ids(log), sort=False)["ambient_temp"].transform("mean")
    held = np.zeros(len(log), dtype=bool)
    for a in validation_ambients_c:
        held |= np.abs(amb.to_numpy(dtype=float) - a) < 1.0
    if not held.any() or held.all():
        raise InputError(
            f"validation ambients {validation_ambients_c} °C leave no training or no validation"
            " drives in the log"
        )
    train, val = log[~held], log[held]
    sim = CabinSimulator(step_s=step_s, **(simulator_params or {})).fit(train[list(LOG_COLUMNS)])
    tau = closed_loop_tau_s(train, step_s)
    drives = _drives(val) + ([] if validation_log is None else _drives(validation_log))
    modes = {
        # heating where the logged ambient is below the logged setpoint (the cabin loses heat)
        id(d): "heating" if d["ambient_temp"].mean() < d["setpoint"].mean() else "cooling"
        for d in drives
    }
    runs: dict[float, list[tuple[str, tuple[FloatArray, ...]]]] = {
        g: [(modes[id(d)], _horizon_errors(sim, d, horizon_steps, g)) for d in drives]
        for g in gains
    }
    chosen: dict[str, float] = {}
    by_gain: dict[str, dict[str, float]] = {}
    for mode in ("heating", "cooling"):
        for g in gains:
            e = [r[0].ravel() for m, r in runs[g] if m == mode and r[0].size]
            if e:
                q = float(np.quantile(np.abs(np.concatenate(e)), CABIN_ERROR_QUANTILE))
                by_gain.setdefault(mode, {})[f"{g:g}"] = round(q, 4)
        if mode in by_gain:
            errors = by_gain[mode]
            chosen[mode] = float(min(errors, key=errors.__getitem__))
    errs: list[FloatArray] = []
    by_mode: dict[str, tuple[list[FloatArray], list[FloatArray]]] = {
        "heating": ([], []),
        "cooling": ([], []),
    }
    # saving error with the energy of the disturbed rollouts (the gain chosen per mode) and of
    # the uncorrected ones (gain 0): the disturbance is a cabin correction, and carrying it
    # into the power model need not make the energy better
    resid = {"corrected": 0.0, "uncorrected": 0.0}
    total = 0.0
    plain = runs.get(0.0) or [
        (modes[id(d)], _horizon_errors(sim, d, horizon_steps, 0.0)) for d in drives
    ]
    for k, d in enumerate(drives):
        mode = modes[id(d)]
        ce, ep, et, mv = runs[chosen.get(mode, gains[0])][k][1]
        if ce.size == 0:
            continue
        errs.append(ce.ravel())
        by_mode[mode][0].append(ce)
        by_mode[mode][1].append(mv)
        if et.sum() > 0:
            total += float(et.sum())
            for name, pred in (("corrected", ep), ("uncorrected", plain[k][1][1])):
                scale = pred.sum() / et.sum()
                resid[name] += float(np.abs(pred - scale * et).sum())
    if not errs:
        raise InputError("validation drives have no state past warm-up a horizon from the end")
    cab = float(np.quantile(np.abs(np.concatenate(errs)), band_edge_quantile))
    sav_by = {k: (v / total if total > 0 else 0.0) for k, v in resid.items()}
    correct_energy = sav_by["corrected"] <= sav_by["uncorrected"]
    sav = sav_by["corrected" if correct_energy else "uncorrected"]
    dwell = max(1, min(horizon_steps, math.ceil(tau / step_s)))
    table = [
        row
        for mode, (e, m) in by_mode.items()
        if e
        for row in error_by_move(np.concatenate(e), np.concatenate(m), mode, band_edge_quantile)
    ]
    extra = 0 if validation_log is None else len(_drives(validation_log))
    how = {
        "split": f"drives at logged ambients {list(validation_ambients_c)} °C left out; "
        f"simulator fitted on the other {len(_drives(train))} drives, checked on "
        f"{len(_drives(val))}" + (f" plus {extra} validation-only drives" if extra else ""),
        "closed_loop_tau_s": round(tau, 1),
        "observer": "offset-free prediction: a cabin disturbance (K per interval) estimated from "
        "the measured cabin each interval and carried over the horizon; gain per mode chosen "
        f"from {list(gains)} by the smallest {CABIN_ERROR_QUANTILE:.0%} |cabin error| over that "
        "mode's validation rollouts (0: uncorrected)",
        "observer_error_by_gain": by_gain,
        "dwell": f"ceil(tau / {step_s} s) capped at the {horizon_steps}-interval horizon",
        "cabin_error": f"{band_edge_quantile:.0%} quantile of |cabin error| over "
        f"{horizon_steps}-interval open-loop rollouts from every validation state past warm-up",
        "cabin_error_by_move": f"{band_edge_quantile:.0%} quantile of |cabin error| per "
        f"move-size bin (upper edges {list(MOVE_BINS_K[:-1])} K, then larger) and mode "
        "(heating: the validation drive's mean ambient below its mean setpoint), over the same "
        "rollouts; a rollout's move is the largest |logged setpoint over its horizon − the "
        "setpoint held before it| (the logged excitation steps are the only moves with a "
        f"measured outcome); bins with < {MIN_ROLLOUTS_PER_BIN} rollouts pooled with the next "
        "larger; made non-decreasing in move size. The MPC uses the row of the move it "
        "proposes; cabin_error_k (all moves pooled) only where a mode has no row",
        "saving_error": "sum |horizon-energy error| / logged energy over the same rollouts, "
        "each drive's predicted/logged energy ratio removed (a bias common to every candidate "
        "cancels in a saving), with the energy of the disturbed or of the uncorrected rollouts, "
        "whichever is smaller (correct_energy)",
        "saving_error_by_energy": {k: round(v, 4) for k, v in sav_by.items()},
    }
    how["steady_offsets"] = (
        "extreme settled cabin - setpoint per logged ambient, from every stock drive (setpoint "
        f"never moved) of the training log, from {SETTLE_TAUS:g} closed-loop time constants "
        "after the cabin first entered the band; an ambient between two logged ones gets the "
        "union of both"
    )
    steady = steady_offsets(log, tau)
    return MPCGuard(dwell, cab, sav, how, table, chosen, correct_energy, steady)


def run_starts_ids(log: pd.DataFrame) -> FloatArray:
    """Drive number of every row (drives start where ``time_s`` restarts)."""
    starts = run_starts(log["time_s"].to_numpy(dtype=float))
    ids = np.zeros(len(log))
    ids[starts[1:]] = 1
    out: FloatArray = np.cumsum(ids)
    return out


#: Prefix of the registry metrics that carry :attr:`MPCGuard.cabin_error_table` (the model
#: registry stores flat name → number metrics).
TABLE_METRIC_PREFIX = "mpc_guard_cabin_error_"
#: Prefix of the registry metrics that carry :attr:`MPCGuard.observer_gains`.
GAIN_METRIC_PREFIX = "mpc_guard_observer_gain_"
#: Registry metric of :attr:`MPCGuard.correct_energy` (1 or 0).
ENERGY_METRIC = "mpc_guard_energy_corrected"
#: Prefix of the registry metrics that carry :attr:`MPCGuard.steady_offsets`.
STEADY_METRIC_PREFIX = "mpc_guard_steady_offset_"


def table_metrics(guard: MPCGuard) -> dict[str, float]:
    """The guard's error table as flat registry metrics, e.g.
    ``mpc_guard_cabin_error_heating_move_le_0.5`` or ``..._cooling_move_any``."""
    out = {}
    for r in guard.cabin_error_table:
        edge = "any" if r["move_max_k"] is None else f"le_{float(r['move_max_k']):g}"
        out[f"{TABLE_METRIC_PREFIX}{r['mode']}_move_{edge}"] = float(r["error_k"])
    for mode, gain in guard.observer_gains.items():
        out[f"{GAIN_METRIC_PREFIX}{mode}"] = float(gain)
    out[ENERGY_METRIC] = float(guard.correct_energy)
    for r in guard.steady_offsets:
        key = f"{STEADY_METRIC_PREFIX}{r['ambient_c']:g}_"
        out[key + "low"] = float(r["low_k"])
        out[key + "high"] = float(r["high_k"])
        out[key + "heating"] = float(r["mode"] == "heating")
    return out


def steady_from_metrics(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Inverse of the settled-offset part of :func:`table_metrics` (seconds not kept)."""
    rows: dict[float, dict[str, Any]] = {}
    for name, v in metrics.items():
        if not name.startswith(STEADY_METRIC_PREFIX):
            continue
        amb, what = name[len(STEADY_METRIC_PREFIX) :].rsplit("_", 1)
        row = rows.setdefault(float(amb), {"ambient_c": float(amb), "seconds": 0})
        if what == "heating":
            row["mode"] = "heating" if float(v) else "cooling"
        else:
            row[f"{what}_k"] = float(v)
    return [rows[a] for a in sorted(rows)]


def gains_from_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The observer gains :func:`table_metrics` stored (empty for a store learned before the
    observer existed: the MPC then runs the uncorrected simulator)."""
    return {
        name.removeprefix(GAIN_METRIC_PREFIX): float(v)
        for name, v in metrics.items()
        if name.startswith(GAIN_METRIC_PREFIX)
    }


def table_from_metrics(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Inverse of :func:`table_metrics` (ascending edges per mode; rollout counts not kept)."""
    rows = []
    for name, value in metrics.items():
        if not name.startswith(TABLE_METRIC_PREFIX) or "_move_" not in name:
            continue
        mode, edge = name[len(TABLE_METRIC_PREFIX) :].split("_move_", 1)
        top = None if edge == "any" else float(edge.removeprefix("le_"))
        rows.append({"mode": mode, "move_max_k": top, "error_k": float(value), "rollouts": 0})
    rows.sort(key=lambda r: (r["mode"], math.inf if r["move_max_k"] is None else r["move_max_k"]))
    return rows
