"""FEMTO-ST PRONOSTIA accelerated bearing run-to-failure tests (IEEE PHM 2012 challenge).

17 bearings, each its own asset. The mirror holds a lossless Parquet conversion of the original
CSV files (only this mirror has that layout, so nothing can be downloaded file by file), a
per-bearing table ``bearings.csv`` and per-snapshot statistics ``features/snapshot_features.csv``
computed by the mirror from the raw data.

Per bearing, up to three recordings:

``femto-<bearing>-acc``
    Raw horizontal and vertical acceleration in g (stored as milli-g integers), time base
    BURSTS: 2560 samples at 25.6 kHz every 10 s. Column ``burst`` is the snapshot index counted
    from 0 (original file number - 1), so ``burst * 10`` is the nominal time in s since the first
    snapshot; the nominal spacing is used because the wall-clock stamps of one Bearing1_1
    snapshot jump by hours. Only 11 bearings; Bearing1_3 ... 1_7 were left out of the mirror.
``femto-<bearing>-temp``
    RTD temperature in degC, 10 Hz in files of one minute. Time base TIMESTAMPS with
    ``timestamp`` in s since the first vibration sample of the test, from the wall-clock stamps,
    because the temperature logger ran on its own: it starts between 0.6 s before (Bearing2_5,
    hence a slightly negative first timestamp) and ~100 s after the first snapshot, its first or
    last file is cut short and Bearing3_1 has an 18 s hole. Dates were not recorded, so
    ``TimeBase.start`` is None. Values are kept as recorded, including the 1254 degC readings in
    Bearing2_6 and 2_7 that look like an open sensor rather than a bearing temperature.
``femto-<bearing>-features``
    Derived, not original: the mirror's per-snapshot statistics (mean, std, rms, peak, peak to
    peak in g; skewness, Pearson kurtosis and crest factor, dimensionless), one row per snapshot,
    time base UNIFORM at 0.1 Hz. Present for all 17 bearings, so the five without raw data are
    still usable for prognostics.

Labels (on the acc and features recordings, whose time starts at the first snapshot): a
:class:`LifeLabel` in s to the end of the record, and for the challenge's test bearings a second
one with the challenge's truncation and published actual RUL. For Bearing1_4 the two disagree
(published 339 s, full record 2890 s); the source is inconsistent and both are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from shopfloor.core.assets import Asset, AssetKind, Channel, Component, ComponentKind, Direction
from shopfloor.core.errors import InputError
from shopfloor.core.labels import LifeLabel
from shopfloor.core.recording import (
    OperatingCondition,
    Recording,
    RecordingData,
    TimeBase,
    TimeBaseKind,
)
from shopfloor.core.units import Quantity
from shopfloor.datasets.registry import DatasetSpec, Progress

SAMPLE_RATE_HZ = 25_600.0
BURST_LENGTH = 2560
BURST_INTERVAL_S = 10.0
TEMPERATURE_RATE_HZ = 10.0
BEARING = "bearing"  # component id of the test bearing on every asset

END_OF_RECORD = (
    "end of record: the challenge stopped tests when vibration exceeded 20 g, but several "
    "records never exceed 20 g, so life is taken as the start of the last snapshot, (N-1) x 10 s"
)
_AXES = {"h": Direction.RADIAL_HORIZONTAL, "v": Direction.RADIAL_VERTICAL}
_G_STATS = ("mean", "std", "rms", "peak_abs", "p2p")  # in g; CSV column <axis>_<stat>_g
_RATIO_STATS = ("skewness", "kurtosis", "crest")  # dimensionless; CSV column <axis>_<stat>
FEATURES_REL = "features/snapshot_features.csv"
FEATURE_IDS: tuple[str, ...] = tuple(
    f"{axis}_{stat}" for stat in (*_G_STATS, *_RATIO_STATS) for axis in _AXES
)


@dataclass(frozen=True)
class BearingInfo:
    """One row of ``bearings.csv``. Times in s, speed in rpm, load in N."""

    set: str
    bearing: str
    condition: int
    speed_rpm: float
    radial_load_n: float
    n_snapshots: int
    n_temp_files: int
    life_s: float
    n_snapshots_truncated: int | None
    rul_published_s: float | None
    rul_full_record_s: float | None
    raw_included: bool

    @property
    def asset_id(self) -> str:
        return f"femto-{self.bearing}"

    def raw_path(self, kind: str) -> str:
        return f"raw/{self.set}/{self.bearing}_{kind}.parquet"


class _Row:
    """One CSV row whose cells are read as numbers with errors naming line and column."""

    def __init__(self, path: Path, line: int, cells: dict[str, str]) -> None:
        self.path, self.line, self.cells = path, line, cells

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def number(self, column: str) -> float:
        value = self.optional(column)
        if value is None:
            raise InputError("missing value", source=self.path, line=self.line, column=column)
        return value

    def optional(self, column: str) -> float | None:
        cell = self.text(column)
        if not cell:
            return None
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InputError(
                f"not a number: {cell!r}", source=self.path, line=self.line, column=column
            )
        return value

    def integer(self, column: str) -> int | None:
        value = self.optional(column)
        return None if value is None else int(value)


_BEARING_COLUMNS = (
    "set", "bearing", "condition", "speed_rpm", "radial_load_N", "n_acc_files", "n_temp_files",
    "life_s_nominal", "n_acc_files_truncated_test_set", "actual_rul_s_published",
    "rul_s_from_full_test_set_nominal", "raw_waveforms_included",
)  # fmt: skip


def read_bearings(path: Path) -> list[BearingInfo]:
    """Parse ``bearings.csv`` and check that each life is (N - 1) x 10 s.

    Raises
    ------
    InputError
        Naming the line (header = line 1) and column of a missing or bad value.
    """
    frame = _read_csv(path)
    missing = [c for c in _BEARING_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {missing}", source=path, line=1)
    out = []
    for i, cells in enumerate(frame.to_dict("records")):
        row = _Row(path, i + 2, {str(k): str(v) for k, v in cells.items()})
        info = BearingInfo(
            set=row.text("set"),
            bearing=row.text("bearing"),
            condition=int(row.number("condition")),
            speed_rpm=row.number("speed_rpm"),
            radial_load_n=row.number("radial_load_N"),
            n_snapshots=int(row.number("n_acc_files")),
            n_temp_files=int(row.number("n_temp_files")),
            life_s=row.number("life_s_nominal"),
            n_snapshots_truncated=row.integer("n_acc_files_truncated_test_set"),
            rul_published_s=row.optional("actual_rul_s_published"),
            rul_full_record_s=row.optional("rul_s_from_full_test_set_nominal"),
            raw_included=row.text("raw_waveforms_included").startswith("yes"),
        )
        if info.life_s != (info.n_snapshots - 1) * BURST_INTERVAL_S:
            raise InputError(
                f"life {info.life_s:g} s is not (n_acc_files - 1) x 10 s",
                source=path,
                line=row.line,
                column="life_s_nominal",
            )
        out.append(info)
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read as CSV ({exc})", source=path) from exc


def life_labels(info: BearingInfo) -> list[LifeLabel]:
    """End-of-record life and, for challenge test bearings, the challenge's truncated view."""
    labels = [
        LifeLabel(
            unit="s",
            life=info.life_s,
            observed_until=info.life_s,
            failure_criterion=END_OF_RECORD,
        )
    ]
    if info.n_snapshots_truncated is None or info.rul_published_s is None:
        return labels
    observed = (info.n_snapshots_truncated - 1) * BURST_INTERVAL_S
    criterion = (
        f"IEEE PHM 2012 challenge: test record truncated after snapshot "
        f"{info.n_snapshots_truncated}, published actual RUL {info.rul_published_s:g} s"
    )
    if info.rul_full_record_s is not None and info.rul_full_record_s != info.rul_published_s:
        # Kept, not fixed: which of the two is right cannot be decided from the data.
        criterion += (
            f"; the full record gives {info.rul_full_record_s:g} s instead (mismatch in the source)"
        )
    labels.append(
        LifeLabel(
            unit="s",
            life=observed + info.rul_published_s,
            observed_until=observed,
            failure_criterion=criterion,
        )
    )
    return labels


def bearing_asset(info: BearingInfo, *, has_temperature: bool) -> Asset:
    """The test bearing on the rig: no geometry (ball count and diameters are not published)."""
    channels = [
        Channel(
            id=f"{axis}_acc",
            quantity=Quantity.ACCELERATION,
            unit="g",
            sample_rate_hz=SAMPLE_RATE_HZ,
            component_id=BEARING,
            direction=direction,
            location="outer race of the test bearing",
            description="DYTRAN 3035B accelerometer, ±50 g range; 0.1 s snapshot every 10 s",
        )
        for axis, direction in _AXES.items()
    ]
    if has_temperature:
        channels.append(
            Channel(
                id="temperature",
                quantity=Quantity.TEMPERATURE,
                unit="degC",
                sample_rate_hz=TEMPERATURE_RATE_HZ,
                description="PT100 RTD",
            )
        )
    for stat in (*_G_STATS, *_RATIO_STATS):
        for axis, direction in _AXES.items():
            in_g = stat in _G_STATS
            channels.append(
                Channel(
                    id=f"{axis}_{stat}",
                    quantity=Quantity.ACCELERATION if in_g else Quantity.DIMENSIONLESS,
                    unit="g" if in_g else "dimensionless",
                    sample_rate_hz=1 / BURST_INTERVAL_S,
                    component_id=BEARING,
                    direction=direction,
                    description=f"derived by the data mirror: {stat} of each {axis}_acc snapshot",
                )
            )
    return Asset(
        id=info.asset_id,
        name=f"PRONOSTIA {info.bearing} (condition {info.condition}: {info.speed_rpm:g} rpm, "
        f"{info.radial_load_n:g} N)",
        kind=AssetKind.BEARING_TEST_RIG,
        components=[
            Component(id=BEARING, kind=ComponentKind.ROLLING_BEARING, location="test bearing")
        ],
        channels=channels,
    )


def _condition(info: BearingInfo) -> OperatingCondition:
    return OperatingCondition(
        shaft_speed_rpm=info.speed_rpm,
        load=info.radial_load_n,
        load_unit="N",
        settings={"operating_condition": float(info.condition)},
    )


def _read_parquet(path: Path, columns: list[str]) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq  # needed only here; keeps pyarrow off the import path

    try:
        table = pq.read_table(path, columns=columns)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, KeyError ...
        raise InputError(f"cannot read columns {columns} ({exc})", source=path) from exc
    return {name: table.column(name).to_numpy() for name in columns}


def acc_recording(root: Path, info: BearingInfo) -> RecordingData:
    """The raw vibration of one bearing, converted from milli-g integers to g."""
    rel = info.raw_path("acc")
    path = root / rel
    cols = _read_parquet(path, ["file", "h_acc_mg", "v_acc_mg"])
    files = cols["file"].astype(np.int64)
    if files.size % BURST_LENGTH:
        raise InputError(
            f"{files.size} rows is not a whole number of {BURST_LENGTH}-sample snapshots",
            source=path,
        )
    per_burst = files.reshape(-1, BURST_LENGTH)
    expected = np.arange(1, per_burst.shape[0] + 1)
    bad = np.flatnonzero(
        (per_burst != per_burst[:, :1]).any(axis=1) | (per_burst[:, 0] != expected)
    )
    if bad.size:
        raise InputError(
            f"snapshot files must run 1..N with {BURST_LENGTH} rows each; first bad "
            f"snapshot at row {bad[0] * BURST_LENGTH + 1}",
            source=path,
            column="file",
        )
    if per_burst.shape[0] != info.n_snapshots:
        raise InputError(
            f"{per_burst.shape[0]} snapshots, bearings.csv says {info.n_snapshots}", source=path
        )
    recording = Recording(
        id=f"{info.asset_id}-acc",
        asset_id=info.asset_id,
        channel_ids=["h_acc", "v_acc"],
        time_base=TimeBase(
            kind=TimeBaseKind.BURSTS,
            sample_rate_hz=SAMPLE_RATE_HZ,
            burst_length=BURST_LENGTH,
            burst_interval_s=BURST_INTERVAL_S,
        ),
        n_samples=files.size,
        condition=_condition(info),
        labels=list(life_labels(info)),
        dataset=FemtoPronostiaDataset.name,
        source=rel,
    )
    samples = pd.DataFrame(
        {
            "burst": (files - 1).astype(np.int32),
            # int / 1000 in float64 is the double nearest the original 3-decimal text in g
            "h_acc": cols["h_acc_mg"].astype(np.float64) / 1000.0,
            "v_acc": cols["v_acc_mg"].astype(np.float64) / 1000.0,
        }
    )
    return RecordingData(recording, samples)


def _unwrap_day(seconds: np.ndarray) -> np.ndarray:
    """Make times of day continuous across midnight (steps back by more than 12 h)."""
    steps = np.diff(seconds, prepend=seconds[0])
    return np.asarray(seconds + 86_400.0 * np.cumsum(steps < -43_200.0), dtype=np.float64)


def temperature_recording(root: Path, info: BearingInfo, t0_s: float) -> RecordingData:
    """The RTD temperature of one bearing in degC.

    Parameters
    ----------
    t0_s:
        Time of day in s of the first vibration sample: the origin of ``timestamp``.
    """
    rel = info.raw_path("temp")
    path = root / rel
    cols = _read_parquet(path, ["file", "hour", "minute", "second", "tenth_second", "temp_mdegC"])
    hms = [cols[c].astype(np.int64) for c in ("hour", "minute", "second", "tenth_second")]
    time_of_day = hms[0] * 3600 + hms[1] * 60 + hms[2] + hms[3] / 10.0
    relative = time_of_day - t0_s
    # the first stamp may fall on the other side of midnight from t0
    relative = _unwrap_day(relative - 86_400.0 * np.round(relative[:1] / 86_400.0))
    relative = np.round(relative, 6)  # both clocks resolve 1 µs at best; drop float noise
    backwards = np.flatnonzero(np.diff(relative) <= 0)
    if backwards.size:
        raise InputError(
            f"temperature stamps go back in time at row {backwards[0] + 2}",
            source=path,
            column="second",
        )
    n_files = np.unique(cols["file"]).size
    if n_files != info.n_temp_files:
        raise InputError(
            f"{n_files} temperature files, bearings.csv says {info.n_temp_files}",
            source=path,
            column="file",
        )
    recording = Recording(
        id=f"{info.asset_id}-temp",
        asset_id=info.asset_id,
        channel_ids=["temperature"],
        time_base=TimeBase(kind=TimeBaseKind.TIMESTAMPS),
        n_samples=relative.size,
        condition=_condition(info),
        dataset=FemtoPronostiaDataset.name,
        source=rel,
    )
    samples = pd.DataFrame(
        {
            "timestamp": relative,
            "temperature": cols["temp_mdegC"].astype(np.float64) / 1000.0,
        }
    )
    return RecordingData(recording, samples)


def read_features(path: Path) -> dict[str, pd.DataFrame]:
    """Per-snapshot statistics by bearing, sorted by snapshot file number."""
    frame = _read_csv(path)
    csv_cols = [_feature_column(fid) for fid in FEATURE_IDS]
    required = ["bearing", "file", "t0_hhmmss", "in_truncated_test_set", *csv_cols]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {missing}", source=path, line=1)
    out = pd.DataFrame({"bearing": frame["bearing"], "t0_hhmmss": frame["t0_hhmmss"]})
    for col in ["file", "in_truncated_test_set", *csv_cols]:
        values = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
        ok = (
            values.notna()
            if col != "in_truncated_test_set"
            else values.notna() | (frame[col] == "")
        )
        if not ok.all():
            row = int(np.flatnonzero(~ok.to_numpy())[0])
            raise InputError(
                f"not a number: {frame[col].iloc[row]!r}", source=path, line=row + 2, column=col
            )
        out[col] = values
    return {
        str(name): group.sort_values("file").reset_index(drop=True)
        for name, group in out.groupby("bearing", sort=False)
    }


def _feature_column(feature_id: str) -> str:
    axis, stat = feature_id.split("_", 1)
    return f"{axis}_{stat}_g" if stat in _G_STATS else feature_id


def time_of_day_s(text: str, *, source: Path, column: str = "t0_hhmmss") -> float:
    """``"09:39:39.065664"`` -> 34779.065664 s after midnight."""
    try:
        hours, minutes, seconds = text.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError as exc:
        raise InputError(f"not a hh:mm:ss time: {text!r}", source=source, column=column) from exc


def features_recording(frame: pd.DataFrame, info: BearingInfo, source: Path) -> RecordingData:
    """The mirror's per-snapshot statistics of one bearing (derived data, see module doc)."""
    files = frame["file"].to_numpy()
    if not np.array_equal(files, np.arange(1, info.n_snapshots + 1)):
        raise InputError(
            f"{info.bearing}: snapshots must run 1..{info.n_snapshots} without gaps",
            source=source,
            column="file",
        )
    if info.n_snapshots_truncated is not None:
        in_test = int((frame["in_truncated_test_set"] == 1).sum())
        if in_test != info.n_snapshots_truncated:
            raise InputError(
                f"{info.bearing}: {in_test} snapshots marked in the truncated test "
                f"set, bearings.csv says {info.n_snapshots_truncated}",
                source=source,
                column="in_truncated_test_set",
            )
    recording = Recording(
        id=f"{info.asset_id}-features",
        asset_id=info.asset_id,
        channel_ids=list(FEATURE_IDS),
        time_base=TimeBase(kind=TimeBaseKind.UNIFORM, sample_rate_hz=1 / BURST_INTERVAL_S),
        n_samples=len(frame),
        condition=_condition(info),
        labels=list(life_labels(info)),
        dataset=FemtoPronostiaDataset.name,
        source=FEATURES_REL,
    )
    samples = pd.DataFrame({fid: frame[_feature_column(fid)].to_numpy() for fid in FEATURE_IDS})
    return RecordingData(recording, samples)


class FemtoPronostiaDataset(DatasetSpec):
    """PRONOSTIA run-to-failure bearings: 17 lives, raw vibration for 11, features for all."""

    name: ClassVar[str] = "femto_pronostia"
    title: ClassVar[str] = "FEMTO-ST PRONOSTIA bearing run-to-failure data (IEEE PHM 2012)"
    origin: ClassVar[str] = (
        "http://www.femto-st.fr/en/Research-departments/AS2M/Research-groups/PHM/"
        "IEEE-PHM-2012-Data-challenge.php"
    )
    license: ClassVar[str] = (
        "No explicit license stated; made publicly available by FEMTO-ST for the IEEE PHM 2012 "
        "challenge, which asks users to cite the PRONOSTIA paper."
    )
    citation: ClassVar[str] = (
        "P. Nectoux, R. Gouriveau, K. Medjaher, E. Ramasso, B. Chebel-Morello, N. Zerhouni, "
        "C. Varnier, 'PRONOSTIA: An experimental platform for bearings accelerated degradation "
        "tests', IEEE PHM 2012, Denver CO, pp. 1-8."
    )
    summary: ClassVar[str] = (
        "Accelerated run-to-failure tests of 17 ball bearings at 3 speed/load conditions: "
        "horizontal and vertical vibration (25.6 kHz, 0.1 s every 10 s), RTD temperature, "
        "per-snapshot statistics and lives in s."
    )

    def url_for(self, rel_path: str) -> str | None:
        """None: the Parquet files exist only in this mirror; the publisher's page is gone."""
        return None

    def load(self, root: Path, progress: Progress | None = None) -> Iterator[Asset | RecordingData]:
        """Yield the 17 bearing assets, then per bearing its acc, temp and features recordings."""
        bearings = read_bearings(root / "bearings.csv")
        features_path = root / FEATURES_REL
        features = read_features(features_path)
        has_temp = {b.bearing: (root / b.raw_path("temp")).is_file() for b in bearings}
        total = 2 + sum(b.raw_included for b in bearings) + sum(has_temp.values())
        done = 0

        def tick(what: str) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total, what)

        tick("bearings.csv")
        tick(FEATURES_REL)
        missing = sorted(set(b.bearing for b in bearings) - set(features))
        if missing:
            raise InputError(f"no snapshot features for {missing}", source=features_path)
        for info in bearings:
            # The RTD was fitted wherever temperature files were recorded, even where this
            # mirror left them out (Bearing1_4 ... 1_7): the asset describes the instrumentation.
            yield bearing_asset(info, has_temperature=info.n_temp_files > 0)
        for info in bearings:
            frame = features[info.bearing]
            if info.raw_included:
                yield acc_recording(root, info)
                tick(info.raw_path("acc"))
            if has_temp[info.bearing]:
                t0 = time_of_day_s(str(frame["t0_hhmmss"].iloc[0]), source=features_path)
                yield temperature_recording(root, info, t0)
                tick(info.raw_path("temp"))
            yield features_recording(frame, info, features_path)
