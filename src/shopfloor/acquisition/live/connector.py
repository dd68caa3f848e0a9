"""One narrow interface for every live source, over a swappable transport.

A *transport* moves raw messages (topic, payload bytes) and knows how to acknowledge one; an
MQTT client, an OPC UA subscription and an in-memory queue are transports. A
:class:`Connector` sits on a transport and turns each message into a :class:`Record` of the
canonical data model (asset, channel, sequence, start time, sample rate, samples), or into a
:class:`DeadLetter` naming why it could not be (unknown topic, garbage payload, wrong sample
rate). It never raises on bad input: a live service must outlive any one message.

Acknowledgement is the consumer's job: a record is acknowledged (``await record.ack()``) only
after it is stored, so a crash between receipt and storage makes the broker deliver it again
(MQTT QoS 1). Dead letters are acknowledged after they are recorded.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from shopfloor.acquisition.live.fleet_config import FleetConfig, Route
from shopfloor.acquisition.live.payload import decode_block, decode_scalar, is_block
from shopfloor.core.errors import InputError, ShopfloorError

Ack = Callable[[], Awaitable[None]]


def optional_import(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the install
        package = module.split(".")[0]
        raise ShopfloorError(f"{what} needs {package}: pip install 'shopfloor[{extra}]'") from exc


async def _no_ack() -> None:
    return None


@dataclass
class Message:
    """A raw message as a transport delivers it."""

    topic: str
    payload: bytes
    received_ns: int = field(default_factory=time.time_ns)
    ack: Ack = _no_ack


class Transport(Protocol):
    """What a connector needs from a transport."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def messages(self) -> AsyncIterator[Message | Record | DeadLetter]:
        """Raw messages; a transport that reads files decodes them itself (records as they
        are, dead letters with the reason)."""
        ...

    def health(self) -> dict[str, Any]: ...


@dataclass
class Record:
    """One message in the canonical data model.

    kind: ``block`` (waveform samples) or ``scalar`` (one reading).
    seq: the sender's sequence number (per channel); scalars without one get -1.
    start_ns: first sample time, ns since the Unix epoch (UTC).
    sample_rate_hz: Hz for blocks, None for scalars.
    values: samples (physical units of the channel).
    received_ns: when the transport delivered it (for latency).
    """

    topic: str
    asset_id: str
    channel_id: str
    kind: Literal["block", "scalar"]
    seq: int
    start_ns: int
    sample_rate_hz: float | None
    values: npt.NDArray[np.float64]
    received_ns: int
    ack: Ack = _no_ack
    contiguous: bool = True
    """False when the sender says this block does not continue its channel's previous block in
    time (the first block of a separate capture file): a time gap before it is expected, not a
    clock jump."""

    @property
    def end_ns(self) -> int:
        if self.sample_rate_hz is None:
            return self.start_ns
        return self.start_ns + round(len(self.values) * 1e9 / self.sample_rate_hz)


@dataclass
class DeadLetter:
    """A message that could not become a record, with the reason and its first bytes."""

    topic: str
    reason: str
    payload_head: bytes
    payload_bytes: int
    received_ns: int
    ack: Ack = _no_ack


def to_record(msg: Message, routes: dict[str, Route]) -> Record | DeadLetter:
    """Decode one message against the fleet's routes."""

    def dead(reason: str) -> DeadLetter:
        head = msg.payload[:64]
        return DeadLetter(msg.topic, reason, head, len(msg.payload), msg.received_ns, msg.ack)

    route = routes.get(msg.topic)
    if route is None:
        return dead(f"unknown topic {msg.topic!r}: no channel of the fleet file is published there")
    try:
        if route.sample_rate_hz is not None:
            if not is_block(msg.payload):
                return dead(
                    f"{route.asset_id}/{route.channel_id} is a waveform channel but the payload "
                    "is not a binary block (no SFWB header)"
                )
            block = decode_block(msg.payload)
            if abs(block.sample_rate_hz - route.sample_rate_hz) > 1e-6 * route.sample_rate_hz:
                return dead(
                    f"wrong sample rate for {route.asset_id}/{route.channel_id}: block says "
                    f"{block.sample_rate_hz:g} Hz, the fleet file {route.sample_rate_hz:g} Hz"
                )
            return Record(
                msg.topic,
                route.asset_id,
                route.channel_id,
                "block",
                block.seq,
                block.start_ns,
                route.sample_rate_hz,
                block.values,
                msg.received_ns,
                msg.ack,
            )
        reading = decode_scalar(msg.payload)
    except InputError as exc:
        return dead(f"{route.asset_id}/{route.channel_id}: {exc}")
    return Record(
        msg.topic,
        route.asset_id,
        route.channel_id,
        "scalar",
        -1 if reading.seq is None else reading.seq,
        reading.time_ns,
        None,
        np.array([reading.value]),
        msg.received_ns,
        msg.ack,
    )


class Connector:
    """A live source: open/close, then iterate records (async or sync).

    Parameters
    ----------
    transport: moves the raw messages (MQTT, OPC UA, in-memory).
    fleet: maps topics to assets and channels.
    """

    def __init__(self, transport: Transport, fleet: FleetConfig) -> None:
        self.transport = transport
        self.fleet = fleet
        self._routes = fleet.routes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.counts = {"records": 0, "dead_letters": 0}

    async def open(self) -> None:
        await self.transport.open()

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> Connector:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def records(self) -> AsyncIterator[Record | DeadLetter]:
        """Every message, decoded; ends when the transport is closed."""
        async for msg in self.transport.messages():
            item = msg if isinstance(msg, Record | DeadLetter) else to_record(msg, self._routes)
            self.counts["records" if isinstance(item, Record) else "dead_letters"] += 1
            yield item

    def __aiter__(self) -> AsyncIterator[Record | DeadLetter]:
        return self.records()

    def health(self) -> dict[str, Any]:
        return {**self.transport.health(), **self.counts}

    # ------------------------------------------------------------------ synchronous use
    def iter_sync(self, limit: int | None = None) -> Iterator[Record | DeadLetter]:
        """Open, yield up to ``limit`` records on a private event loop, close (scripts, REPL)."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.open())
            it = self.records()
            n = 0
            while limit is None or n < limit:
                try:
                    yield loop.run_until_complete(anext(it))
                except StopAsyncIteration:
                    return
                n += 1
        finally:
            loop.run_until_complete(self.close())
            loop.close()


class MemoryTransport:
    """An in-process transport with MQTT QoS 1 semantics, for tests and the embedded demo.

    ``publish`` queues a message; a message not acknowledged when the transport is closed is
    delivered again after the next :meth:`open` (as a broker does for a persistent session).
    ``maxsize`` bounds the queue: a publisher waits when it is full (back-pressure).
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._queue: asyncio.Queue[Message | None] | None = None
        self._unacked: dict[int, Message] = {}
        self._next_id = 0
        self.acked = 0
        self.published = 0
        self.is_open = False

    async def open(self) -> None:
        self._queue = asyncio.Queue(self.maxsize)
        self.is_open = True
        redeliver = sorted(self._unacked.items())
        self._unacked.clear()
        for _, msg in redeliver:
            await self.publish(msg.topic, msg.payload)

    async def close(self) -> None:
        self.is_open = False
        if self._queue is not None:
            # what was never handed out stays unacked and comes again after open()
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)

    async def publish(self, topic: str, payload: bytes) -> None:
        if self._queue is None:
            raise RuntimeError("MemoryTransport.publish before open")
        ident = self._next_id
        self._next_id += 1
        msg = Message(topic, payload)

        async def ack() -> None:
            if self._unacked.pop(ident, None) is not None:
                self.acked += 1

        msg.ack = ack
        self._unacked[ident] = msg
        self.published += 1
        await self._queue.put(msg)

    async def messages(self) -> AsyncIterator[Message]:
        if self._queue is None:
            raise RuntimeError("MemoryTransport.messages before open")
        queue = self._queue
        while True:
            msg = await queue.get()
            if msg is None or not self.is_open:
                return
            yield msg

    def health(self) -> dict[str, Any]:
        return {
            "transport": "memory",
            "connected": self.is_open,
            "unacked": len(self._unacked),
            "queued": self._queue.qsize() if self._queue is not None else 0,
        }
