"""The runtime's writes through the store writer: acknowledged only once stored, window results,
dead letters and scalar readings in the store, an earlier JSON-lines ledger moved in."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor.acquisition.live.connector import MemoryTransport, Message
from shopfloor.acquisition.live.payload import decode_block, encode_block, encode_scalar
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator
from shopfloor.core.store import Store
from shopfloor.pipelines.live.spec import spec_from_dict
from tests.live.fleet import spec
from tests.live.helpers import run_live

TOPIC = "shopfloor/p1/l1/m1/de_accel"
TEMP = "shopfloor/p1/l1/m1/de_temp"
FS = 25600.0
BLOCK = 2560


class CheckingTransport(MemoryTransport):
    """Checks, at each acknowledgement, that a reader of the store already sees the message."""

    def __init__(self, home: Path) -> None:
        super().__init__()
        self.home = home
        self.violations: list[str] = []
        self.checked = 0

    async def publish(self, topic: str, payload: bytes) -> None:
        await super().publish(topic, payload)
        ident = self._next_id - 1
        msg: Message = self._unacked[ident]
        inner = msg.ack

        async def ack() -> None:
            if topic == TOPIC:
                seq = decode_block(payload).seq
                with Store.open(self.home, read_only=True) as store:
                    rows = {(s["asset_id"], s["channel_id"]): s for s in store.streams()}
                    last = rows.get(("m1", "de_accel"), {}).get("last_seq")
                if last is None or int(last) < seq:  # type: ignore[call-overload]
                    self.violations.append(f"seq {seq} acknowledged before it was stored")
                self.checked += 1
            await inner()

        msg.ack = ack


def _messages(seconds: float, **motor: Any) -> list[tuple[str, bytes]]:
    loaded = spec_from_dict(spec())
    params = {"onset_s": 1e9} | motor
    sim = FleetSimulator(loaded.fleet, [DegradingMotor("m1", **params)], seed=3)
    out: list[tuple[str, bytes]] = []

    async def collect(topic: str, payload: bytes) -> None:
        out.append((topic, payload))

    asyncio.run(sim.run(collect, seconds, realtime=False))
    return out


def test_messages_are_acknowledged_only_after_the_store_holds_them(tmp_path: Path) -> None:
    loaded = spec_from_dict(spec())
    messages = _messages(3.0)
    tr = CheckingTransport(tmp_path)

    async def feed(t: MemoryTransport) -> None:
        for m in messages:
            await t.publish(*m)

    rt, _ = asyncio.run(run_live(loaded, tmp_path, feed, transport=tr))
    assert tr.checked == 30
    assert tr.violations == []
    assert tr.acked == tr.published
    assert rt.counters.blocks_stored == 30


def test_results_dead_letters_and_scalars_are_in_the_store(tmp_path: Path) -> None:
    loaded = spec_from_dict(spec())
    messages = _messages(3.0)
    future_ns = time.time_ns() + 3600 * 10**9

    async def feed(t: MemoryTransport) -> None:
        for m in messages:
            await t.publish(*m)
        await t.publish(TOPIC, b"SFWB garbage")
        await t.publish(TEMP, encode_scalar(future_ns, 40.0))  # the store refuses it

    asyncio.run(run_live(loaded, tmp_path, feed))
    with Store.open(tmp_path, read_only=True) as store:
        latest = store.latest_window_results(pipeline="test")
        temps = store.read_scalars("m1", "de_temp")
        dead = store.dead_letters(pipeline="test", newest_first=False)
        trend = store.window_trend("m1", "de_accel", "time.rms")
    assert [(w.channel_id, w.window) for w in latest] == [("de_accel", 2)]
    assert temps.values.size == 3  # one reading a second
    assert temps.unit == "degC"
    assert trend.values.size == 3
    assert np.all(trend.values > 0)
    reasons = [d.reason for d in dead]
    assert len(reasons) == 2
    assert "shorter than the 32-byte header" in reasons[0]
    assert dead[0].payload == b"SFWB garbage"
    assert dead[0].source == "memory"
    assert reasons[1].startswith("refused by the store")
    assert "future" in reasons[1]


def test_an_earlier_json_lines_ledger_moves_into_the_store(tmp_path: Path) -> None:
    loaded = spec_from_dict(spec())
    messages = [m for m in _messages(4.0) if m[0] == TOPIC]
    first = decode_block(messages[0][1])

    async def feed_first(t: MemoryTransport) -> None:
        for m in messages[:20]:
            await t.publish(*m)

    asyncio.run(run_live(loaded, tmp_path, feed_first))
    # turn what the store holds for the pipeline into the previous version's files
    with Store.open(tmp_path) as store:
        rows = store.window_results(pipeline="test")
        store._con.execute("DELETE FROM window_results")
        store._con.execute("DELETE FROM window_origins")
    folder = tmp_path / "live" / "test"
    folder.mkdir(parents=True)
    lines = [
        {
            "type": "origin",
            "asset_id": "m1",
            "channel_id": "de_accel",
            "origin_seq": first.seq,
            "blocks_per_window": 10,
            "start_ns": first.start_ns,
            "block_samples": BLOCK,
        }
    ] + [
        {
            "type": "window",
            "asset_id": r.asset_id,
            "channel_id": r.channel_id,
            "window": r.window,
            "start_ns": r.start_ns,
            "end_ns": r.end_ns,
            "status": r.status,
            "results": r.results,
        }
        for r in rows
    ]
    (folder / "windows.jsonl").write_text("".join(json.dumps(d) + "\n" for d in lines))
    (folder / "dead_letters.jsonl").write_text(
        json.dumps({"topic": "x", "reason": "old garbage", "received_ns": 1}) + "\n"
    )

    async def feed_rest(t: MemoryTransport) -> None:
        for m in messages[15:]:  # 15..19 again (never acknowledged), then the rest
            await t.publish(*m)

    asyncio.run(run_live(loaded, tmp_path, feed_rest))
    with Store.open(tmp_path, read_only=True) as store:
        windows = [w.window for w in store.window_results(pipeline="test")]
        dead = store.dead_letters(pipeline="test")
    assert sorted(windows) == [0, 1, 2, 3]
    assert len(windows) == len(set(windows))
    assert [d.reason for d in dead] == ["old garbage"]
    assert (folder / "windows.jsonl.imported").exists()
    assert not (folder / "windows.jsonl").exists()


def test_a_block_with_a_wrong_rate_for_its_stored_stream_is_refused_before_windowing(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec())
    now = time.time_ns() - 60 * 10**9
    rng = np.random.default_rng(0)

    async def feed(t: MemoryTransport) -> None:
        for seq in range(10):
            t0 = now + seq * BLOCK * 10**9 // int(FS)
            await t.publish(TOPIC, encode_block(seq, t0, FS, rng.normal(0, 1, BLOCK)))

    asyncio.run(run_live(loaded, tmp_path, feed))
    with Store.open(tmp_path) as store:  # another writer left the stream at another rate
        store._con.execute("UPDATE streams SET sample_rate_hz = 12800")

    async def more(t: MemoryTransport) -> None:
        await t.publish(TOPIC, encode_block(10, now + 10**9, FS, rng.normal(0, 1, BLOCK)))

    rt, tr = asyncio.run(run_live(loaded, tmp_path, more))
    assert rt.counters.dead_letters == 1
    assert tr.acked == tr.published
    with Store.open(tmp_path, read_only=True) as store:
        dead = store.dead_letters(pipeline="test")
    assert "12800" in dead[0].reason
