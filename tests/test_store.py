"""The embedded store: round trips, replacement, garbage collection, schema versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopfloor.core.assets import Asset, Channel
from shopfloor.core.errors import StoreError
from shopfloor.core.events import Event, EventKind, Severity
from shopfloor.core.labels import FaultLabel, FaultLocation
from shopfloor.core.recording import Recording, RecordingData, TimeBase
from shopfloor.core.store import Store
from shopfloor.core.store.schema import SCHEMA_VERSION


def make_asset(asset_id: str = "m1") -> Asset:
    return Asset(
        id=asset_id,
        kind="induction_motor",
        channels=[Channel(id="de", quantity="acceleration", unit="g", sample_rate_hz=1000)],
    )


def make_recording(rec_id: str, n: int = 500, seed: int = 0, asset_id: str = "m1") -> RecordingData:
    rec = Recording(
        id=rec_id,
        asset_id=asset_id,
        channel_ids=["de"],
        n_samples=n,
        time_base=TimeBase(kind="uniform", sample_rate_hz=1000),
        labels=[FaultLabel(location=FaultLocation.OUTER_RACE, size_mm=0.18)],
    )
    values = np.random.default_rng(seed).normal(size=n)
    return RecordingData(rec, pd.DataFrame({"de": values}))


def write(
    store: Store, dataset: str, ids: list[str], *, replace: bool = False, seed: int = 0
) -> None:
    with store.batch(dataset, replace=replace) as batch:
        batch.add_asset(make_asset())
        for i, rid in enumerate(ids):
            batch.add_recording(make_recording(rid, seed=seed + i))
        batch.set_dataset(version="1", source="test")


def test_round_trip_keeps_samples_and_metadata(store: Store) -> None:
    write(store, "ds", ["r1", "r2"])
    back = store.load("r2")
    np.testing.assert_array_equal(back.channel("de"), make_recording("r2", seed=1).channel("de"))
    assert back.recording.fault() == FaultLabel(location="outer_race", size_mm=0.18)
    assert store.asset("m1").channel("de").unit == "g"
    info = store.dataset_info("ds")
    assert info is not None
    assert info["n_recordings"] == 2
    assert info["bytes"] > 0
    parquet = list((store.home / "waveforms" / "asset=m1" / "day=undated").glob("*.parquet"))
    assert len(parquet) == 2


def test_replace_swaps_whole_dataset_and_removes_old_files(store: Store) -> None:
    write(store, "ds", ["r1", "r2", "r3"])
    write(store, "ds", ["r9"], replace=True, seed=7)
    assert [r.id for r in store.recordings(dataset="ds")] == ["r9"]
    assert len(list((store.home / "waveforms").rglob("*.parquet"))) == 1


def test_duplicate_recording_is_refused_and_nothing_changes(store: Store) -> None:
    write(store, "ds", ["r1"])
    with pytest.raises(StoreError, match="already stored"):
        write(store, "ds", ["r5", "r1"])
    assert [r.id for r in store.recordings()] == ["r1"]
    assert not (store.home / ".staging").exists() or not any((store.home / ".staging").iterdir())
    assert len(list((store.home / "waveforms").rglob("*.parquet"))) == 1


def test_error_inside_batch_discards_everything(store: Store) -> None:
    write(store, "ds", ["r1"])

    def half_way() -> None:
        with store.batch("ds", replace=True) as batch:
            batch.add_asset(make_asset())
            batch.add_recording(make_recording("r2"))
            raise RuntimeError("bad file half-way")

    with pytest.raises(RuntimeError):
        half_way()
    assert [r.id for r in store.recordings()] == ["r1"]
    np.testing.assert_array_equal(
        store.load("r1").channel("de"), make_recording("r1").channel("de")
    )


def test_orphans_from_a_crash_are_collected_on_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as s:
        write(s, "ds", ["r1"])
    orphan = home / "waveforms" / "asset=m1" / "day=undated" / "r7-deadbeef.parquet"
    orphan.write_bytes(b"half")
    (home / ".staging" / "abc").mkdir(parents=True)
    with Store.open(home) as s:
        assert not orphan.exists()
        assert not (home / ".staging").exists()
        assert [r.id for r in s.recordings()] == ["r1"]


def test_events_round_trip(store: Store) -> None:
    ev = Event(
        asset_id="m1",
        kind=EventKind.DIAGNOSIS,
        start="2026-01-01T00:00:00Z",
        severity=Severity.WARNING,
        summary="outer race",
        evidence={"bpfo_hz": 107.4, "harmonics": [1, 2, 3]},
    )
    store.add_events([ev])
    (back,) = store.events(asset_id="m1")
    assert back.evidence == {"bpfo_hz": 107.4, "harmonics": [1, 2, 3]}
    assert back.severity == Severity.WARNING


def test_schema_version_and_newer_store_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as s:
        assert s.schema_version == SCHEMA_VERSION
    con = sqlite3.connect(str(home / "catalog.sqlite"))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this shopfloor"):
        Store.open(home)


def test_read_only_open_of_missing_store_is_clear(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store in"):
        Store.open(tmp_path / "nowhere", read_only=True)


def test_home_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.write_text("not a directory")
    with pytest.raises(StoreError, match="data directory"):
        Store.open(target)


def test_remove_and_re_add_a_recording_in_one_write(store: Store) -> None:
    write(store, None, ["r1", "r2"])
    old_files = set((store.home / "waveforms").rglob("*.parquet"))
    with store.batch() as batch:
        batch.add_asset(make_asset())
        batch.remove_recording("r1")
        batch.add_recording(make_recording("r1", seed=99))
    np.testing.assert_array_equal(
        store.load("r1").channel("de"), make_recording("r1", seed=99).channel("de")
    )
    new_files = set((store.home / "waveforms").rglob("*.parquet"))
    assert len(new_files) == 2
    assert len(old_files & new_files) == 1  # r2 kept, old r1 file gone
    with pytest.raises(StoreError, match="cannot remove recording 'nope'"):
        remove_missing(store)


def remove_missing(store: Store) -> None:
    with store.batch() as batch:
        batch.remove_recording("nope")


def test_check_finds_an_altered_recording_file(store: Store) -> None:
    write(store, "ds", ["r1", "r2"])
    assert store.check().clean
    (path,) = [p for p in (store.home / "waveforms").rglob("r1-*.parquet")]
    other = next(p for p in (store.home / "waveforms").rglob("r2-*.parquet"))
    path.write_bytes(other.read_bytes())  # a whole, readable Parquet file, but not r1's
    (problem,) = store.check().problems
    assert "recording 'r1'" in problem
    assert "does not match its sha256" in problem
