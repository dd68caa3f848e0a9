"""FEMTO PRONOSTIA loader: snapshot counts and lives against SOURCE.md, and tiny generated files.

The real dataset is ~570 MB as float64, so it is prepared once for the module.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopfloor.core.assets import Asset, AssetKind, Direction
from shopfloor.core.errors import InputError
from shopfloor.core.labels import LifeLabel
from shopfloor.core.recording import Recording, RecordingData, TimeBaseKind
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.datasets import get_dataset
from shopfloor.datasets.femto_pronostia import (
    BEARING,
    END_OF_RECORD,
    FEATURE_IDS,
    read_bearings,
)
from shopfloor.datasets.prepare import PrepareReport, prepare

# Snapshots (acc files) per bearing: learning set from SOURCE.md's "Verified" table, test set
# from bearings.csv (SOURCE.md's prose gives 1428 for Bearing1_4, and see test_counts).
SNAPSHOTS = {
    "Bearing1_1": 2803, "Bearing1_2": 871, "Bearing2_1": 911, "Bearing2_2": 797,
    "Bearing3_1": 515, "Bearing3_2": 1637,
    "Bearing1_3": 2375, "Bearing1_4": 1428, "Bearing1_5": 2463, "Bearing1_6": 2448,
    "Bearing1_7": 2259, "Bearing2_3": 1955, "Bearing2_4": 751, "Bearing2_5": 2311,
    "Bearing2_6": 701, "Bearing2_7": 230, "Bearing3_3": 434,
}  # fmt: skip
# Published durations of the learning set (SOURCE.md), in s.
LEARNING_LIFE_S = {
    "Bearing1_1": 28020, "Bearing1_2": 8700, "Bearing2_1": 9100, "Bearing2_2": 7960,
    "Bearing3_1": 5140, "Bearing3_2": 16360,
}  # fmt: skip
# Actual RUL of the truncated test bearings from the full record, in s (SOURCE.md); all but
# Bearing1_4 equal the published value.
TEST_RUL_S = {
    "Bearing1_3": 5730, "Bearing1_4": 2890, "Bearing1_5": 1610, "Bearing1_6": 1460,
    "Bearing1_7": 7570, "Bearing2_3": 7530, "Bearing2_4": 1390, "Bearing2_5": 3090,
    "Bearing2_6": 1290, "Bearing2_7": 580, "Bearing3_3": 820,
}  # fmt: skip
TEMP_FILES = {"Bearing1_1": 466, "Bearing1_2": 144, "Bearing2_1": 151, "Bearing3_1": 89}
WITH_TEMPERATURE = {
    *TEMP_FILES,
    "Bearing2_4",
    "Bearing2_5",
    "Bearing2_6",
    "Bearing2_7",
    "Bearing3_3",
}
FEATURES_ONLY = {"Bearing1_3", "Bearing1_4", "Bearing1_5", "Bearing1_6", "Bearing1_7"}


@pytest.fixture(scope="module")
def prepared(
    dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, PrepareReport, dict[str, Recording]]]:
    folder = dataset_dir("femto_pronostia")
    home = tmp_path_factory.mktemp("femto-store")
    with Store.open(home) as store:
        report = prepare(
            "femto_pronostia", store, Settings(home=home, data=folder.parent, offline=True)
        )
        yield store, report, {r.id: r for r in store.recordings(dataset="femto_pronostia")}
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.realdata
@pytest.mark.slow
def test_counts(prepared: tuple[Store, PrepareReport, dict[str, Recording]]) -> None:
    _, report, recs = prepared
    assert report.n_assets == 17
    assert report.n_recordings == len(recs) == 12 + 9 + 17  # acc, temp, features
    assert sum(r.n_samples for r in recs.values() if r.id.endswith("-features")) == 24_889
    # SOURCE.md says 11,973 snapshots for 1_3 ... 1_7, but its bearings.csv and the 24,889
    # feature rows (all 17 bearings) both give 10,973: the prose is off by 1000.
    assert sum(SNAPSHOTS[b] for b in FEATURES_ONLY) == 10_973
    assert sum(SNAPSHOTS.values()) == 24_889
    assert {r.id.removeprefix("femto-").removesuffix("-temp") for r in recs.values()
            if r.id.endswith("-temp")} == WITH_TEMPERATURE  # fmt: skip
    assert not any(f"femto-{b}-acc" in recs for b in FEATURES_ONLY)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("bearing", sorted(SNAPSHOTS))
def test_snapshots_and_life(
    prepared: tuple[Store, PrepareReport, dict[str, Recording]], bearing: str
) -> None:
    _, _, recs = prepared
    n = SNAPSHOTS[bearing]
    features = recs[f"femto-{bearing}-features"]
    assert features.n_samples == n
    assert features.time_base.kind == TimeBaseKind.UNIFORM
    assert features.duration_s == n * 10
    acc = recs.get(f"femto-{bearing}-acc")
    if bearing in FEATURES_ONLY:
        assert acc is None
    else:
        assert acc is not None
        assert acc.n_samples == n * 2560
        tb = acc.time_base
        assert (tb.kind, tb.sample_rate_hz, tb.burst_length, tb.burst_interval_s) == (
            TimeBaseKind.BURSTS, 25_600, 2560, 10
        )  # fmt: skip
        assert acc.labels == features.labels
    end = features.life()
    assert end is not None
    assert end.unit == "s"
    assert end.failure_criterion == END_OF_RECORD
    assert "20 g" in END_OF_RECORD
    assert end.life == end.observed_until == (n - 1) * 10
    if bearing in LEARNING_LIFE_S:
        assert end.life == LEARNING_LIFE_S[bearing]
        assert len(features.labels) == 1
        return
    # the challenge's truncated view: the full record's RUL is the gap between the two lives
    _, challenge = features.labels
    assert isinstance(challenge, LifeLabel)
    assert end.life - challenge.observed_until == TEST_RUL_S[bearing]
    if bearing == "Bearing1_4":
        # preserved as the source states it: published 339 s, full record 2890 s
        assert challenge.rul_at_end == 339
        assert (challenge.observed_until, challenge.life) == (11_380, 11_719)
        assert challenge.failure_criterion is not None
        assert "2890 s" in challenge.failure_criterion
    else:
        assert challenge.rul_at_end == TEST_RUL_S[bearing]
        assert challenge.life == end.life


@pytest.mark.realdata
@pytest.mark.slow
def test_assets(prepared: tuple[Store, PrepareReport, dict[str, Recording]]) -> None:
    store, _, _ = prepared
    assets = store.assets(dataset="femto_pronostia")
    assert len(assets) == 17
    for asset in assets:
        assert asset.kind == AssetKind.BEARING_TEST_RIG
        assert asset.component(BEARING).bearing is None  # geometry not published
        h = asset.channel("h_acc")
        assert (h.unit, h.sample_rate_hz, h.direction) == ("g", 25_600, Direction.RADIAL_HORIZONTAL)
        assert asset.channel("v_acc").direction == Direction.RADIAL_VERTICAL
    temp_assets = {a.id for a in assets if any(c.id == "temperature" for c in a.channels)}
    # the RTD existed for 1_4 ... 1_7 too; only their files were left out of the mirror
    assert len(temp_assets) == 13


@pytest.mark.realdata
@pytest.mark.slow
def test_acc_samples_in_g(
    prepared: tuple[Store, PrepareReport, dict[str, Recording]],
    dataset_dir: Callable[[str], Path],
) -> None:
    store, _, _ = prepared
    data = store.load("femto-Bearing2_7-acc")
    raw = pq.read_table(dataset_dir("femto_pronostia") / "raw/Full_Test_Set/Bearing2_7_acc.parquet")
    np.testing.assert_array_equal(data.samples["burst"].to_numpy(), raw["file"].to_numpy() - 1)
    np.testing.assert_array_equal(
        np.round(data.channel("h_acc") * 1000), raw["h_acc_mg"].to_numpy()
    )
    assert np.abs(data.channel("h_acc")).max() == pytest.approx(20.306)  # bearings.csv


@pytest.mark.realdata
@pytest.mark.slow
def test_temperature_time_base(prepared: tuple[Store, PrepareReport, dict[str, Recording]]) -> None:
    store, _, _ = prepared
    data = store.load("femto-Bearing3_1-temp")
    assert data.recording.time_base.kind == TimeBaseKind.TIMESTAMPS
    steps = np.diff(data.samples["timestamp"].to_numpy())
    assert np.median(steps) == pytest.approx(0.1)
    assert steps.max() == pytest.approx(18.4)  # the hole SOURCE.md's conversion kept
    assert data.recording.n_samples == 52_897


# ---------------------------------------------------------------- tiny generated files
BEARINGS_HEADER = (
    "set,bearing,condition,speed_rpm,radial_load_N,n_acc_files,n_temp_files,life_s_nominal,"
    "life_s_timestamp,n_acc_files_truncated_test_set,actual_rul_s_published,"
    "rul_s_from_full_test_set_nominal,raw_waveforms_included"
)


def _tiny_folder(root: Path) -> Path:
    (root / "raw" / "Learning_set").mkdir(parents=True)
    (root / "features").mkdir()
    (root / "bearings.csv").write_text(
        BEARINGS_HEADER + "\n"
        "Learning_set,Bearing1_1,1,1800,4000,2,1,10,10.0,,,,yes\n"
        "Full_Test_Set,Bearing1_4,1,1800,4000,3,2,20,20.0,2,3,10,no (features only)\n"
    )
    rows = []
    for bearing, n, trunc in (("Bearing1_1", 2, ""), ("Bearing1_4", 3, "1")):
        for f in range(1, n + 1):
            row = {
                "set": "x",
                "bearing": bearing,
                "condition": 1,
                "file": f,
                "t0_hhmmss": "23:59:59.500000",
                "in_truncated_test_set": trunc if f < n else "",
            }
            for fid in FEATURE_IDS:
                stat = fid.split("_", 1)[1]
                col = fid if stat in ("skewness", "kurtosis", "crest") else f"{fid}_g"
                row[col] = f / 10
            rows.append(row)
    pd.DataFrame(rows).to_csv(root / "features" / "snapshot_features.csv", index=False)
    files = np.repeat(np.array([1, 2], dtype=np.int16), 2560)
    mg = np.arange(5120, dtype=np.int32) - 2560
    zeros8 = np.zeros(5120, dtype=np.int8)
    pq.write_table(pa.table({
        "file": files, "hour": zeros8, "minute": zeros8, "second": zeros8,
        "microsecond": np.zeros(5120, dtype=np.int32), "h_acc_mg": mg, "v_acc_mg": -mg,
    }), root / "raw" / "Learning_set" / "Bearing1_1_acc.parquet")  # fmt: skip
    # temperature crosses midnight: 23:59:59.9 then 00:00:00.0
    pq.write_table(pa.table({
        "file": np.array([1, 1], dtype=np.int16), "hour": np.array([23, 0], dtype=np.int8),
        "minute": np.array([59, 0], dtype=np.int8), "second": np.array([59, 0], dtype=np.int8),
        "tenth_second": np.array([9, 0], dtype=np.int8),
        "temp_mdegC": np.array([70378, 70397], dtype=np.int32),
    }), root / "raw" / "Learning_set" / "Bearing1_1_temp.parquet")  # fmt: skip
    return root


def test_tiny_folder(tmp_path: Path) -> None:
    root = _tiny_folder(tmp_path)
    seen: list[str] = []
    items = list(get_dataset("femto_pronostia").load(root, progress=lambda d, t, w: seen.append(w)))
    assert seen == [
        "bearings.csv",
        "features/snapshot_features.csv",
        "raw/Learning_set/Bearing1_1_acc.parquet",
        "raw/Learning_set/Bearing1_1_temp.parquet",
    ]
    assets = [i for i in items if isinstance(i, Asset)]
    assert [a.id for a in assets] == ["femto-Bearing1_1", "femto-Bearing1_4"]
    assert items[:2] == assets  # assets come first
    recs = {i.recording.id: i for i in items if isinstance(i, RecordingData)}
    assert set(recs) == {
        "femto-Bearing1_1-acc",
        "femto-Bearing1_1-temp",
        "femto-Bearing1_1-features",
        "femto-Bearing1_4-features",
    }
    acc = recs["femto-Bearing1_1-acc"]
    assert acc.samples["burst"].tolist()[2558:2562] == [0, 0, 1, 1]
    assert acc.channel("h_acc")[0] == -2.56
    assert acc.channel("v_acc")[0] == 2.56
    temp = recs["femto-Bearing1_1-temp"]
    # first snapshot at 23:59:59.5; temperature at 23:59:59.9 and, after midnight, 00:00:00.0
    assert temp.samples["timestamp"].tolist() == [0.4, 0.5]
    assert temp.channel("temperature").tolist() == [70.378, 70.397]
    life, challenge = recs["femto-Bearing1_4-features"].recording.labels
    assert isinstance(life, LifeLabel)
    assert isinstance(challenge, LifeLabel)
    assert (life.life, challenge.observed_until, challenge.life) == (20, 10, 13)
    assert "10 s instead" in (challenge.failure_criterion or "")


def test_acc_with_partial_snapshot_rejected(tmp_path: Path) -> None:
    root = _tiny_folder(tmp_path)
    path = root / "raw" / "Learning_set" / "Bearing1_1_acc.parquet"
    pq.write_table(pq.read_table(path).slice(0, 5000), path)
    with pytest.raises(InputError, match="whole number of 2560-sample snapshots") as err:
        list(get_dataset("femto_pronostia").load(root))
    assert "Bearing1_1_acc.parquet" in str(err.value)


def test_acc_snapshot_count_checked(tmp_path: Path) -> None:
    root = _tiny_folder(tmp_path)
    path = root / "raw" / "Learning_set" / "Bearing1_1_acc.parquet"
    pq.write_table(pq.read_table(path).slice(0, 2560), path)
    with pytest.raises(InputError, match=r"1 snapshots, bearings\.csv says 2"):
        list(get_dataset("femto_pronostia").load(root))


def test_bad_bearing_row_named(tmp_path: Path) -> None:
    root = _tiny_folder(tmp_path)
    path = root / "bearings.csv"
    path.write_text(path.read_text().replace(",1800,4000,3,", ",1800,4k,3,"))
    with pytest.raises(InputError, match="not a number") as err:
        read_bearings(path)
    assert (err.value.line, err.value.column) == (3, "radial_load_N")


def test_inconsistent_life_rejected(tmp_path: Path) -> None:
    root = _tiny_folder(tmp_path)
    path = root / "bearings.csv"
    path.write_text(path.read_text().replace(",2,1,10,10.0,", ",2,1,15,10.0,"))
    with pytest.raises(InputError, match=r"not \(n_acc_files - 1\) x 10 s") as err:
        read_bearings(path)
    assert err.value.line == 2


def test_url_for_is_none() -> None:
    spec = get_dataset("femto_pronostia")
    assert spec.url_for("bearings.csv") is None
    assert "no explicit license" in spec.license.lower()
