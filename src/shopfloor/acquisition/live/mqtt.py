"""MQTT transport (paho-mqtt), publisher, and an embedded broker (amqtt) for the no-server default.

Subscriber guarantees:

* QoS 1 with a persistent session (``clean_session=False`` and a fixed client id), and
  *manual* acknowledgement: a message is acknowledged only when the consumer calls its ``ack``
  (after it is stored). A crash before that makes the broker deliver it again.
* Reconnect with exponential back-off (``min_backoff_s`` doubling to ``max_backoff_s``), done
  by paho's network thread; subscriptions are renewed on every (re)connect. Connection health
  (connected, reconnects, last error) is in :meth:`MqttTransport.health`.
* Back-pressure: at most ``max_pending`` messages are handed over and not yet acknowledged;
  beyond that the network thread waits, TCP fills, and the broker holds the messages.

paho-mqtt was chosen over aiomqtt because aiomqtt (2.5) cannot defer the acknowledgement, which
"acknowledged only after stored" needs. Both libraries are imported inside the classes: the
core install does not need them (extra ``shopfloor[mqtt]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from shopfloor.acquisition.live.connector import Message, optional_import
from shopfloor.core.errors import ShopfloorError

TOPIC_FILTER = "shopfloor/#"


class BrokerUnreachableError(ShopfloorError):
    """The MQTT broker could not be reached (host, port and the reason are in the message)."""


def _paho() -> Any:
    return optional_import("paho.mqtt.client", "mqtt", "MQTT")


class MqttTransport:
    """Subscribes to ``topics`` on a broker (see the module docstring for the guarantees).

    Parameters
    ----------
    host, port: the broker.
    client_id: fixed, so the broker keeps the session (and unacknowledged messages) across
        reconnects and restarts.
    topics: topic filters (default: every shopfloor topic).
    max_pending: messages handed over but not yet acknowledged, at most.
    connect_timeout_s: how long :meth:`open` waits for the first connection.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        client_id: str = "shopfloor-run",
        topics: tuple[str, ...] = (TOPIC_FILTER,),
        keepalive_s: int = 30,
        max_pending: int = 2000,
        min_backoff_s: float = 0.25,
        max_backoff_s: float = 8.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.topics = topics
        self.keepalive_s = keepalive_s
        self.max_pending = max_pending
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.connect_timeout_s = connect_timeout_s
        self._client: Any = None
        self._queue: asyncio.Queue[Message | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = threading.BoundedSemaphore(max_pending)
        self._connected = threading.Event()
        self._closing = False
        self.connects = 0
        self.disconnects = 0
        self.last_error: str | None = None
        self.received = 0

    async def open(self) -> None:
        mqtt = _paho()
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._closing = False
        self._slots = threading.BoundedSemaphore(self.max_pending)
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.manual_ack_set(True)
        client.reconnect_delay_set(
            min_delay=max(1, round(self.min_backoff_s)), max_delay=round(self.max_backoff_s)
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        try:
            client.connect_async(self.host, self.port, keepalive=self.keepalive_s)
        except OSError as exc:
            raise BrokerUnreachableError(f"MQTT broker {self.host}:{self.port}: {exc}") from exc
        client.loop_start()
        ok = await asyncio.to_thread(self._connected.wait, self.connect_timeout_s)
        if not ok:
            client.loop_stop()
            raise BrokerUnreachableError(
                f"MQTT broker {self.host}:{self.port} not reachable within "
                f"{self.connect_timeout_s:g} s ({self.last_error or 'no answer'})"
            )

    # paho callbacks run in its network thread
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = f"connect refused: {reason}"
            return
        self.connects += 1
        for topic in self.topics:
            client.subscribe(topic, qos=1)
        self._connected.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._connected.clear()
        if not self._closing:
            self.disconnects += 1
            self.last_error = f"disconnected: {reason}"

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        received = time.time_ns()
        # wait for a free slot: this is the back-pressure (TCP fills, the broker holds)
        while not self._slots.acquire(timeout=0.5):
            if self._closing:
                return
        self.received += 1
        mid, qos = msg.mid, msg.qos

        async def ack() -> None:
            with contextlib.suppress(Exception):  # a dead connection: the broker redelivers
                if qos > 0:
                    client.ack(mid, qos)
            with contextlib.suppress(ValueError):
                self._slots.release()

        item = Message(msg.topic, bytes(msg.payload), received, ack)
        loop, queue = self._loop, self._queue
        if loop is not None and queue is not None and not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, item)

    async def messages(self) -> AsyncIterator[Message]:
        if self._queue is None:
            raise RuntimeError("MqttTransport.messages before open")
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    async def close(self) -> None:
        self._closing = True
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            self._client = None
        if self._queue is not None:
            self._queue.put_nowait(None)

    def health(self) -> dict[str, Any]:
        return {
            "transport": "mqtt",
            "broker": f"{self.host}:{self.port}",
            "connected": self._connected.is_set(),
            "connects": self.connects,
            "disconnects": self.disconnects,
            "last_error": self.last_error,
            "received": self.received,
        }


class MqttPublisher:
    """Publishes with QoS 1; ``publish`` waits while ``max_inflight`` messages are unconfirmed."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        client_id: str = "shopfloor-simulator",
        max_inflight: int = 1000,
        qos: int = 1,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.max_inflight = max_inflight
        self.qos = qos
        self._client: Any = None
        self._inflight = 0
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.published = 0

    async def open(self, timeout_s: float = 10.0) -> None:
        mqtt = _paho()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id)
        client.max_inflight_messages_set(self.max_inflight)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=8)

        def on_connect(c: Any, u: Any, f: Any, reason: Any, p: Any) -> None:
            if not getattr(reason, "is_failure", False):
                self._connected.set()

        def on_disconnect(c: Any, u: Any, f: Any, reason: Any, p: Any) -> None:
            self._connected.clear()

        def on_publish(c: Any, u: Any, mid: int, reason: Any, p: Any) -> None:
            with self._lock:
                self._inflight -= 1

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_publish = on_publish
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        self._client = client
        if not await asyncio.to_thread(self._connected.wait, timeout_s):
            client.loop_stop()
            raise BrokerUnreachableError(f"MQTT broker {self.host}:{self.port} not reachable")

    async def publish(self, topic: str, payload: bytes) -> None:
        while self._inflight >= self.max_inflight or not self._connected.is_set():
            await asyncio.sleep(0.002)
        with self._lock:
            self._inflight += 1
        info = self._client.publish(topic, payload, qos=self.qos)
        if info.rc != 0:  # not queued (disconnected): wait for the reconnect and retry
            with self._lock:
                self._inflight -= 1
            await asyncio.sleep(0.05)
            await self.publish(topic, payload)
            return
        self.published += 1

    async def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every message is confirmed by the broker (True) or ``timeout_s``."""
        end = time.monotonic() + timeout_s
        while self._inflight > 0 and time.monotonic() < end:
            await asyncio.sleep(0.01)
        return self._inflight <= 0

    async def close(self) -> None:
        if self._client is not None:
            await self.flush(5.0)
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            self._client = None


class EmbeddedBroker:
    """An MQTT broker inside this process (amqtt), on loopback: the demo needs no server.

    Use as ``async with EmbeddedBroker(port) as broker:``; ``port=0`` is not supported by amqtt,
    so pick a free one with :func:`free_port`.
    """

    def __init__(self, port: int = 1883, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    async def __aenter__(self) -> EmbeddedBroker:
        amqtt_broker = optional_import("amqtt.broker", "mqtt", "the embedded broker")
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        self._broker = amqtt_broker.Broker(config)
        await self._broker.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._broker is not None:
            with contextlib.suppress(Exception):
                await self._broker.shutdown()
            self._broker = None


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
