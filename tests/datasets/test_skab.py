"""SKAB loader: every file against the mirror's SOURCE.md table, and tiny generated CSVs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopfloor.core.errors import InputError
from shopfloor.core.labels import AnomalyInterval, FaultLocation
from shopfloor.core.recording import TimeBaseKind
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.datasets import get_dataset
from shopfloor.datasets.prepare import PrepareReport, prepare
from shopfloor.datasets.skab import (
    ASSET_ID,
    CHANNEL_IDS,
    anomaly_interval,
    load_file,
    read_csv,
    recording_id,
)

# "Per-file counts" of SOURCE.md: file | rows | anomaly=1 | changepoint=1 | first timestamp |
# last timestamp. The experiment column follows in EXPERIMENTS.
SOURCE_TABLE = """
anomaly-free/anomaly-free.csv|9405|-|-|2020-02-08 13:30:47|2020-02-08 16:16:47
other/1.csv|745|188|2|2020-03-01 15:44:06|2020-03-01 15:57:06
other/2.csv|780|384|4|2020-03-01 16:28:16|2020-03-01 16:45:59
other/3.csv|1137|398|4|2020-03-01 16:43:54|2020-03-01 17:03:52
other/4.csv|1191|395|3|2020-03-01 16:59:53|2020-03-01 17:20:49
other/5.csv|1155|410|2|2020-02-08 16:06:48|2020-02-08 16:26:56
other/6.csv|1147|402|4|2020-02-08 16:27:09|2020-02-08 16:47:09
other/7.csv|1090|347|4|2020-02-08 16:47:11|2020-02-08 17:06:12
other/8.csv|1147|403|4|2020-02-08 17:07:11|2020-02-08 17:27:13
other/9.csv|1144|401|4|2020-02-08 17:27:19|2020-02-08 17:47:18
other/10.csv|1327|586|4|2020-02-08 17:47:44|2020-02-08 18:11:02
other/11.csv|1190|451|4|2020-02-08 18:10:42|2020-02-08 18:31:36
other/12.csv|1048|309|4|2020-02-08 18:34:51|2020-02-08 18:54:54
other/13.csv|923|265|4|2020-02-08 18:47:32|2020-02-08 19:06:26
other/14.csv|905|302|3|2020-02-08 19:16:28|2020-02-08 19:32:19
valve1/0.csv|1147|401|4|2020-03-09 10:14:33|2020-03-09 10:34:32
valve1/1.csv|1145|402|4|2020-03-09 10:34:33|2020-03-09 10:54:33
valve1/2.csv|1075|337|3|2020-03-09 10:54:34|2020-03-09 11:14:33
valve1/3.csv|1148|404|4|2020-03-09 11:14:34|2020-03-09 11:34:35
valve1/4.csv|1095|349|4|2020-03-09 11:34:36|2020-03-09 11:54:35
valve1/5.csv|1154|403|4|2020-03-09 11:54:36|2020-03-09 12:14:35
valve1/6.csv|1154|405|4|2020-03-09 12:14:36|2020-03-09 12:34:35
valve1/7.csv|1094|405|4|2020-03-09 12:34:37|2020-03-09 12:54:37
valve1/8.csv|1144|400|4|2020-03-09 12:54:39|2020-03-09 13:14:37
valve1/9.csv|1148|402|4|2020-03-09 13:14:38|2020-03-09 13:34:38
valve1/10.csv|1146|401|4|2020-03-09 13:34:39|2020-03-09 13:54:38
valve1/11.csv|1141|399|4|2020-03-09 13:54:39|2020-03-09 14:14:39
valve1/12.csv|1140|399|4|2020-03-09 14:14:40|2020-03-09 14:34:40
valve1/13.csv|1140|399|4|2020-03-09 14:34:41|2020-03-09 14:54:40
valve1/14.csv|1139|399|4|2020-03-09 14:54:41|2020-03-09 15:14:40
valve1/15.csv|1150|404|4|2020-03-09 15:14:41|2020-03-09 15:34:41
valve2/0.csv|1125|394|4|2020-03-09 15:56:30|2020-03-09 16:16:29
valve2/1.csv|1063|333|4|2020-03-09 16:16:30|2020-03-09 16:36:30
valve2/2.csv|1129|395|4|2020-03-09 16:36:31|2020-03-09 16:56:30
valve2/3.csv|995|395|4|2020-03-09 16:56:31|2020-03-09 17:14:09
"""
ROWS = [line.split("|") for line in SOURCE_TABLE.strip().splitlines()]
EXPERIMENTS = {
    "Simulation of fluid leaks and fluid additions": [
        "other/1.csv",
        "other/2.csv",
        "other/3.csv",
        "other/4.csv",
    ],
    "Sharply behavior of rotor imbalance": ["other/5.csv"],
    "Linear behavior of rotor imbalance": ["other/6.csv"],
    "Step behavior of rotor imbalance": ["other/7.csv"],
    "Dirac delta function behavior of rotor imbalance": ["other/8.csv"],
    "Exponential behavior of rotor imbalance": ["other/9.csv"],
    "The slow increase in the amount of water in the circuit": ["other/10.csv"],
    "The sudden increase in the amount of water in the circuit": ["other/11.csv"],
    "Draining water from the tank until cavitation": ["other/12.csv"],
    "Two-phase flow supply to the pump inlet (cavitation)": ["other/13.csv"],
    "Water supply of increased temperature": ["other/14.csv"],
    "valve closed at the flow inlet to the pump": [f"valve1/{i}.csv" for i in range(16)],
    "valve closed at the outlet of the flow from the pump": [f"valve2/{i}.csv" for i in range(4)],
}
EXPERIMENT_OF = {f: d for d, files in EXPERIMENTS.items() for f in files}
HEADER = (
    "datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;"
    "Voltage;Volume Flow RateRMS"
)


@pytest.fixture(scope="module")
def prepared(
    dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, PrepareReport]]:
    folder = dataset_dir("skab")
    home = tmp_path_factory.mktemp("skab-store")
    with Store.open(home) as store:
        yield store, prepare("skab", store, Settings(home=home, data=folder.parent, offline=True))
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.realdata
def test_counts(prepared: tuple[Store, PrepareReport]) -> None:
    store, report = prepared
    assert (report.n_assets, report.n_recordings) == (1, 35)
    recordings = store.recordings(dataset="skab")
    assert sum(r.n_samples for r in recordings) == 46_806
    assert sum(r.n_samples for r in recordings if r.id != "skab-anomaly-free") == 37_401
    asset = store.asset(ASSET_ID)
    units = {c.id: c.unit for c in asset.channels}
    assert list(units.values()) == ["g", "g", "A", "bar", "degC", "degC", "V", "L/min"]


@pytest.mark.realdata
@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_file_matches_source_table(prepared: tuple[Store, PrepareReport], row: list[str]) -> None:
    store, _ = prepared
    rel, n_rows, n_anomaly, n_change, first, last = row
    data = store.load(recording_id(rel))
    rec = data.recording
    assert rec.n_samples == int(n_rows)
    assert rec.source == rel
    assert rec.time_base.kind == TimeBaseKind.TIMESTAMPS
    assert rec.time_base.start == datetime.fromisoformat(first)
    seconds = data.samples["timestamp"].to_numpy()
    assert seconds[0] == 0
    assert rec.time_base.start + timedelta(seconds=float(seconds[-1])) == datetime.fromisoformat(
        last
    )
    assert list(data.samples.columns) == ["timestamp", *CHANNEL_IDS]
    if n_anomaly == "-":
        fault = rec.fault()
        assert fault is not None
        assert fault.location == FaultLocation.NONE
        return
    (interval,) = rec.labels
    assert isinstance(interval, AnomalyInterval)
    inside = (seconds >= interval.start_s) & (seconds <= interval.end_s)
    assert int(inside.sum()) == int(n_anomaly)
    assert len(interval.changepoints_s) == int(n_change)
    assert interval.changepoints_s[0] == interval.start_s
    assert interval.fault_type == EXPERIMENT_OF[rel]


@pytest.mark.realdata
def test_labels_equal_source_columns(
    prepared: tuple[Store, PrepareReport], dataset_dir: Callable[[str], Path]
) -> None:
    store, _ = prepared
    raw = read_csv(dataset_dir("skab") / "valve1" / "7.csv")
    data = store.load("skab-valve1-7")
    (interval,) = data.recording.labels
    assert isinstance(interval, AnomalyInterval)
    seconds = data.samples["timestamp"].to_numpy()
    rebuilt = (seconds >= interval.start_s) & (seconds <= interval.end_s)
    np.testing.assert_array_equal(rebuilt, raw["anomaly"].to_numpy() == 1)
    np.testing.assert_array_equal(data.channel("current"), raw["Current"].to_numpy())


# ---------------------------------------------------------------- tiny generated files
def _csv(path: Path, anomaly: list[int], changepoint: list[int] | None = None) -> Path:
    changepoint = changepoint or [0] * len(anomaly)
    lines = [HEADER + ";anomaly;changepoint"]
    for i, (a, c) in enumerate(zip(anomaly, changepoint, strict=True)):
        # a 2 s step after row 1, as in the real files
        t = datetime(2020, 3, 9, 10, 0, 0) + timedelta(seconds=i + (i >= 2))
        lines.append(f"{t:%Y-%m-%d %H:%M:%S};0.2;0.27;2.1;0.38;90.6;26.8;238.8;122.6;{a}.0;{c}.0")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def test_tiny_file(tmp_path: Path) -> None:
    _csv(tmp_path / "valve2" / "1.csv", [0, 0, 1, 1, 1, 0], [0, 0, 1, 0, 0, 1])
    data = load_file(tmp_path, "valve2/1.csv")
    rec = data.recording
    assert rec.id == "skab-valve2-1"
    assert rec.asset_id == ASSET_ID
    assert data.samples["timestamp"].tolist() == [0, 1, 3, 4, 5, 6]
    (interval,) = rec.labels
    assert isinstance(interval, AnomalyInterval)
    assert (interval.start_s, interval.end_s, interval.changepoints_s) == (3, 5, [3, 6])
    assert interval.fault_type == "valve closed at the outlet of the flow from the pump"


def test_split_anomaly_rejected_naming_file(tmp_path: Path) -> None:
    _csv(tmp_path / "other" / "3.csv", [0, 1, 0, 1, 0])
    with pytest.raises(InputError, match=r"3\.csv.*not one contiguous segment") as err:
        load_file(tmp_path, "other/3.csv")
    assert (err.value.line, err.value.column) == (5, "anomaly")


def test_bad_number_named(tmp_path: Path) -> None:
    path = _csv(tmp_path / "valve1" / "0.csv", [0, 0, 0])
    text = path.read_text().replace(";90.6;", ";9O.6;", 1)
    path.write_text(text)
    with pytest.raises(InputError, match="not a finite number") as err:
        read_csv(path)
    assert (err.value.line, err.value.column) == (2, "Temperature")


def test_bad_label_and_time(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", [0, 2, 0])
    with pytest.raises(InputError, match="0 or 1") as err:
        read_csv(path)
    assert err.value.line == 3
    path = _csv(tmp_path / "b.csv", [0, 0, 0])
    path.write_text(path.read_text().replace("2020-03-09 10:00:01", "2020-03-09 09:59:00"))
    with pytest.raises(InputError, match="increase") as err:
        read_csv(path)
    assert err.value.line == 3  # the second data row goes back in time


def test_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("datetime;a;b\n2020-01-01 00:00:00;1;2\n")
    with pytest.raises(InputError, match="unexpected header"):
        read_csv(path)


def test_anomaly_free_layout(tmp_path: Path) -> None:
    path = tmp_path / "anomaly-free" / "anomaly-free.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "\n2020-02-08 13:30:47;0.2;0.27;2.1;0.38;90.6;26.8;238.8;122.6\n")
    data = load_file(tmp_path, "anomaly-free/anomaly-free.csv")
    assert data.recording.id == "skab-anomaly-free"
    fault = data.recording.fault()
    assert fault is not None
    assert fault.location == FaultLocation.NONE


def test_url_for() -> None:
    url = get_dataset("skab").url_for("valve1/0.csv")
    assert url == (
        "https://raw.githubusercontent.com/waico/SKAB/"
        "b2c0d46c2971dcbfe71e26087b6d231998bb91c2/data/valve1/0.csv"
    )


@given(st.integers(0, 30), st.integers(1, 30), st.integers(0, 30))
def test_interval_reproduces_rows(before: int, length: int, after: int) -> None:
    anomaly = np.array([0] * before + [1] * length + [0] * after)
    seconds = np.cumsum(np.where(np.arange(anomaly.size) % 7 == 3, 2.0, 1.0))
    interval = anomaly_interval(Path("x.csv"), seconds, anomaly, np.zeros_like(anomaly), None)
    assert interval is not None
    inside = (seconds >= interval.start_s) & (seconds <= interval.end_s)
    np.testing.assert_array_equal(inside, anomaly == 1)
