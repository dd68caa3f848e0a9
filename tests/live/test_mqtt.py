"""Over real MQTT on loopback: the embedded broker (amqtt) and Debian's Mosquitto."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from shopfloor.acquisition.live.connector import Connector
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator
from shopfloor.core.store import Store
from shopfloor.pipelines.live.runtime import LiveRuntime
from shopfloor.pipelines.live.spec import spec_from_dict
from tests.live.brokers import Mosquitto, mosquitto_or_skip
from tests.live.fleet import spec

pytest.importorskip("paho.mqtt.client", reason="needs the mqtt extra (paho-mqtt)")

from shopfloor.acquisition.live.mqtt import (
    BrokerUnreachableError,
    EmbeddedBroker,
    MqttPublisher,
    MqttTransport,
    free_port,
)


async def _run(
    home: Path, port: int, seconds: float, *, during: object = None, timeout_s: float = 60.0
) -> LiveRuntime:
    loaded = spec_from_dict(spec())
    sim = FleetSimulator(loaded.fleet, [DegradingMotor("m1", onset_s=1e9)], seed=2)
    pub = MqttPublisher(port=port, client_id="test-pub")
    await pub.open()
    with Store.open(home) as store:
        rt = LiveRuntime(loaded, store)
        stop = asyncio.Event()
        transport = MqttTransport(port=port, client_id="test-run", min_backoff_s=0.25)
        task = asyncio.create_task(rt.run(Connector(transport, loaded.fleet), stop=stop))
        while not transport.health()["connected"]:
            await asyncio.sleep(0.02)
        half = seconds / 2
        await sim.run(pub.publish, half, realtime=False)
        if callable(during):
            await during()
        await sim.run(pub.publish, half, realtime=False)
        await pub.flush(timeout_s)
        expected = round(seconds) * 11  # 10 blocks + 1 temperature reading per second
        end = time.monotonic() + timeout_s
        while rt.counters.records < expected and time.monotonic() < end:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout_s)
        rt.health = transport.health()
        rt.close()
    await pub.close()
    return rt


def test_embedded_broker_carries_the_pipeline(tmp_path: Path) -> None:
    async def main() -> LiveRuntime:
        port = free_port()
        async with EmbeddedBroker(port):
            return await _run(tmp_path, port, 4.0)

    rt = asyncio.run(main())
    assert [w["window"] for w in rt.ledger.windows()] == [0, 1, 2, 3]
    assert rt.counters.dead_letters == 0


def test_unreachable_broker_is_a_clear_error() -> None:
    async def main() -> None:
        await MqttTransport(port=free_port(), connect_timeout_s=1.0).open()

    with pytest.raises(BrokerUnreachableError, match="not reachable"):
        asyncio.run(main())


@pytest.mark.slow
def test_mosquitto_restart_mid_stream_loses_no_window(tmp_path: Path) -> None:
    broker = Mosquitto(mosquitto_or_skip(), tmp_path / "broker")
    broker.start()
    try:

        async def restart() -> None:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(broker.stop)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(broker.start)

        rt = asyncio.run(_run(tmp_path / "home", broker.port, 6.0, during=restart))
    finally:
        broker.stop()
    keys = [w["window"] for w in rt.ledger.windows()]
    assert sorted(keys) == list(range(6)), keys
    assert len(keys) == len(set(keys))
    assert rt.health["disconnects"] >= 1
    assert rt.health["connects"] >= 2
