"""OPC UA against an asyncua server in this process, on loopback."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from shopfloor.acquisition.live.connector import Connector, Record
from shopfloor.acquisition.live.fleet_config import fleet_from_dict
from shopfloor.acquisition.live.mqtt import free_port
from tests.live.fleet import FLEET

asyncua = pytest.importorskip("asyncua", reason="needs the opcua extra (asyncua)")

from shopfloor.acquisition.live.opcua import OpcUaTransport, browse  # noqa: E402


async def _server(port: int) -> tuple[Any, Any, str]:
    server = asyncua.Server()
    await server.init()
    url = f"opc.tcp://127.0.0.1:{port}/shopfloor/"
    server.set_endpoint(url)
    idx = await server.register_namespace("urn:shopfloor:test")
    motor = await server.nodes.objects.add_object(asyncua.ua.NodeId("motor-01", idx), "motor-01")
    temp = await motor.add_variable(asyncua.ua.NodeId("motor-01.de_temp", idx), "de_temp", 35.0)
    await server.start()
    return server, temp, url


def _fleet(idx: int = 2) -> Any:
    doc = copy.deepcopy(FLEET)
    doc["assets"][0]["channels"][1]["node"] = f"ns={idx};s=motor-01.de_temp"
    return fleet_from_dict(doc)


def test_subscription_delivers_values_and_survives_a_server_restart() -> None:
    async def main() -> tuple[list[float], dict[str, Any], list[dict[str, str]]]:
        port = free_port()
        server, temp, url = await _server(port)
        transport = OpcUaTransport(url, _fleet(), publishing_interval_ms=50, min_backoff_s=0.2)
        conn = Connector(transport, _fleet())
        await conn.open()
        values: list[float] = []
        records = conn.records()

        async def take(n: int) -> None:
            while len(values) < n:
                item = await asyncio.wait_for(anext(records), 20)
                assert isinstance(item, Record), item
                assert (item.asset_id, item.channel_id) == ("m1", "de_temp")
                values.append(float(item.values[0]))

        await take(1)  # the initial value
        await temp.write_value(41.5)
        await take(2)
        children = await browse(url, "ns=2;s=motor-01")
        await server.stop()
        await asyncio.sleep(0.5)
        await transport.check()
        server, temp, url = await _server(port)  # same address, new server
        await temp.write_value(44.0)
        deadline = asyncio.get_running_loop().time() + 30
        while 44.0 not in values and asyncio.get_running_loop().time() < deadline:
            await take(len(values) + 1)
            await temp.write_value(44.0)
        health = conn.health()
        await conn.close()
        await server.stop()
        return values, health, children

    values, health, children = asyncio.run(main())
    assert values[:2] == [35.0, 41.5]
    assert 44.0 in values
    assert health["reconnects"] >= 1
    assert [c["name"] for c in children] == ["de_temp"]


def test_a_fleet_without_nodes_is_read_in_the_simulator_scheme() -> None:
    transport = OpcUaTransport("opc.tcp://127.0.0.1:1/", fleet_from_dict(FLEET))
    assert sorted(transport._routes) == [
        "ns=2;s=shopfloor/p1/l1/m1/de_accel",
        "ns=2;s=shopfloor/p1/l1/m1/de_temp",
    ]
