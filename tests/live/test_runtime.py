"""The live runtime over the in-memory transport: answers, restart, bad input, alerts."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from shopfloor.acquisition.live.connector import MemoryTransport
from shopfloor.acquisition.live.payload import encode_block, encode_scalar
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator
from shopfloor.core.errors import InputError
from shopfloor.core.store import Block, Store
from shopfloor.pipelines.live.ledger import Ledger
from shopfloor.pipelines.live.offline import run_offline
from shopfloor.pipelines.live.spec import spec_from_dict
from tests.live.fleet import spec
from tests.live.helpers import run_live

TOPIC = "shopfloor/p1/l1/m1/de_accel"
FS = 25600.0
BLOCK = 2560  # 0.1 s


def _sim(loaded: Any, **motor: Any) -> FleetSimulator:
    params = {"onset_s": 2.0, "severe_s": 5.0} | motor
    return FleetSimulator(loaded.fleet, [DegradingMotor("m1", **params)], seed=1)


def _labels(rows: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [
        (r["window"], r["status"], (r["results"] or {}).get("diagnosis", {}).get("label", "-"))
        for r in sorted(rows, key=lambda r: r["window"])
    ]


def test_live_answers_equal_the_backfill_and_a_degrading_motor_raises_one_alert(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec())
    sim = _sim(loaded)

    async def feed(tr: MemoryTransport) -> None:
        await sim.run(tr.publish, 9.0, realtime=False)

    rt, tr = asyncio.run(run_live(loaded, tmp_path, feed))
    live = rt.ledger.windows()
    assert [w["window"] for w in live] == list(range(9))
    labels = [w["results"]["diagnosis"]["label"] for w in live]
    assert labels[0] == "normal"
    assert labels[-1] == "outer_race"
    assert tr.acked == tr.published  # everything acknowledged, after it was stored
    with Store.open(tmp_path, read_only=True) as store:
        offline = run_offline(loaded, store)
        events = store.events()
    assert [(r["window"], r["results"]) for r in offline] == [
        (w["window"], w["results"]) for w in live
    ]
    alerts = [e for e in events if e.kind.value == "alert"]
    assert len(alerts) >= 1
    assert all(e.dedup_key == "m1/de_accel/outer_race" for e in alerts)
    assert "replace" in alerts[-1].evidence["suggested_action"]


def test_restart_resumes_without_losing_or_double_counting_windows(tmp_path: Path) -> None:
    loaded = spec_from_dict(spec())
    sim = _sim(loaded)
    messages = []

    async def collect(topic: str, payload: bytes) -> None:
        messages.append((topic, payload))

    asyncio.run(sim.run(collect, 8.0, realtime=False))
    blocks = [m for m in messages if m[0] == TOPIC]
    assert len(blocks) == 80

    # first run: 3.5 windows' worth
    async def first(tr: MemoryTransport) -> None:
        for m in blocks[:35]:
            await tr.publish(*m)

    asyncio.run(run_live(loaded, tmp_path, first))
    # a crash after the store append but before the ledger: blocks 35..51 stored only
    from shopfloor.acquisition.live.payload import decode_block

    with Store.open(tmp_path) as store:
        store.append(
            [
                Block("m1", "de_accel", b.seq, b.start_ns, b.sample_rate_hz, b.values)
                for b in (decode_block(p) for _, p in blocks[35:52])
            ]
        )

    # restart: the broker re-delivers 45..51 (never acknowledged), then the rest follows
    async def second(tr: MemoryTransport) -> None:
        for m in blocks[45:]:
            await tr.publish(*m)

    asyncio.run(run_live(loaded, tmp_path, second))
    with Store.open(tmp_path, read_only=True) as store:
        rows = Ledger(store, "test").windows()
    keys = [r["window"] for r in rows]
    assert sorted(keys) == list(range(8)), keys  # none lost
    assert len(keys) == len(set(keys))  # none twice
    with Store.open(tmp_path, read_only=True) as store:
        offline = run_offline(loaded, store)
    assert _labels(offline) == _labels(rows)


def test_bad_input_is_dead_lettered_with_its_reason_and_the_service_goes_on(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec())
    sim = _sim(loaded, onset_s=1e9)
    good: list[tuple[str, bytes]] = []

    async def collect(topic: str, payload: bytes) -> None:
        good.append((topic, payload))

    asyncio.run(sim.run(collect, 3.0, realtime=False))

    async def feed(tr: MemoryTransport) -> None:
        for i, m in enumerate(good):
            await tr.publish(*m)
            if i == 5:
                await tr.publish(TOPIC, b"\x00garbage")  # garbage payload
                await tr.publish("shopfloor/p1/l1/m9/de_accel", m[1])  # unknown topic
                await tr.publish(TOPIC, encode_block(999, 0, 12000.0, np.ones(BLOCK)))
                await tr.publish("shopfloor/p1/l1/m1/de_temp", b'{"t": 0, "v": "hot"}')
                await tr.publish(TOPIC, b"")  # empty

    rt, tr = asyncio.run(run_live(loaded, tmp_path, feed))
    reasons = [d["reason"] for d in rt.ledger.dead_letter_rows()]
    assert len(reasons) == 5
    assert any("not a binary block" in r for r in reasons)
    assert any("unknown topic" in r for r in reasons)
    assert any("wrong sample rate" in r and "12000" in r for r in reasons)
    assert any("finite number" in r for r in reasons)
    assert rt.counters.dead_letters == 5
    assert [w["window"] for w in rt.ledger.windows()] == [0, 1, 2]  # the service went on
    assert tr.acked == tr.published


def test_a_clock_jump_is_a_data_quality_event_and_windows_still_follow_sequence(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec())
    start = 1_700_000_000 * 10**9
    rng = np.random.default_rng(0)

    async def feed(tr: MemoryTransport) -> None:
        for seq in range(20):
            jump = 3 * 10**9 if seq >= 12 else 0  # the sender's clock jumps 3 s forward
            t0 = start + seq * BLOCK * 10**9 // int(FS) + jump
            await tr.publish(TOPIC, encode_block(seq, t0, FS, rng.normal(0, 0.2, BLOCK)))

    rt, _ = asyncio.run(run_live(loaded, tmp_path, feed))
    assert rt.counters.clock_jumps == 1
    assert [w["window"] for w in rt.ledger.windows()] == [0, 1]
    with Store.open(tmp_path, read_only=True) as store:
        events = store.events()
        quality = store.quality_records()
    assert any(e.evidence.get("data_quality") == "clock_jump" for e in events)
    assert any(q["kind"] == "time_gap" for q in quality)  # the store saw it too


def test_a_block_from_the_future_is_refused_by_the_store_and_dead_lettered(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec())
    import time

    now = time.time_ns() - 10**9

    async def feed(tr: MemoryTransport) -> None:
        await tr.publish(TOPIC, encode_block(0, now, FS, np.zeros(BLOCK)))
        await tr.publish(TOPIC, encode_block(1, now + 3600 * 10**9, FS, np.zeros(BLOCK)))

    rt, _ = asyncio.run(run_live(loaded, tmp_path, feed))
    reasons = [d["reason"] for d in rt.ledger.dead_letter_rows()]
    assert len(reasons) == 1
    assert "refused by the store" in reasons[0]
    assert rt.counters.blocks_stored == 1


def test_a_channel_that_stops_raises_a_data_quality_event(tmp_path: Path) -> None:
    loaded = spec_from_dict(spec(stale_after_s=0.3))
    sim = _sim(loaded, onset_s=1e9)

    async def feed(tr: MemoryTransport) -> None:
        await sim.run(tr.publish, 1.0, realtime=False)

    rt, _ = asyncio.run(run_live(loaded, tmp_path, feed, settle_s=1.2))
    assert rt.counters.channels_stopped == 1
    with Store.open(tmp_path, read_only=True) as store:
        events = store.events()
    assert any(e.evidence.get("data_quality") == "channel_stopped" for e in events)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_alerts_reach_a_webhook_once_per_finding(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
        sinks = [{"use": "store"}, {"use": "webhook", "with": {"url": url, "timeout_s": 2}}]
        loaded = spec_from_dict(spec(sinks=sinks))
        sim = _sim(loaded, onset_s=0.0, severe_s=0.5)

        async def feed(tr: MemoryTransport) -> None:
            await sim.run(tr.publish, 8.0, realtime=False)

        asyncio.run(run_live(loaded, tmp_path, feed))
    finally:
        server.shutdown()
    findings = [(a["finding"], a["severity"]) for a in _Receiver.received]
    assert findings == [("outer_race", "critical")]
    alert = _Receiver.received[0]
    assert alert["evidence"]["diagnosis"]["label"] == "outer_race"
    assert "bearing" in alert["suggested_action"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"steps": [{"use": "diagnosis.physics"}]}, "needs bearing_features"),
        ({"steps": [{"use": "no.such"}]}, "unknown component 'no.such'"),
        ({"steps": [{"use": "advice.alerts", "with": {"bogus": 1}}]}, "bad parameters"),
        ({"window_s": -1}, "window_s"),
        ({"sinks": [{"use": "webhook"}]}, "webhook sink needs"),
    ],
)
def test_bad_specs_are_refused_on_load(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        spec_from_dict(spec(**change))


def test_scalars_update_the_status(tmp_path: Path) -> None:
    loaded = spec_from_dict(spec())

    async def feed(tr: MemoryTransport) -> None:
        await tr.publish("shopfloor/p1/l1/m1/de_temp", encode_scalar(0, 41.5))

    rt, _ = asyncio.run(run_live(loaded, tmp_path, feed))
    assert rt.snapshot()[0]["de_temp"] == 41.5
