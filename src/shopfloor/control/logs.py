"""Operating logs: drive the plant as a fleet would and store the logs like a plant's export.

:func:`record_logs` drives the stock controller, with and without setpoint excitation (random
setpoint steps, as occupants adjust the climate control), across ambients and drive cycles.
Each drive becomes one 1 Hz CSV export with an epoch time column; :func:`import_logs` imports
them through the normal import path (:func:`shopfloor.acquisition.import_table` with a mapping
file) and :func:`logs_from_store` reads them back as the simulator's log table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from shopfloor.acquisition import import_table, load_mapping
from shopfloor.control.plant import CHANNELS, CabinPlant, Command, FloatArray
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store

#: Ambients of the default fleet logs, °C: the issue's −15…+40 °C, none of the benchmark's
#: −10/0/10/30 so that accuracy there is measured on conditions the learner never saw.
LOG_AMBIENTS = (-15.0, -5.0, 5.0, 15.0, 20.0, 25.0, 35.0, 40.0)
LOG_CYCLES = ("udds", "hwfet")
_QUANTITY = {
    "degC": "temperature",
    "m/s": "velocity",
    "dimensionless": "dimensionless",
    "W": "power",
}
_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z; logs start a day apart


@dataclass
class Excitation:
    """Setpoint steps: hold each for ``hold_s`` (min, max) seconds at a setpoint drawn uniformly
    from ``range_c`` (°C)."""

    range_c: tuple[float, float] = (19.0, 25.0)
    hold_s: tuple[int, int] = (60, 300)
    seed: int = 0
    #: When set, each new setpoint is the last one moved up or down (at random) by a step drawn
    #: uniformly from this range (K), kept inside ``range_c``: steps of the size an MPC makes,
    #: rather than a fresh draw across the whole range.
    moves_k: tuple[float, float] | None = None


def drive(
    plant: CabinPlant, cycle: str, ambient_c: float, excitation: Excitation | None
) -> pd.DataFrame:
    """One logged drive: 1 Hz rows of the logger channels plus ``setpoint`` and ``time_s``."""
    plant.reset(cycle, ambient_c)
    rng = np.random.default_rng(None if excitation is None else excitation.seed)
    setpoint, until = 22.0, 0
    while not plant.done:
        if excitation is not None and plant.time_s >= until:
            if excitation.moves_k is None:
                setpoint = float(rng.uniform(*excitation.range_c))
            else:
                move = float(rng.uniform(*excitation.moves_k)) * float(rng.choice([-1.0, 1.0]))
                lo, hi = excitation.range_c
                # bounce off the range's edge so the step keeps its size
                setpoint = setpoint + move if lo <= setpoint + move <= hi else setpoint - move
            until = int(plant.time_s + rng.integers(*excitation.hold_s))
        plant.step(Command(setpoint))
    log = pd.DataFrame(plant.episode.log)
    log.insert(0, "time_s", np.arange(len(log), dtype=float))
    return log


def record_logs(
    vehicle: str,
    out_dir: str | Path,
    *,
    ambients: Sequence[float] = LOG_AMBIENTS,
    cycles: Sequence[str] = LOG_CYCLES,
    step_s: int = 30,
    progress: Callable[[int, int, str], None] | None = None,
    excitation: Excitation | None = None,
    stock: bool = True,
) -> list[Path]:
    """Write one CSV per drive (stock, and stock with excitation) plus ``mapping.yaml`` to
    ``out_dir``; returns the CSV paths.

    ``excitation``: the excitation of the excited drives (default :class:`Excitation`; the
    seed is replaced by the drive's number); ``stock=False`` records the excited drives only.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plant = CabinPlant(vehicle, step_s=step_s)
    kinds = (False, True) if stock else (True,)
    jobs = [(c, a, e) for c in cycles for a in ambients for e in kinds]
    template = excitation or Excitation()
    paths = []
    for k, (cycle, amb, excite) in enumerate(jobs):
        # ids allow [A-Za-z0-9_.-]: below zero is "m", above "p" (m15C = -15 °C)
        sign = "m" if amb < 0 else "p"
        name = f"{cycle}.{sign}{abs(amb):.0f}C.{'excited' if excite else 'stock'}"
        if progress is not None:
            progress(k, len(jobs), name)
        excited = replace(template, seed=template.seed + k) if excite else None
        log = drive(plant, cycle, amb, excited)
        log.insert(0, "time", _EPOCH + 86_400 * k + log.pop("time_s").astype(np.int64))
        path = out / f"{name}.csv"
        log.to_csv(path, index=False, float_format="%.6g")
        paths.append(path)
    (out / "mapping.yaml").write_text(yaml.safe_dump(_mapping(vehicle), sort_keys=False))
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return paths


#: Excitation of the guard's validation-only drives: setpoint steps of the sizes the MPC's
#: candidates make (its grid is 0.25 K; the guard's move bins reach 1 K) inside band centre
#: ± 2 K, so the model's cabin error per move size is measured on moves the MPC would make.
VALIDATION_EXCITATION = Excitation(range_c=(20.0, 24.0), moves_k=(0.25, 1.0), seed=1000)


def record_validation_logs(
    vehicle: str,
    out_dir: str | Path,
    *,
    step_s: int = 30,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Path]:
    """Drives excited with :data:`VALIDATION_EXCITATION` at the guard's validation ambients
    (:data:`~shopfloor.control.mpc_guard.VALIDATION_AMBIENTS_C`, logged and not benchmark
    ambients), for :func:`~shopfloor.control.mpc_guard.calibrate_guard`'s ``validation_log``;
    they are never used to fit a simulator."""
    from shopfloor.control.mpc_guard import VALIDATION_AMBIENTS_C

    return record_logs(
        vehicle,
        out_dir,
        ambients=VALIDATION_AMBIENTS_C,
        step_s=step_s,
        progress=progress,
        excitation=VALIDATION_EXCITATION,
        stock=False,
    )


def _asset_id(vehicle: str) -> str:
    stem = Path(vehicle).stem if vehicle.endswith((".yaml", ".yml")) else vehicle
    return "EV-" + "".join(ch if ch.isalnum() else "-" for ch in stem) + "-HVAC"


def _mapping(vehicle: str) -> dict[str, object]:
    channels = [
        {"column": name, "id": name, "quantity": _QUANTITY[unit], "unit": unit}
        for name, unit in {**CHANNELS, "setpoint": "degC"}.items()
    ]
    return {
        "format": "csv",
        "time": {"column": "time", "format": "unix_s"},
        "channels": channels,
        "asset": {"id": _asset_id(vehicle), "name": f"{vehicle} cabin HVAC", "kind": "other"},
    }


def import_logs(paths: Sequence[Path], store: Store, *, replace: bool = True) -> list[str]:
    """Import CSV logs (with the ``mapping.yaml`` beside them) into ``store``; returns the
    recording ids."""
    if not paths:
        raise InputError("no log files to import")
    mapping = load_mapping(Path(paths[0]).parent / "mapping.yaml")
    return [import_table(p, mapping, store, replace=replace).recording_id for p in paths]


def logs_from_store(store: Store, recording_ids: Sequence[str]) -> pd.DataFrame:
    """The simulator's log table (:data:`~shopfloor.control.simulator.LOG_COLUMNS`) from
    stored recordings; ``time_s`` counts seconds from each recording's start."""
    frames = []
    for rid in recording_ids:
        data = store.load(rid)
        samples = data.samples
        if "timestamp" in samples.columns:  # irregular time base: keep the real spacing
            ts = pd.to_datetime(samples["timestamp"], utc=True)
            t: FloatArray = np.asarray((ts - ts.iloc[0]).dt.total_seconds(), dtype=np.float64)
        else:
            rate = float(data.recording.time_base.sample_rate_hz or 1.0)
            t = np.asarray(np.arange(len(samples)) / rate, dtype=np.float64)
        frame = samples[[c for c in (*CHANNELS, "setpoint") if c in samples.columns]].copy()
        frame.insert(0, "time_s", t)
        frame.insert(0, "run", rid)
        frames.append(frame.reset_index(drop=True))
    if not frames:
        raise InputError("no recordings given")
    return pd.concat(frames, ignore_index=True)
