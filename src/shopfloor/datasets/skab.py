"""SKAB, the Skoltech Anomaly Benchmark (v0.9): a motor-pump water loop with 8 sensors.

One asset (the testbed) and one recording per CSV file: 34 experiments, each normal operation
followed by one induced fault, plus one long anomaly-free run. Rows come about once a second
with occasional gaps, so the time base is TIMESTAMPS: the ``timestamp`` column holds seconds
since the first row, whose wall-clock time (the testbed's local time, as written to its
database; no time zone is given) is ``TimeBase.start``.

The per-row ``anomaly`` and ``changepoint`` columns become one :class:`AnomalyInterval` per
experiment: ``start_s``/``end_s`` are the times of the first and last rows with anomaly = 1
(a closed interval), ``changepoints_s`` the times of the rows with changepoint = 1. The closing
changepoint is the first normal row *after* the anomaly, so it lies after ``end_s``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from shopfloor.core.assets import Asset, AssetKind, Channel
from shopfloor.core.errors import InputError
from shopfloor.core.labels import AnomalyInterval, FaultLabel, FaultLocation
from shopfloor.core.recording import Recording, RecordingData, TimeBase, TimeBaseKind
from shopfloor.core.units import Quantity
from shopfloor.datasets.registry import DatasetSpec, Progress

ASSET_ID = "skab-testbed"
COMMIT = "b2c0d46c2971dcbfe71e26087b6d231998bb91c2"
"""Commit of github.com/waico/SKAB the checksums were taken at."""

TIME_COLUMN = "datetime"
LABEL_COLUMNS = ("anomaly", "changepoint")

# (column in the CSV, channel id, quantity, unit, location, description); units as the
# upstream README gives them.
_SENSORS: tuple[tuple[str, str, Quantity, str, str | None, str], ...] = (
    ("Accelerometer1RMS", "accelerometer1_rms", Quantity.ACCELERATION, "g", None,
     "RMS vibration acceleration, accelerometer 1 (mounting point not stated)"),
    ("Accelerometer2RMS", "accelerometer2_rms", Quantity.ACCELERATION, "g", None,
     "RMS vibration acceleration, accelerometer 2 (mounting point not stated)"),
    ("Current", "current", Quantity.CURRENT, "A", "electric motor",
     "current drawn by the electric motor"),
    ("Pressure", "pressure", Quantity.PRESSURE, "bar", "loop, after the pump",
     "pressure in the loop after the water pump (negative values occur in the data)"),
    ("Temperature", "temperature", Quantity.TEMPERATURE, "degC", "electric motor body",
     "temperature of the motor body"),
    ("Thermocouple", "thermocouple", Quantity.TEMPERATURE, "degC", "circulation loop",
     "temperature of the fluid in the circulation loop"),
    ("Voltage", "voltage", Quantity.VOLTAGE, "V", "electric motor",
     "voltage on the electric motor"),
    ("Volume Flow RateRMS", "volume_flow_rate_rms", Quantity.VOLUME_FLOW, "L/min",
     "circulation loop", "circulation flow rate of the fluid in the loop"),
)  # fmt: skip
SENSOR_COLUMNS: tuple[str, ...] = tuple(s[0] for s in _SENSORS)
CHANNEL_IDS: tuple[str, ...] = tuple(s[1] for s in _SENSORS)

# What each experiment induced, from the upstream README (SOURCE.md table).
_VALVE1 = "valve closed at the flow inlet to the pump"
_VALVE2 = "valve closed at the outlet of the flow from the pump"
_LEAKS = "Simulation of fluid leaks and fluid additions"
_OTHER = {
    1: _LEAKS, 2: _LEAKS, 3: _LEAKS, 4: _LEAKS,
    5: "Sharply behavior of rotor imbalance",
    6: "Linear behavior of rotor imbalance",
    7: "Step behavior of rotor imbalance",
    8: "Dirac delta function behavior of rotor imbalance",
    9: "Exponential behavior of rotor imbalance",
    10: "The slow increase in the amount of water in the circuit",
    11: "The sudden increase in the amount of water in the circuit",
    12: "Draining water from the tank until cavitation",
    13: "Two-phase flow supply to the pump inlet (cavitation)",
    14: "Water supply of increased temperature",
}  # fmt: skip


def experiment(rel_path: str) -> str | None:
    """The induced fault of a file such as ``"valve1/3.csv"``; None for the anomaly-free run."""
    folder, _, stem = rel_path.removesuffix(".csv").partition("/")
    if folder == "valve1":
        return _VALVE1
    if folder == "valve2":
        return _VALVE2
    if folder == "other" and stem.isdigit():
        return _OTHER.get(int(stem))
    return None


def testbed() -> Asset:
    """The SKAB water-circulation testbed: an electric motor driving a centrifugal pump."""
    return Asset(
        id=ASSET_ID,
        name="SKAB testbed (motor-driven water pump, closed loop)",
        kind=AssetKind.MOTOR_PUMP,
        channels=[
            Channel(id=cid, quantity=q, unit=unit, location=loc, description=f"{desc} [{col}]")
            for col, cid, q, unit, loc, desc in _SENSORS
        ],
    )


def recording_id(rel_path: str) -> str:
    """``"valve1/3.csv"`` -> ``"skab-valve1-3"``; the anomaly-free run: ``"skab-anomaly-free"``.

    >>> recording_id("anomaly-free/anomaly-free.csv")
    'skab-anomaly-free'
    """
    parts = rel_path.removesuffix(".csv").split("/")
    if len(parts) == 2 and parts[0] == parts[1]:
        parts = parts[:1]
    return "skab-" + "-".join(parts)


def read_csv(path: Path) -> pd.DataFrame:
    """Read and check one SKAB CSV (``;``-separated, one header row).

    Returns
    -------
    DataFrame
        ``datetime`` as datetime64 and the sensor (and, if present, label) columns as float64.

    Raises
    ------
    InputError
        Naming file, line (the header is line 1) and column of the first bad value, a wrong
        header, or timestamps that do not increase.
    """
    try:
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read as ';'-separated CSV ({exc})", source=path) from exc
    header = list(frame.columns)
    expected = [TIME_COLUMN, *SENSOR_COLUMNS]
    if header not in (expected, [*expected, *LABEL_COLUMNS]):
        raise InputError(
            f"unexpected header {header}; expected {expected} "
            f"optionally followed by {list(LABEL_COLUMNS)}",
            source=path,
            line=1,
        )
    if frame.empty:
        raise InputError("no data rows", source=path)
    out = pd.DataFrame(index=frame.index)
    stamps = pd.to_datetime(frame[TIME_COLUMN], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    _check_all(
        path,
        TIME_COLUMN,
        frame[TIME_COLUMN],
        stamps.notna().to_numpy(),
        "not a 'YYYY-MM-DD hh:mm:ss' time",
    )
    out[TIME_COLUMN] = stamps
    for col in header[1:]:
        values = pd.to_numeric(frame[col].str.strip(), errors="coerce").astype(np.float64)
        _check_all(path, col, frame[col], np.isfinite(values.to_numpy()), "not a finite number")
        if col in LABEL_COLUMNS:
            _check_all(
                path, col, frame[col], values.isin([0.0, 1.0]).to_numpy(), "label must be 0 or 1"
            )
        out[col] = values
    steps = np.diff(out[TIME_COLUMN].to_numpy().astype("datetime64[s]").astype(np.int64))
    if (steps <= 0).any():
        bad = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise InputError("timestamps must increase", source=path, line=bad + 2, column=TIME_COLUMN)
    return out


def _check_all(path: Path, column: str, raw: pd.Series, ok: np.ndarray, what: str) -> None:
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise InputError(f"{what}: {raw.iloc[row]!r}", source=path, line=row + 2, column=column)


def anomaly_interval(
    path: Path,
    seconds: np.ndarray,
    anomaly: np.ndarray,
    changepoint: np.ndarray,
    fault_type: str | None,
) -> AnomalyInterval | None:
    """The one anomalous segment of an experiment, in seconds from its first row.

    Raises
    ------
    InputError
        When the rows with anomaly = 1 do not form one contiguous segment.
    """
    rows = np.flatnonzero(anomaly == 1)
    if rows.size == 0:
        return None
    gaps = np.flatnonzero(np.diff(rows) != 1)
    if gaps.size:
        # A second segment would be a second label; SKAB promises one, so it is an error.
        resume = int(rows[gaps[0] + 1])
        raise InputError(
            f"anomaly == 1 is not one contiguous segment: rows {rows[0] + 2}-"
            f"{rows[gaps[0]] + 2} and again from row {resume + 2}",
            source=path,
            line=resume + 2,
            column="anomaly",
        )
    return AnomalyInterval(
        start_s=float(seconds[rows[0]]),
        end_s=float(seconds[rows[-1]]),
        fault_type=fault_type,
        changepoints_s=[float(s) for s in seconds[changepoint == 1]],
    )


def load_file(root: Path, rel_path: str) -> RecordingData:
    """Translate one SKAB CSV (path relative to the dataset folder) into a recording."""
    path = root / rel_path
    frame = read_csv(path)
    stamps = frame[TIME_COLUMN].to_numpy().astype("datetime64[s]")
    seconds = (stamps - stamps[0]).astype(np.int64).astype(np.float64)
    fault_type = experiment(rel_path)
    labels: list[FaultLabel | AnomalyInterval] = []
    if "anomaly" in frame.columns:
        interval = anomaly_interval(
            path,
            seconds,
            frame["anomaly"].to_numpy(),
            frame["changepoint"].to_numpy(),
            fault_type,
        )
        if interval is not None:
            labels.append(interval)
    else:
        # The unlabelled file is SKAB's known-normal reference, which is a label in itself.
        labels.append(FaultLabel(location=FaultLocation.NONE))
    recording = Recording(
        id=recording_id(rel_path),
        asset_id=ASSET_ID,
        channel_ids=list(CHANNEL_IDS),
        time_base=TimeBase(
            kind=TimeBaseKind.TIMESTAMPS, start=frame[TIME_COLUMN].iloc[0].to_pydatetime()
        ),
        n_samples=len(frame),
        labels=list(labels),
        dataset=SkabDataset.name,
        source=rel_path,
    )
    samples = pd.DataFrame({"timestamp": seconds})
    for col, cid in zip(SENSOR_COLUMNS, CHANNEL_IDS, strict=True):
        samples[cid] = frame[col].to_numpy(dtype=np.float64)
    return RecordingData(recording, samples)


def _sort_key(rel_path: str) -> tuple[str, int, str]:
    folder, _, stem = rel_path.removesuffix(".csv").partition("/")
    return (folder, int(stem) if stem.isdigit() else -1, stem)


class SkabDataset(DatasetSpec):
    """SKAB v0.9: 34 labelled fault experiments and one anomaly-free run on one testbed."""

    name: ClassVar[str] = "skab"
    title: ClassVar[str] = "Skoltech Anomaly Benchmark (SKAB) v0.9"
    origin: ClassVar[str] = "https://github.com/waico/SKAB"
    license: ClassVar[str] = (
        "GNU General Public License v3.0, as the waico/SKAB repository states it (its LICENSE "
        "covers the whole repository, data included)"
    )
    citation: ClassVar[str] = (
        "I. D. Katser and V. O. Kozitsin, 'Skoltech Anomaly Benchmark (SKAB)', Kaggle, 2020, "
        "doi:10.34740/KAGGLE/DSV/1693952."
    )
    summary: ClassVar[str] = (
        "Multivariate ~1 Hz sensor data (vibration RMS, current, pressure, temperatures, "
        "voltage, flow) of a motor-pump water loop: valve closures, rotor imbalance, leaks, "
        "cavitation, with anomaly intervals and changepoints."
    )

    def url_for(self, rel_path: str) -> str | None:
        """The raw file in waico/SKAB at the commit the checksums were taken from."""
        if not rel_path.endswith(".csv"):
            return None
        return f"https://raw.githubusercontent.com/waico/SKAB/{COMMIT}/data/{rel_path}"

    def load(self, root: Path, progress: Progress | None = None) -> Iterator[Asset | RecordingData]:
        """Yield the testbed, then one recording per CSV listed in the shipped checksums."""
        files = sorted(
            (f.path for f in self.expected_files() if f.path.endswith(".csv")), key=_sort_key
        )
        yield testbed()
        for i, rel in enumerate(files):
            yield load_file(root, rel)
            if progress is not None:
                progress(i + 1, len(files), rel)
