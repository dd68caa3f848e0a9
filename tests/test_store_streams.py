"""Stream blocks: append, idempotent resend, time-range reads, bad input, retention."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shopfloor.core.assets import Asset, Channel
from shopfloor.core.errors import InputError, StoreError
from shopfloor.core.events import Event, EventKind
from shopfloor.core.store import Block, RetentionPolicy, Store

FS = 25_600.0
T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def plant_asset(asset_id: str = "p1") -> Asset:
    return Asset(
        id=asset_id,
        kind="pump",
        channels=[
            Channel(id="de", quantity="acceleration", unit="g", sample_rate_hz=FS),
            Channel(id="nde", quantity="acceleration", unit="g", sample_rate_hz=FS),
        ],
    )


def block(seq: int, channel: str = "de", seed: int | None = None, fs: float = FS) -> Block:
    rng = np.random.default_rng(seq if seed is None else seed)
    start = T0 + timedelta(seconds=seq)
    return Block("p1", channel, seq, start, fs, rng.normal(size=int(fs)).astype(np.float32))


@pytest.fixture
def live(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "home")
    store.put_asset(plant_asset())
    return store


def stored_blocks(store: Store) -> int:
    return int(store.sql("SELECT count(*) AS n FROM blocks")["n"].iloc[0])


def test_time_range_read_returns_exact_samples_across_blocks(live: Store) -> None:
    live.append([block(i) for i in range(5)], now=NOW)
    got = live.read("p1", "de", T0 + timedelta(seconds=1.5), T0 + timedelta(seconds=3.25))
    want = np.concatenate([block(1).values[12_800:], block(2).values, block(3).values[:6_400]])
    assert len(got.pieces) == 1
    assert got.pieces[0][0] == int((T0 + timedelta(seconds=1.5)).timestamp() * 1e9)
    np.testing.assert_array_equal(got.values, want)
    table = got.to_arrow()
    assert table.num_rows == len(want)
    assert table.column_names == ["time", "value"]
    last = live.read_last("p1", "de", 2.0)
    np.testing.assert_array_equal(last.values, np.concatenate([block(3).values, block(4).values]))


def test_resent_blocks_are_stored_once(live: Store) -> None:
    live.append([block(i) for i in range(4)], now=NOW)
    report = live.append([block(i) for i in range(2, 6)], now=NOW)
    assert (report.stored, report.duplicates) == (2, 2)
    assert stored_blocks(live) == 6
    assert len(live.read("p1", "de", T0, T0 + timedelta(seconds=6)).values) == 6 * FS


def test_resend_with_other_samples_is_refused_and_nothing_changes(live: Store) -> None:
    live.append([block(i) for i in range(3)], now=NOW)
    with pytest.raises(InputError, match="already holds seq 1 with other samples"):
        live.append([block(3), block(1, seed=99)], now=NOW)
    assert stored_blocks(live) == 3  # block 3 of the refused call was not stored either
    np.testing.assert_array_equal(
        live.read("p1", "de", T0, T0 + timedelta(seconds=3)).values,
        np.concatenate([block(i).values for i in range(3)]),
    )


def test_wrong_sample_rate_for_the_stream_is_refused(live: Store) -> None:
    live.append([block(0)], now=NOW)
    with pytest.raises(InputError, match="sample rate 25000 Hz, but stream 'p1/de' is stored"):
        live.append([block(1), block(2, fs=25_000.0)], now=NOW)
    assert stored_blocks(live) == 1


def test_sequence_gap_is_stored_with_a_quality_record(live: Store) -> None:
    live.append([block(0), block(1)], now=NOW)
    report = live.append([block(5)], now=NOW)
    assert report.stored == 1
    (rec,) = live.quality_records("p1/de")
    assert rec["kind"] == "sequence_gap"
    assert "3 block(s) missing before seq 5" in str(rec["detail"])
    # the missing blocks arriving late fill the gap
    assert live.append([block(3)], now=NOW).stored == 1
    got = live.read("p1", "de", T0, T0 + timedelta(seconds=6))
    assert [t for t, _ in got.pieces] == [
        int((T0 + timedelta(seconds=s)).timestamp() * 1e9) for s in (0, 3, 5)
    ]


def test_time_jump_between_consecutive_blocks_is_a_quality_record(live: Store) -> None:
    live.append([block(0)], now=NOW)
    late = Block("p1", "de", 1, T0 + timedelta(seconds=1.5), FS, np.zeros(int(FS)))
    live.append([late], now=NOW)
    (rec,) = live.quality_records()
    assert rec["kind"] == "time_gap"


def test_block_from_the_future_is_refused(live: Store) -> None:
    future = Block("p1", "de", 0, NOW + timedelta(minutes=5), FS, np.zeros(100))
    with pytest.raises(InputError, match="in the future"):
        live.append([future], now=NOW)
    assert stored_blocks(live) == 0


@pytest.mark.parametrize(
    ("asset_id", "channel_id", "message"),
    [("p1", "fan", r"has no channel 'fan' \(it has: de, nde\)"), ("p9", "de", "unknown asset")],
)
def test_unknown_channel_or_asset_is_refused(
    live: Store, asset_id: str, channel_id: str, message: str
) -> None:
    live.append([block(0)], now=NOW)
    bad = Block(asset_id, channel_id, 1, T0, FS, np.zeros(100))
    with pytest.raises(InputError, match=message):
        live.append([block(1), bad], now=NOW)
    assert stored_blocks(live) == 1


@pytest.mark.parametrize("values", [np.zeros((2, 3)), np.array([]), np.array(["a", "b"])])
def test_malformed_samples_are_refused(live: Store, values: np.ndarray) -> None:
    with pytest.raises(InputError, match="block 0"):
        live.append([Block("p1", "de", 0, T0, FS, values)], now=NOW)


def test_corrupted_segment_is_found_and_other_blocks_stay_readable(live: Store) -> None:
    live.append([block(i) for i in range(4)], now=NOW)
    (path,) = (live.home / "streams").rglob("*.seg")
    raw = bytearray(path.read_bytes())
    raw[int(4 * FS * 2) + 10] ^= 0xFF  # a flipped byte inside block 2
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match=r"block seq 2 of p1/de .* damaged"):
        live.read("p1", "de", T0, T0 + timedelta(seconds=4))
    np.testing.assert_array_equal(
        live.read("p1", "de", T0, T0 + timedelta(seconds=2)).values,
        np.concatenate([block(0).values, block(1).values]),
    )
    report = live.check()
    assert len(report.problems) == 1
    assert "block seq 2 of p1/de is damaged" in report.problems[0]
    # the damaged segment cannot be compacted; it is left as it was
    live.seal_segment(1)
    with pytest.raises(StoreError, match="compaction stopped, nothing changed"):
        live.compact(now=NOW)
    assert stored_blocks(live) == 4


def test_retention_keeps_snapshots_and_raw_around_events(live: Store) -> None:
    policy = RetentionPolicy(
        ring_minutes=1, snapshot_every_s=20, snapshot_s=0.5, event_before_s=2, event_after_s=1
    )
    live.set_retention(policy)
    live.append([block(i) for i in range(60)], now=NOW)
    live.append([block(i, channel="nde") for i in range(60)], now=NOW)
    event = Event(asset_id="p1", kind=EventKind.ANOMALY, start=T0 + timedelta(seconds=30.5))
    live.add_events([event])
    before = live.read("p1", "de", T0, T0 + timedelta(seconds=60)).values
    report = live.gc(now=NOW)
    assert report.segments_compacted == 1
    assert report.bytes_after < report.bytes_before / 5
    kept = live.read("p1", "nde", T0, T0 + timedelta(seconds=60))
    starts = [(t - int(T0.timestamp() * 1e9)) / 1e9 for t, _ in kept.pieces]
    lengths = [len(v) / FS for _, v in kept.pieces]
    # snapshots at 0, 20, 40 s (0.5 s each) and the event window 28.5 .. 31.5 s
    assert starts == pytest.approx([0.0, 20.0, 28.5, 40.0])
    assert lengths == pytest.approx([0.5, 0.5, 3.0, 0.5])
    window = live.read("p1", "de", T0 + timedelta(seconds=28.5), T0 + timedelta(seconds=31.5))
    np.testing.assert_array_equal(window.values, before[int(28.5 * FS) : int(31.5 * FS)])
    assert live.check().clean
    raw = live.event_raw(event.id)
    assert sorted(raw) == ["de", "nde"]
    np.testing.assert_array_equal(raw["de"].values, window.values)
    # a resend of a block dropped by retention is recognised, not stored again
    assert live.append([block(10)], now=NOW).duplicates == 1


def test_data_written_after_the_last_commit_is_cut_off_on_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as store:
        store.put_asset(plant_asset())
        store.append([block(0), block(1)], now=NOW)
    (path,) = (home / "streams").rglob("*.seg")
    committed = path.stat().st_size
    with path.open("ab") as fh:  # what a writer killed between write and commit leaves
        fh.write(b"\x00" * 1000)
    with Store.open(home) as store:
        assert path.stat().st_size == committed
        assert store.check().clean
        assert store.append([block(2)], now=NOW).stored == 1
        assert len(store.read("p1", "de", T0, T0 + timedelta(seconds=3)).values) == 3 * FS


def test_background_compaction_runs_beside_the_appender(live: Store) -> None:
    live.set_retention(RetentionPolicy(ring_minutes=1, snapshot_every_s=20, snapshot_s=0.5))
    yesterday = [
        Block("p1", "de", i, T0 - timedelta(days=1) + timedelta(seconds=i), FS, block(i).values)
        for i in range(30)
    ]
    live.append(yesterday, now=NOW)
    live.start_background_compaction(every_s=0.05)
    # the first block of a new day seals yesterday's segment; the compactor then takes it
    live.append([block(30)], now=NOW)
    deadline = time.monotonic() + 30
    while not live.info()["segments"].get("compacted") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.compaction_error is None
    assert live.info()["segments"] == {"compacted": 1, "open": 1}
    kept = live.read("p1", "de", T0 - timedelta(days=1), T0)
    assert [len(v) for _, v in kept.pieces] == [int(FS / 2)] * 2  # snapshots at 0 s and 20 s
    assert live.append([block(31)], now=NOW).stored == 1  # appending goes on
    live.close()
    with Store.open(live.home) as again:
        assert again.check().clean
