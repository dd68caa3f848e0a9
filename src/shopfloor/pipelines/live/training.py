"""Run-to-failure histories from the physics degradation model, for the live RUL component.

A plant without run-to-failure records of its own can still start the remaining-life clock
from a physical model of how its bearings degrade: :func:`simulated_run_to_failure` runs the
fleet simulator's :class:`~shopfloor.acquisition.live.simulator.DegradingMotor` (impacts at the
defect frequency growing exponentially from onset to the severe stage) for several units of
different healthy and degrading durations, and keeps each window's vibration RMS, as the live
chain's ``features.time`` computes it. Failure is the severe stage: the end of useful life in
the P-F sense (a defect that has reached it is replaced, not run further).

The table has columns ``unit``, ``time`` (seconds since the unit's start, at each window's end)
and ``rms`` (m/s²), each unit ending at its failure: what ``shopfloor rul --train`` and the
``rul.health_index`` component take.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shopfloor.acquisition.live.simulator import DegradingMotor


def simulated_run_to_failure(
    *,
    healthy_s: tuple[float, ...] = (10.0, 12.0, 14.0, 16.0),
    degrading_s: tuple[float, ...] = (28.0, 22.0, 26.0, 20.0),
    fs_hz: float = 25_600.0,
    window_s: float = 1.0,
    seed: int = 11,
) -> pd.DataFrame:
    """One unit per (healthy, degrading) pair of durations, in seconds of running."""
    if len(healthy_s) != len(degrading_s) or not healthy_s:
        raise ValueError("healthy_s and degrading_s need the same, non-zero length")
    rows = []
    for unit, (h, d) in enumerate(zip(healthy_s, degrading_s, strict=True), start=1):
        motor = DegradingMotor(f"train-{unit}", onset_s=h, severe_s=h + d)
        n = round((h + d) / window_s)
        for k in range(n):
            x = motor.vibration(k * window_s, fs_hz, window_s, seed * 1000 + unit * 100 + k)
            rows.append((float(unit), (k + 1) * window_s, float(np.sqrt(np.mean(x * x)))))
    return pd.DataFrame(rows, columns=["unit", "time", "rms"])


def write_training_table(path: Path, **kwargs: object) -> Path:
    """:func:`simulated_run_to_failure` written as CSV to ``path``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    simulated_run_to_failure(**kwargs).to_csv(path, index=False)  # type: ignore[arg-type]
    return path
