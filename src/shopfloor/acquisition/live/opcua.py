"""OPC UA transport (asyncua): subscriptions to node values, browse, re-subscribe after reconnect.

Each channel of the fleet file with a ``node`` (e.g. ``ns=2;s=motor-01.de_temp``) is watched by
a data-change subscription; a fleet file naming no node at all is read in the scheme the
simulator serves (:mod:`.opcua_server`: ``ns=2;s=<the channel's MQTT topic>``). A scalar value
becomes the JSON payload of a scalar reading; a ByteString holding a binary block passes
through unchanged (its sender's sequence number survives reconnects and restarts); an array
value on a waveform channel becomes a binary block (sequence counted here, the source timestamp
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
from shopfloor.acquisition.live.fleet_config import FleetConfig
from shopfloor.acquisition.live.opcua_server import default_node
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

    def status_change_notification(self, status: Any) -> None:
        # the server ended the subscription (shutdown, timeout): connect and subscribe anew
        self.transport.last_error = f"subscription status: {status}"
        self.transport._lost.set()


class OpcUaTransport:
    """Subscribes to the fleet's OPC UA nodes.

    Parameters
    ----------
    url: ``opc.tcp://host:port/path``.
    fleet: channels with a ``node`` are watched.
    publishing_interval_ms: how often the server sends changes.
    queue_size: values the server keeps per node between two publications (a block every
        0.1 s and a publication every 0.1 s need more than OPC UA's default of 1, which keeps
        only the latest).
    """

    def __init__(
        self,
        url: str,
        fleet: FleetConfig,
        *,
        publishing_interval_ms: float = 100.0,
        queue_size: int = 256,
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        timeout_s: float = 4.0,
    ) -> None:
        self.url = url
        self.publishing_interval_ms = publishing_interval_ms
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self.queue_size = queue_size
        routes = list(fleet.routes().values())
        if any(r.node is not None for r in routes):
            self._routes = {r.node: r for r in routes if r.node is not None}
        else:  # no node named anywhere: the shopfloor scheme (the simulator's server)
            self._routes = {default_node(r.topic): r for r in routes}
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
        self.not_good = 0

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
        await sub.subscribe_data_change(nodes, queuesize=self.queue_size)
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
        status = getattr(item, "StatusCode", None)
        if status is not None and not status.is_good():
            self.not_good += 1  # no usable value (waiting for data, sensor fault): no reading
            return
        stamp = getattr(item, "SourceTimestamp", None)
        t_ns = round(stamp.timestamp() * 1e9) if stamp is not None else time.time_ns()
        if isinstance(value, bytes | bytearray):
            if value:  # a ByteString block carries its own sequence number and start time
                self._queue.put_nowait(Message(route.topic, bytes(value)))
            return  # empty: the server has no block yet
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
            "values_not_good": self.not_good,
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
