"""The stock loop's settled cabin offset from its setpoint, learned from logs.

A cabin climate PID with a deadband does not hold its setpoint: when heating it settles below it,
when cooling above it (droop and deadband), by an amount that depends on the load, so on the
ambient. That offset needs no multi-minute prediction: it is read straight off the logged stock
drives once the cabin has settled. It tells how far a setpoint can be relaxed before the settled
cabin reaches the comfort band's edge, with no horizon model error in it.

:func:`steady_offsets` measures, per logged ambient, the smallest and largest ``cabin − setpoint``
(1 Hz samples) over drives whose setpoint never moves, from the moment the cabin has first come
into the comfort band plus a settling time. :func:`offset_bounds` gives the bounds at an ambient
between two logged ones as the union of both neighbours' (conservative; no extrapolation outside
the logged ambients).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from shopfloor.control.simulator import run_starts

#: Settling time after the cabin first enters the band, in closed-loop time constants: after
#: three the first-order response has closed 95 % of the way.
SETTLE_TAUS = 3.0


def steady_offsets(
    log: pd.DataFrame, tau_s: float, band_k: float = 1.0, settle_taus: float = SETTLE_TAUS
) -> list[dict[str, Any]]:
    """Per logged ambient (°C, rounded to 0.5 K): ``low_k``/``high_k`` (K), the extreme settled
    ``cabin − setpoint`` of the drives at that ambient whose setpoint never moved, ``mode``
    (heating where the ambient is below the setpoint) and ``seconds`` of settled samples.

    Parameters
    ----------
    log:
        1 Hz log with ``time_s``, ``cabin_temp``, ``ambient_temp`` and ``setpoint``.
    tau_s:
        The plant's closed-loop time constant, s
        (:func:`~shopfloor.control.mpc_guard.closed_loop_tau_s`).
    band_k:
        Comfort half-width, K: the cabin counts as arrived once within it.
    """
    starts = [*run_starts(log["time_s"].to_numpy(dtype=float)).tolist(), len(log)]
    by_amb: dict[float, list[np.ndarray[Any, Any]]] = {}
    modes: dict[float, str] = {}
    for a, b in itertools.pairwise(starts):
        part = log.iloc[a:b]
        sp = part["setpoint"].to_numpy(dtype=float)
        if np.ptp(sp) > 1e-9:  # excited drive: its offset mixes transients
            continue
        off = part["cabin_temp"].to_numpy(dtype=float) - sp
        inside = np.flatnonzero(np.abs(off) <= band_k)
        if inside.size == 0:
            continue
        first = int(inside[0] + settle_taus * tau_s)
        if first >= len(off):
            continue
        amb = float(np.round(part["ambient_temp"].mean() * 2.0) / 2.0)
        by_amb.setdefault(amb, []).append(off[first:])
        modes[amb] = "heating" if amb < float(sp[0]) else "cooling"
    rows = []
    for amb in sorted(by_amb):
        v = np.concatenate(by_amb[amb])
        rows.append(
            {
                "ambient_c": amb,
                "mode": modes[amb],
                "low_k": round(float(v.min()), 4),
                "high_k": round(float(v.max()), 4),
                "seconds": int(v.size),
            }
        )
    return rows


def offset_bounds(rows: list[dict[str, Any]], ambient_c: float) -> tuple[float, float] | None:
    """Settled offset bounds (K) at ``ambient_c``: the logged ambient's own within 0.5 K, else
    the union of the two logged neighbours' (same mode only); ``None`` outside the logged
    ambients or across a mode change."""
    if not rows:
        return None
    ambs = np.array([r["ambient_c"] for r in rows], dtype=float)
    near = np.flatnonzero(np.abs(ambs - ambient_c) <= 0.5)
    if near.size:
        r = rows[int(near[0])]
        return float(r["low_k"]), float(r["high_k"])
    below = np.flatnonzero(ambs < ambient_c)
    above = np.flatnonzero(ambs > ambient_c)
    if below.size == 0 or above.size == 0:
        return None
    lo, hi = rows[int(below[-1])], rows[int(above[0])]
    if lo["mode"] != hi["mode"]:
        return None
    return min(lo["low_k"], hi["low_k"]), max(lo["high_k"], hi["high_k"])
