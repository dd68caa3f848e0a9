"""The simulator's OPC UA server, and the OPC UA client and runtime reading it end to end."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from shopfloor.acquisition.live.connector import Connector
from shopfloor.acquisition.live.mqtt import free_port
from shopfloor.acquisition.live.payload import decode_block
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator
from shopfloor.core.store import Store
from shopfloor.pipelines.live.runtime import LiveRuntime
from shopfloor.pipelines.live.spec import spec_from_dict
from tests.live.fleet import FLEET, spec

asyncua = pytest.importorskip("asyncua", reason="needs the opcua extra (asyncua)")

from shopfloor.acquisition.live.opcua import OpcUaTransport, browse  # noqa: E402
from shopfloor.acquisition.live.opcua_server import OpcUaSimulatorServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ASSET = "ns=2;s=shopfloor/p1/l1/m1"
ACCEL = "shopfloor/p1/l1/m1/de_accel"


def _url(port: int) -> str:
    return f"opc.tcp://127.0.0.1:{port}/shopfloor/"


def test_the_server_is_browsable_by_asset_and_serves_blocks_rms_temperature_speed() -> None:
    loaded = spec_from_dict(spec())
    sim = FleetSimulator(loaded.fleet, [DegradingMotor("m1", onset_s=0.0, severe_s=0.1)], seed=3)

    async def main() -> tuple[list[dict[str, str]], dict[str, Any], bytes]:
        url = _url(free_port())
        async with OpcUaSimulatorServer(loaded.fleet, url, speeds_rpm={"m1": 1797.0}) as server:
            await sim.run(server.publish, 1.0, realtime=False)
            children = await browse(url, ASSET)
            values: dict[str, Any] = {}
            async with asyncua.Client(url, timeout=4) as client:
                for name in ("de_accel.seq", "de_accel.rms", "de_accel.samples", "de_temp"):
                    values[name] = await client.get_node(f"ns=2;s={ACCEL[:-8]}{name}").read_value()
                values["speed_rpm"] = await client.get_node(f"{ASSET}/speed_rpm").read_value()
                block = await client.get_node(f"ns=2;s={ACCEL}").read_value()
        return children, values, block

    children, values, block = asyncio.run(main())
    names = sorted(c["name"] for c in children)
    assert names == sorted(
        ["de_accel", "de_accel.samples", "de_accel.seq", "de_accel.rms", "de_temp", "speed_rpm"]
    )
    last = decode_block(block)
    assert last.seq == values["de_accel.seq"] == 9  # ten 0.1-s blocks
    rms = float(np.sqrt(np.mean(last.values**2)))
    assert math.isclose(values["de_accel.rms"], rms, rel_tol=1e-6)
    np.testing.assert_allclose(values["de_accel.samples"], last.values, rtol=1e-6)
    assert values["speed_rpm"] == 1797.0
    assert 35.0 <= values["de_temp"] < 60.0


def test_runtime_over_opcua_assesses_the_simulator_and_resubscribes_after_a_server_restart(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec(sinks=[{"use": "store"}]))
    sim = FleetSimulator(loaded.fleet, [], seed=4)

    async def main() -> tuple[LiveRuntime, dict[str, Any], int]:
        url = _url(free_port())
        servers = [OpcUaSimulatorServer(loaded.fleet, url)]
        await servers[0].start()

        async def publish(topic: str, payload: bytes) -> None:
            await servers[-1].publish(topic, payload)  # whichever server is up

        with Store.open(tmp_path) as store:
            rt = LiveRuntime(loaded, store)
            transport = OpcUaTransport(url, loaded.fleet, min_backoff_s=0.2, max_backoff_s=1.0)
            stop = asyncio.Event()
            task = asyncio.create_task(rt.run(Connector(transport, loaded.fleet), stop=stop))
            await asyncio.sleep(1.0)  # connected and subscribed
            halt = asyncio.Event()
            feeding = asyncio.create_task(sim.run(publish, 120.0, stop=halt))  # real time
            await asyncio.sleep(3.0)
            await servers[-1].stop()  # the server goes away: what it would serve is lost
            await asyncio.sleep(1.0)
            again = OpcUaSimulatorServer(loaded.fleet, url)  # a new server, same address
            await again.start()
            servers.append(again)
            restarted = sim._block_index // 10  # the window being published now
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # windows well after the restart
                after = [w for w in rt.ledger.windows() if w["window"] > restarted + 4]
                if len(after) >= 1:
                    break
                await asyncio.sleep(0.2)
            halt.set()
            await feeding
            await asyncio.sleep(1.0)
            health = transport.health()
            stop.set()
            await asyncio.wait_for(task, 30)
            rt.close()
            await servers[-1].stop()
        return rt, health, restarted

    rt, health, restarted = asyncio.run(main())
    windows = rt.ledger.windows()
    keys = [(w["asset_id"], w["channel_id"], w["window"]) for w in windows]
    assert len(keys) == len(set(keys))  # nothing assessed twice
    ok = [w["window"] for w in windows if w["status"] == "ok"]
    assert health["reconnects"] >= 1
    assert health["connected"]
    assert min(ok) <= 1  # windows before the restart ...
    assert {restarted + 3, restarted + 4} <= set(ok)  # ... and after it
    assert rt.counters.clock_jumps == 0
    assert rt.counters.dead_letters == 0, (tmp_path / "live/test/dead_letters.jsonl").read_text()
    assert rt.counters.scalars >= 2  # the first reading from each server (then on change)


def test_simulate_serves_opcua_and_shopfloor_run_ingests_it(tmp_path: Path) -> None:
    port = free_port()
    url = _url(port)
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(FLEET))
    doc = spec(fleet="fleet.yaml", source={"kind": "opcua", "url": url}, sinks=[{"use": "store"}])
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(doc))
    cli = [sys.executable, "-m", "shopfloor.cli"]
    sim = subprocess.Popen(
        [
            *cli,
            "simulate",
            "--fleet",
            str(tmp_path / "fleet.yaml"),
            "--no-mqtt",
            "--opcua",
            url,
            "--duration",
            "12",
            "--home",
            str(tmp_path / "sim-home"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stderr is not None
        seen = [sim.stderr.readline() for _ in range(1)]
        while "publishing" not in seen[-1] and seen[-1] and len(seen) < 20:
            seen.append(sim.stderr.readline())  # until "publishing 1 asset(s) to opc.tcp://"
        assert "publishing" in seen[-1], seen
        run = subprocess.run(
            [
                *cli,
                "run",
                str(tmp_path / "spec.yaml"),
                "--duration",
                "5",
                "--json",
                "--home",
                str(tmp_path / "home"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        sim.terminate()
        sim.wait(30)
    assert run.returncode in (0, 1), run.stderr
    counters = json.loads(run.stdout)["counters"]
    assert counters["windows"] >= 2, counters
    assert counters["dead_letters"] == 0
    assert counters["blocks_stored"] >= 20
