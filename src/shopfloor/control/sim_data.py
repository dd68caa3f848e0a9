"""Operating-log handling for the learned cabin simulator: the log table's columns and checks,
aggregation to control intervals with the setpoint-error observer, and the open-loop replay
table and accuracy figures shared by every simulator (grey-box and neural).

Split from :mod:`shopfloor.control.simulator`, which re-exports these names.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.errors import InputError

FloatArray = npt.NDArray[np.float64]

#: Columns of a log table for :meth:`CabinSimulator.fit`, in this order (1 Hz rows). A new
#: drive starts wherever ``time_s`` restarts (does not increase); an optional text ``run``
#: column names drives in :meth:`CabinSimulator.simulate_log`.
LOG_COLUMNS = (
    "time_s",
    "cabin_temp",
    "battery_temp",
    "ambient_temp",
    "speed",
    "hvac_power",
    "setpoint",
)


class ExtrapolationWarning(UserWarning):
    """The simulator was asked about conditions outside those in its training logs."""


def run_starts(time_s: FloatArray) -> npt.NDArray[np.intp]:
    """Row indices where a drive starts: the first row and wherever time does not increase."""
    t = np.asarray(time_s, dtype=float)
    return np.concatenate([[0], np.flatnonzero(np.diff(t) <= 0) + 1]).astype(np.intp)


def check_log(log: pd.DataFrame | FloatArray, source: str = "log") -> None:
    """Raise :class:`InputError` for a log the simulator cannot learn from: missing columns,
    NaN or infinite values (naming row and column) or a gap in a drive's 1 Hz time."""
    if isinstance(log, pd.DataFrame):
        missing = [c for c in LOG_COLUMNS if c not in log.columns]
        if missing:
            raise InputError(f"log lacks columns {missing}", source=source)
        values = log[list(LOG_COLUMNS)].to_numpy(dtype=float)
    else:
        values = np.asarray(log, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(LOG_COLUMNS):
            raise InputError(
                f"log must have the {len(LOG_COLUMNS)} columns {list(LOG_COLUMNS)}, got shape "
                f"{values.shape}",
                source=source,
            )
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"NaN or infinite value in row {row}: drop or fill it before learning",
            source=source,
            column=LOG_COLUMNS[col],
        )
    dt = np.diff(values[:, 0])
    gap = np.flatnonzero((dt > 0) & ~np.isclose(dt, 1.0))
    if gap.size:
        i = int(gap[0])
        raise InputError(
            f"a gap or step of {dt[i]:g} s after t={values[i, 0]:g} s (row {i}); the simulator "
            "learns from gap-free 1 Hz logs (split the drive at the gap)",
            source=source,
            column="time_s",
        )


#: Time constant of the setpoint-error observer, s: the order of a cabin's thermal time constant
#: (minutes), so the state remembers a warm-up's error but forgets last quarter-hour's.
OBSERVER_TAU_S = 600.0


def observer_gain(step_s: int) -> float:
    """Per-interval decay of the observer state."""
    return float(np.exp(-step_s / OBSERVER_TAU_S))


def observer(
    setpoint: FloatArray, cabin_now: FloatArray, step_s: int, z0: float = 0.0
) -> FloatArray:
    """Observer state (K) at each interval start: a leaky mean of setpoint − cabin up to and
    including that interval's start (the stock PID's integral, seen through the logs)."""
    a = observer_gain(step_s)
    z = np.empty(len(setpoint))
    acc = z0
    for k in range(len(setpoint)):
        acc = a * acc + (1.0 - a) * (setpoint[k] - cabin_now[k])
        z[k] = acc
    return z


def to_steps(values: FloatArray, step_s: int) -> dict[str, FloatArray]:
    """Aggregate a 1 Hz log (rows x :data:`LOG_COLUMNS`) to control intervals: states at
    interval starts, inputs and HVAC power as means over the interval, and the observer."""
    col = {name: k for k, name in enumerate(LOG_COLUMNS)}
    cols: dict[str, list[FloatArray]] = {}
    bounds = [*run_starts(values[:, 0]).tolist(), len(values)]
    for a, b in itertools.pairwise(bounds):
        part = values[a:b]
        n = (len(part) - 1) // step_s
        if n < 2:
            continue
        idx = np.arange(n) * step_s

        def mean_over(name: str, part: FloatArray = part, n: int = n) -> FloatArray:
            arr = part[1 : n * step_s + 1, col[name]]
            out: FloatArray = arr.reshape(n, step_s).mean(axis=1)
            return out

        cab = part[:, col["cabin_temp"]]
        bat = part[:, col["battery_temp"]]
        setpoint = mean_over("setpoint")
        one = {
            "cabin_now": cab[idx],
            "cabin_next": cab[idx + step_s],
            "battery_now": bat[idx],
            "battery_next": bat[idx + step_s],
            "ambient": mean_over("ambient_temp"),
            "speed": mean_over("speed"),
            "setpoint": setpoint,
            "observer": observer(setpoint, cab[idx], step_s),
            "power": mean_over("hvac_power"),
        }
        for key, arr in one.items():
            cols.setdefault(key, []).append(arr)
    if not cols:
        raise InputError(f"log has no drive longer than two {step_s}-s control intervals")
    return {k: np.concatenate(v) for k, v in cols.items()}


def replay_table(model: Any, log: pd.DataFrame) -> pd.DataFrame:
    """Per-interval open-loop replay table of ``log`` (see :meth:`CabinSimulator.simulate_log`)
    for any simulator with a ``step_s`` and a ``_replay(drive_rows)`` returning (per-row cabin,
    per-interval power, interval table)."""
    check_log(log)
    values = log[list(LOG_COLUMNS)].to_numpy(dtype=float)
    names = log["run"].to_numpy() if "run" in log.columns else None
    bounds = [*run_starts(values[:, 0]).tolist(), len(values)]
    out = []
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        cab_rows, power, s = model._replay(values[a:b])
        if not s:
            continue
        n = len(s["power"])
        knots = np.arange(1, n + 1) * model.step_s
        out.append(
            pd.DataFrame(
                {
                    "run": names[a] if names is not None else k,
                    "cabin_true": s["cabin_next"],
                    "cabin_pred": cab_rows[knots],
                    "power_true": s["power"],
                    "power_pred": power[:n],
                }
            )
        )
    if not out:
        raise InputError(f"log has no drive longer than two {model.step_s}-s intervals")
    return pd.concat(out, ignore_index=True)


def accuracy(replay: pd.DataFrame) -> dict[str, float]:
    """Open-loop accuracy of :meth:`CabinSimulator.simulate_log` output: cabin RMSE (K) over all
    intervals, and HVAC energy error (%) per whole run (mean and worst of |error|)."""
    err = replay["cabin_pred"] - replay["cabin_true"]
    per_run = replay.groupby("run", sort=False)[["power_true", "power_pred"]].sum()
    energy_err = 100.0 * (per_run["power_pred"] - per_run["power_true"]) / per_run["power_true"]
    return {
        "cabin_rmse_k": float(np.sqrt(np.mean(err**2))),
        "energy_error_pct_mean_abs": float(energy_err.abs().mean()),
        "energy_error_pct_worst": float(energy_err.abs().max()),
    }
