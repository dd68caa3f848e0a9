"""The fleet simulator as an OPC UA server (asyncua): each asset a browsable object.

Address space (namespace ``urn:shopfloor:simulator``, index 2 on a fresh asyncua server; string
node ids are the channel's MQTT topic, so one scheme serves both transports)::

    Objects
      motor-01                      ns=2;s=shopfloor/<plant>/<line>/motor-01
        de_accel      ByteString    ns=2;s=shopfloor/<plant>/<line>/motor-01/de_accel
                                    the latest waveform block in the binary block format of
                                    :mod:`.payload` (sequence number, start time, sample rate
                                    inside: a subscriber loses nothing it can not notice)
        de_accel.samples  Float[]   the same block's samples (for generic OPC UA clients), m/s²
        de_accel.seq      UInt64    its sequence number
        de_accel.rms      Double    its RMS, in the channel's unit
        de_temp       Double        a scalar channel (temperature, °C), source-timestamped
        speed_rpm     Double        shaft speed, rpm

:class:`OpcUaSimulatorServer.publish` has the signature of the simulator's publish callback,
so :meth:`FleetSimulator.run <shopfloor.acquisition.live.simulator.FleetSimulator.run>` feeds
it exactly as it feeds an MQTT publisher. :class:`~.opcua.OpcUaTransport` subscribes to these
nodes by default (a fleet file without any ``node``), passes the block payloads through
unchanged and so keeps the simulator's sequence numbers across reconnects and restarts.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shopfloor.acquisition.live.connector import optional_import
from shopfloor.acquisition.live.fleet_config import FleetConfig
from shopfloor.acquisition.live.payload import decode_block, decode_scalar, is_block, make_topic
from shopfloor.core.errors import InputError, ShopfloorError

NAMESPACE = "urn:shopfloor:simulator"
NAMESPACE_INDEX = 2
"""asyncua gives the first namespace a server registers index 2 (0: OPC UA, 1: the server)."""


def default_node(topic: str) -> str:
    """The node id the simulator serves a channel's topic under."""
    return f"ns={NAMESPACE_INDEX};s={topic}"


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


class OpcUaSimulatorServer:
    """An asyncua server exposing every asset and channel of a fleet.

    Parameters
    ----------
    fleet: the assets and channels to expose.
    url: the endpoint, ``opc.tcp://host:port/path``.
    speeds_rpm: shaft speed per asset id, rpm (default: the nameplate's rated speed).
    """

    def __init__(
        self, fleet: FleetConfig, url: str, *, speeds_rpm: dict[str, float] | None = None
    ) -> None:
        if not url.startswith("opc.tcp://"):
            raise InputError(f"OPC UA endpoint {url!r} must start with opc.tcp://")
        self.fleet = fleet
        self.url = url
        self.speeds_rpm = speeds_rpm or {}
        self._server: Any = None
        self._ua: Any = None
        self._nodes: dict[str, Any] = {}
        """topic (or topic + .samples/.seq/.rms) -> node id"""
        self.written = 0

    async def start(self) -> None:
        asyncua = optional_import("asyncua", "opcua", "the OPC UA simulator server")
        ua = asyncua.ua
        server = asyncua.Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("shopfloor fleet simulator")
        idx = await server.register_namespace(NAMESPACE)
        if idx != NAMESPACE_INDEX:  # pragma: no cover - asyncua's numbering changed
            raise ShopfloorError(f"OPC UA namespace got index {idx}, expected {NAMESPACE_INDEX}")
        for asset in self.fleet.assets:
            asset_topic = "/".join(
                make_topic(self.fleet.plant, self.fleet.line, asset.id, "x").split("/")[:-1]
            )
            obj = await server.nodes.objects.add_object(ua.NodeId(asset_topic, idx), asset.id)
            channel_ids = {c.id for c in asset.channels}
            for ch in asset.channels:
                topic = ch.topic or make_topic(self.fleet.plant, self.fleet.line, asset.id, ch.id)
                if ch.sample_rate_hz is None:
                    var = ua.Variant(math.nan, ua.VariantType.Double)
                    await obj.add_variable(ua.NodeId(topic, idx), ch.id, var)
                    self._nodes[topic] = ua.NodeId(topic, idx)
                    # no reading yet: a subscriber must not take the placeholder for one
                    waiting = ua.StatusCode(ua.StatusCodes.BadWaitingForInitialData)
                    await server.write_attribute_value(
                        ua.NodeId(topic, idx), ua.DataValue(var, StatusCode=waiting)
                    )
                    continue
                block = ua.Variant(b"", ua.VariantType.ByteString)
                await obj.add_variable(ua.NodeId(topic, idx), ch.id, block)
                self._nodes[topic] = ua.NodeId(topic, idx)
                extras = {
                    "samples": ua.Variant([], ua.VariantType.Float),
                    "seq": ua.Variant(0, ua.VariantType.UInt64),
                    "rms": ua.Variant(math.nan, ua.VariantType.Double),
                }
                for name, initial in extras.items():
                    node_id = ua.NodeId(f"{topic}.{name}", idx)
                    await obj.add_variable(node_id, f"{ch.id}.{name}", initial)
                    self._nodes[f"{topic}.{name}"] = node_id
            if "speed_rpm" not in channel_ids:
                rpm = self.speeds_rpm.get(asset.id, asset.nameplate.rated_speed_rpm or math.nan)
                value = ua.Variant(float(rpm), ua.VariantType.Double)
                await obj.add_variable(
                    ua.NodeId(f"{asset_topic}/speed_rpm", idx), "speed_rpm", value
                )
        try:
            await server.start()
        except OSError as exc:
            raise ShopfloorError(f"OPC UA server cannot listen on {self.url}: {exc}") from exc
        self._server, self._ua = server, ua

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def __aenter__(self) -> OpcUaSimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def publish(self, topic: str, payload: bytes) -> None:
        """Write one simulator message to its nodes (the simulator's publish callback)."""
        node = self._nodes.get(topic)
        if node is None or self._server is None:
            return  # a topic the fleet does not have, or the server is down: not served
        ua = self._ua
        if is_block(payload):
            block = decode_block(payload)
            stamp = _utc(block.start_ns)
            values = block.values
            rms = float(np.sqrt(np.mean(values * values))) if values.size else math.nan
            writes = [
                (node, ua.Variant(payload, ua.VariantType.ByteString)),
                (
                    self._nodes[f"{topic}.samples"],
                    ua.Variant(values.astype(np.float32).tolist(), ua.VariantType.Float),
                ),
                (self._nodes[f"{topic}.seq"], ua.Variant(block.seq, ua.VariantType.UInt64)),
                (self._nodes[f"{topic}.rms"], ua.Variant(rms, ua.VariantType.Double)),
            ]
        else:
            reading = decode_scalar(payload)
            stamp = _utc(reading.time_ns)
            writes = [(node, ua.Variant(float(reading.value), ua.VariantType.Double))]
        for node_id, variant in writes:
            await self._server.write_attribute_value(
                node_id, ua.DataValue(variant, SourceTimestamp=stamp)
            )
        self.written += 1
