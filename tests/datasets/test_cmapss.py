"""C-MAPSS loader: counts and lives against the mirror's SOURCE.md, and tiny generated files."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopfloor.core.assets import Asset, AssetKind
from shopfloor.core.errors import InputError
from shopfloor.core.recording import Recording, RecordingData, TimeBaseKind
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.core.units import Quantity
from shopfloor.datasets import get_dataset
from shopfloor.datasets.cmapss import CHANNEL_IDS, SUBSETS, engine_records, read_rul, read_table
from shopfloor.datasets.prepare import PrepareReport, prepare

# "Per-file counts" of SOURCE.md: file -> (rows, units, shortest, longest) where the last two
# are cycles per unit for train/test files and the RUL range for RUL files.
SOURCE_COUNTS = {
    "train_FD001.txt": (20631, 100, 128, 362),
    "test_FD001.txt": (13096, 100, 31, 303),
    "RUL_FD001.txt": (100, 100, 7, 145),
    "train_FD002.txt": (53759, 260, 128, 378),
    "test_FD002.txt": (33991, 259, 21, 367),
    "RUL_FD002.txt": (259, 259, 6, 194),
    "train_FD003.txt": (24720, 100, 145, 525),
    "test_FD003.txt": (16596, 100, 38, 475),
    "RUL_FD003.txt": (100, 100, 6, 145),
    "train_FD004.txt": (61249, 249, 128, 543),
    "test_FD004.txt": (41214, 248, 19, 486),
    "RUL_FD004.txt": (248, 248, 6, 195),
}


@pytest.fixture(scope="module")
def prepared(
    dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, PrepareReport, list[Recording]]]:
    folder = dataset_dir("cmapss")
    home = tmp_path_factory.mktemp("cmapss-store")
    with Store.open(home) as store:
        report = prepare("cmapss", store, Settings(home=home, data=folder.parent, offline=True))
        yield store, report, store.recordings(dataset="cmapss")
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.realdata
def test_counts(prepared: tuple[Store, PrepareReport, list[Recording]]) -> None:
    _, report, recordings = prepared
    engines = sum(units for name, (_, units, _, _) in SOURCE_COUNTS.items() if name[0] != "R")
    assert engines == 709 + 707
    assert (report.n_assets, report.n_recordings, len(recordings)) == (engines, engines, engines)


@pytest.mark.realdata
@pytest.mark.parametrize("subset", SUBSETS)
@pytest.mark.parametrize("split", ["train", "test"])
def test_rows_units_and_lives(
    prepared: tuple[Store, PrepareReport, list[Recording]], subset: str, split: str
) -> None:
    _, _, recordings = prepared
    recs = [r for r in recordings if r.id.startswith(f"cmapss-{subset}-{split}-")]
    rows, units, shortest, longest = SOURCE_COUNTS[f"{split}_{subset}.txt"]
    assert len(recs) == units
    assert sum(r.n_samples for r in recs) == rows
    assert min(r.n_samples for r in recs) == shortest
    assert max(r.n_samples for r in recs) == longest
    assert [r.id for r in recs] == [f"cmapss-{subset}-{split}-{k:03d}" for k in range(1, units + 1)]
    lives = [r.life() for r in recs]
    assert all(life is not None and life.unit == "cycles" for life in lives)
    # cycles run 1..n without gaps, so the last cycle is the number of rows
    assert all(
        life is not None and life.observed_until == r.n_samples
        for r, life in zip(recs, lives, strict=True)
    )
    ruls = [life.rul_at_end for life in lives if life is not None]
    if split == "train":
        assert set(ruls) == {0.0}
    else:
        _, n_rul, low, high = SOURCE_COUNTS[f"RUL_{subset}.txt"]
        assert len(ruls) == n_rul
        assert (min(ruls), max(ruls)) == (low, high)


@pytest.mark.realdata
def test_rul_file_order(
    prepared: tuple[Store, PrepareReport, list[Recording]], dataset_dir: Callable[[str], Path]
) -> None:
    _, _, recordings = prepared
    rul = np.loadtxt(dataset_dir("cmapss") / "RUL_FD001.txt")
    test = [r for r in recordings if r.id.startswith("cmapss-FD001-test-")]
    assert [r.life().rul_at_end for r in test if r.life()] == list(rul)  # type: ignore[union-attr]
    first = test[0].life()
    assert first is not None
    assert (first.observed_until, first.life) == (31, 31 + 112)


@pytest.mark.realdata
def test_samples_and_channels(
    prepared: tuple[Store, PrepareReport, list[Recording]], dataset_dir: Callable[[str], Path]
) -> None:
    store, _, _ = prepared
    data = store.load("cmapss-FD002-train-260")
    raw = np.loadtxt(dataset_dir("cmapss") / "train_FD002.txt")
    raw = raw[raw[:, 0] == 260]
    assert data.recording.time_base.kind == TimeBaseKind.CYCLES
    np.testing.assert_array_equal(data.samples["cycle"].to_numpy(), raw[:, 1])
    np.testing.assert_array_equal(data.samples[list(CHANNEL_IDS)].to_numpy(), raw[:, 2:])
    asset = store.asset("cmapss-FD002-train-260")
    assert asset.kind == AssetKind.TURBOFAN
    assert len(asset.channels) == 24
    assert asset.channel("s2").unit == "degR"
    assert asset.channel("s11").unit == "psi"
    assert asset.channel("s12").quantity == Quantity.MASS_FLOW_PER_PRESSURE
    assert asset.channel("s20").unit == "lb/s"
    assert asset.channel("setting_1").unit == "kft"


# ---------------------------------------------------------------- tiny generated files
LINE = (
    "{unit} {cycle} -0.0007 -0.0004 100.0 518.67 641.82 1589.70 1400.60 14.62 21.61 554.36 "
    "2388.06 9046.19 1.30 47.47 521.66 2388.02 8138.62 8.4195 0.03 392 2388 100.00 39.06 23.4190  "
)


def _write(path: Path, pairs: list[tuple[int, int]]) -> Path:
    path.write_text("".join(LINE.format(unit=u, cycle=c) + "\n" for u, c in pairs))
    return path


def test_three_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "train_FD001.txt", [(1, 1), (1, 2), (2, 1)])
    table = read_table(path, 26)
    assert table.shape == (3, 26)
    items = list(engine_records("FD001", "train", table, path=path))
    assets = [i for i in items if isinstance(i, Asset)]
    recs = [i for i in items if isinstance(i, RecordingData)]
    assert [a.id for a in assets] == ["cmapss-FD001-train-001", "cmapss-FD001-train-002"]
    assert isinstance(items[0], Asset)  # asset before its recording
    life = recs[0].recording.life()
    assert life is not None
    assert (life.life, life.observed_until) == (2, 2)
    assert recs[0].channel("s1").tolist() == [518.67, 518.67]
    assert recs[1].samples["cycle"].tolist() == [1]


def test_test_split_life(tmp_path: Path) -> None:
    path = _write(tmp_path / "test_FD003.txt", [(1, 1), (1, 2), (1, 3)])
    (tmp_path / "RUL_FD003.txt").write_text("40 \n")
    rul = read_rul(tmp_path / "RUL_FD003.txt")
    recs = [
        i
        for i in engine_records("FD003", "test", read_table(path, 26), path=path, rul=rul)
        if isinstance(i, RecordingData)
    ]
    life = recs[0].recording.life()
    assert life is not None
    assert (life.life, life.observed_until, life.rul_at_end) == (43, 3, 40)


def test_rul_count_mismatch(tmp_path: Path) -> None:
    path = _write(tmp_path / "test_FD001.txt", [(1, 1), (2, 1)])
    with pytest.raises(InputError, match="2 test engines but 1 RUL"):
        list(engine_records("FD001", "test", read_table(path, 26), path=path, rul=np.array([5.0])))


def test_bad_field_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "train_FD001.txt", [(1, 1), (1, 2), (1, 3)])
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("1589.70", "15x9.70")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        read_table(path, 26)
    assert (err.value.line, err.value.column) == (2, "s3")
    assert "train_FD001.txt" in str(err.value)


def test_short_line_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "train_FD001.txt", [(1, 1), (1, 2)])
    path.write_text(path.read_text() + "1 3 0.1\n")
    with pytest.raises(InputError, match="expected 26 fields, found 3") as err:
        read_table(path, 26)
    assert err.value.line == 3


def test_cycle_gap_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path / "train_FD001.txt", [(1, 1), (1, 3)])
    with pytest.raises(InputError, match="without gaps") as err:
        list(engine_records("FD001", "train", read_table(path, 26), path=path))
    assert (err.value.line, err.value.column) == (2, "cycle")


def test_unsorted_units_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path / "train_FD001.txt", [(2, 1), (1, 1)])
    with pytest.raises(InputError, match="expected engine 1"):
        list(engine_records("FD001", "train", read_table(path, 26), path=path))


def test_load_whole_tiny_folder(tmp_path: Path) -> None:
    for subset in SUBSETS:
        _write(tmp_path / f"train_{subset}.txt", [(1, 1), (1, 2), (2, 1)])
        _write(tmp_path / f"test_{subset}.txt", [(1, 1)])
        (tmp_path / f"RUL_{subset}.txt").write_text("7 \n")
    seen: list[tuple[int, int, str]] = []
    items = list(
        get_dataset("cmapss").load(tmp_path, progress=lambda d, t, w: seen.append((d, t, w)))
    )
    assert len(items) == 2 * 3 * 4
    assert [s[0] for s in seen] == list(range(1, 13))
    assert get_dataset("cmapss").url_for("train_FD001.txt") is None


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=24, max_size=24),
        min_size=1,
        max_size=5,
    )
)
def test_parser_round_trip(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[float]]
) -> None:
    path = tmp_path_factory.mktemp("rt") / "train_FD001.txt"
    text = "".join(
        f"1 {i + 1} " + " ".join(repr(v) for v in row) + "  \n" for i, row in enumerate(rows)
    )
    path.write_text(text)
    table = read_table(path, 26)
    np.testing.assert_array_equal(table[:, 2:], np.array(rows))
