"""OPC UA transport (asyncua): subscriptions to node values, browse, re-subscribe after reconnect.

Each channel of the fleet file with a ``node`` (e.g. ``ns=2;s=motor-01.de_temp``) is watched by
a data-change subscription. A scalar value becomes the JSON payload of a scalar reading, an
array value on a waveform channel a binary block (sequence counted here, the source timestamp
as its start), so everything downstream is the same as for MQTT.

OPC UA has no acknowledgement (a subscription delivers the latest values); what changes while
the connection is down is lost at the source, which :meth:`OpcUaTransport.health` makes visible
(``reconnects``, ``last_error``). After a lost connection the client reconnects with exponential
back-off and creates its subscriptions again. asyncua is imported inside the class (extra
``shopfloor[opcua]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from shopfloor.acquisition.live.connector import Message, optional_import
from shopfloor.acquisition.live.fleet_config import FleetConfig, Route
from shopfloor.acquisition.live.payload import encode_block, encode_scalar
from shopfloor.core.errors import ShopfloorError


class OpcUaUnreachableError(ShopfloorError):
    """The OPC UA server could not be reached (URL and reason in the message)."""


def _asyncua() -> Any:
    return optional_import("asyncua", "opcua", "OPC UA")


class _Handler:
    def __init__(self, transport: OpcUaTransport) -> None:
        self.transport = transport

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.transport._on_value(str(node.nodeid.to_string()), val, data)


class OpcUaTransport:
    """Subscribes to the fleet's OPC UA nodes.

    Parameters
    ----------
    url: ``opc.tcp://host:port/path``.
    fleet: channels with a ``node`` are watched.
    publishing_interval_ms: how often the server sends changes.
    """

    def __init__(
        self,
        url: str,
        fleet: FleetConfig,
        *,
        publishing_interval_ms: float = 100.0,
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        timeout_s: float = 4.0,
    ) -> None:
        self.url = url
        self.publishing_interval_ms = publishing_interval_ms
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self._routes: dict[str, Route] = {
            r.node: r for r in fleet.routes().values() if r.node is not None
        }
        if not self._routes:
            raise ShopfloorError("no channel of the fleet file has an OPC UA 'node'")
        self._seq: dict[str, int] = {}
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._client: Any = None
        self._supervisor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._closing = False
        self.connected = False
        self.connects = 0
        self.reconnects = 0
        self.last_error: str | None = None

    async def _connect(self) -> None:
        asyncua = _asyncua()
        client = asyncua.Client(self.url, timeout=self.timeout_s)

        async def lost(exc: Exception) -> None:
            self.last_error = f"connection lost: {exc}"
            self._lost.set()

        client.connection_lost_callback = lost
        await client.connect()
        sub = await client.create_subscription(self.publishing_interval_ms, _Handler(self))
        nodes = [client.get_node(n) for n in self._routes]
        await sub.subscribe_data_change(nodes)
        self._client = client
        self._lost.clear()
        self.connected = True
        self.connects += 1

    async def open(self) -> None:
        self._closing = False
        try:
            await self._connect()
        except (TimeoutError, OSError) as exc:
            raise OpcUaUnreachableError(f"OPC UA server {self.url} not reachable: {exc}") from exc
        self._supervisor = asyncio.create_task(self._supervise())

    async def _supervise(self) -> None:
        """Reconnect with back-off after a lost connection; subscriptions are created anew."""
        while not self._closing:
            await self._lost.wait()
            if self._closing:
                return
            self.connected = False
            with contextlib.suppress(Exception):
                await self._client.disconnect()
            delay = self.min_backoff_s
            while not self._closing:
                try:
                    await self._connect()
                    self.reconnects += 1
                    break
                except Exception as exc:  # any failure: wait and try again
                    self.last_error = f"reconnect failed: {exc}"
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_backoff_s)

    async def check(self) -> None:
        """Probe the server once (a dead peer is not always noticed by the socket)."""
        try:
            await asyncio.wait_for(self._client.get_namespace_array(), self.timeout_s)
        except Exception as exc:
            self.last_error = f"probe failed: {exc}"
            self._lost.set()

    def _on_value(self, node: str, value: Any, data: Any) -> None:
        route = self._routes.get(node)
        if route is None:
            return
        item = getattr(getattr(data, "monitored_item", None), "Value", None)
        stamp = getattr(item, "SourceTimestamp", None)
        t_ns = round(stamp.timestamp() * 1e9) if stamp is not None else time.time_ns()
        if route.sample_rate_hz is not None and isinstance(value, list | tuple | np.ndarray):
            seq = self._seq.get(node, 0)
            self._seq[node] = seq + 1
            payload = encode_block(seq, t_ns, route.sample_rate_hz, np.asarray(value, dtype=float))
        else:
            payload = encode_scalar(t_ns, float(value))
        self._queue.put_nowait(Message(route.topic, payload))

    async def messages(self) -> AsyncIterator[Message]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    async def close(self) -> None:
        self._closing = True
        self._lost.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.disconnect()
        self.connected = False
        self._queue.put_nowait(None)

    def health(self) -> dict[str, Any]:
        return {
            "transport": "opcua",
            "server": self.url,
            "connected": self.connected,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }


async def browse(url: str, node_id: str, timeout_s: float = 4.0) -> list[dict[str, str]]:
    """The children of one node (an asset's folder): node id, browse name, node class."""
    asyncua = _asyncua()
    try:
        async with asyncua.Client(url, timeout=timeout_s) as client:
            node = client.get_node(node_id)
            out = []
            for child in await node.get_children():
                name = await child.read_browse_name()
                cls = await child.read_node_class()
                out.append(
                    {
                        "node": child.nodeid.to_string(),
                        "name": name.Name,
                        "class": cls.name,
                    }
                )
            return out
    except (TimeoutError, OSError) as exc:
        raise OpcUaUnreachableError(f"OPC UA server {url} not reachable: {exc}") from exc
