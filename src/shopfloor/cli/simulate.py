"""``shopfloor simulate``: publish a fleet of (degrading) motors over MQTT and/or OPC UA."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for


def register(root: typer.Typer) -> None:
    root.command("simulate")(simulate)


def simulate(
    fleet: Annotated[
        Path | None, typer.Option(help="Fleet file (YAML); default: --motors generated motors.")
    ] = None,
    motors: Annotated[int, typer.Option(help="Motors when no fleet file.", min=1)] = 3,
    fs: Annotated[float, typer.Option(help="Vibration sample rate, Hz.", min=1000.0)] = 25_600.0,
    host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT broker port.", min=1, max=65535)] = 1883,
    duration: Annotated[float, typer.Option(help="Seconds to publish.", min=0.1)] = 60.0,
    speedup: Annotated[
        float, typer.Option(help="Simulated degradation seconds per wall second.", min=0.001)
    ] = 1.0,
    degrade: Annotated[
        list[str] | None,
        typer.Option(help="Asset ids whose bearing degrades (default: the first)."),
    ] = None,
    onset: Annotated[float, typer.Option(help="Simulated s until the defect starts.")] = 10.0,
    severe: Annotated[float, typer.Option(help="Simulated s until it is severe.")] = 40.0,
    defect: Annotated[str, typer.Option(help="outer, inner, ball or cage.")] = "outer",
    unbalance: Annotated[float, typer.Option(help="Added 1× at severe, m/s².", min=0.0)] = 0.0,
    replay: Annotated[
        str | None,
        typer.Option(
            help="Play a real recording on the first asset's vibration channel: DATASET or "
            "DATASET/RECORDING, prepared in the store (sets the sample rate)."
        ),
    ] = None,
    home: HomeOption = None,
    embedded_broker: Annotated[
        bool, typer.Option("--embedded-broker", help="Start an in-process broker on --port.")
    ] = False,
    opcua: Annotated[
        str | None,
        typer.Option(
            help="Also serve the fleet as an OPC UA server at this endpoint, e.g. "
            "opc.tcp://127.0.0.1:4840 (one object per asset: blocks, RMS, temperature, speed)."
        ),
    ] = None,
    mqtt: Annotated[
        bool, typer.Option("--mqtt/--no-mqtt", help="Publish over MQTT (--no-mqtt: OPC UA only).")
    ] = True,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Publish vibration blocks and temperatures of a fleet in real time (MQTT QoS 1, OPC UA)."""
    import asyncio
    import contextlib

    from shopfloor.acquisition.live.fleet_config import load_fleet
    from shopfloor.acquisition.live.mqtt import EmbeddedBroker, MqttPublisher
    from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator, default_fleet
    from shopfloor.core.errors import InputError

    with command(json_out, debug) as out:
        played = None
        if replay is not None:
            from shopfloor.acquisition.live.simulator import replay_from_store
            from shopfloor.core.store import Store

            dataset, _, recording = replay.partition("/")
            with Store.open(settings_for(home).home, read_only=True) as store:
                played = replay_from_store(store, dataset, recording or None)
            if fleet is not None:
                raise InputError("--replay plays on the generated fleet; leave out --fleet")
            fs = played.fs_hz
        config = load_fleet(fleet) if fleet is not None else default_fleet(motors, fs)
        if not severe > onset:
            raise InputError(f"--severe {severe} must be later than --onset {onset}")
        ids = {a.id for a in config.assets}
        chosen = degrade or [config.assets[0].id]
        unknown = [a for a in chosen if a not in ids]
        if unknown:
            raise InputError(f"--degrade {unknown[0]}: not in the fleet ({', '.join(sorted(ids))})")
        models = [
            DegradingMotor(a, defect=defect, onset_s=onset, severe_s=severe, unbalance=unbalance)
            for a in chosen
        ]
        replays = {}
        if played is not None:
            first = config.assets[0]
            channel = next(c.id for c in first.channels if c.sample_rate_hz is not None)
            replays[(first.id, channel)] = played
            out.note(f"{first.id}/{channel} plays {replay} ({played.fs_hz:g} Hz, real data)")
        block_s = 0.1 if fs * 0.1 == int(fs * 0.1) else 0.125
        sim = FleetSimulator(config, models, replay=replays, speedup=speedup, block_s=block_s)

        if not mqtt and opcua is None:
            raise InputError("--no-mqtt leaves nothing to publish to: add --opcua URL")
        speeds = {a.id: sim.motor(a.id).shaft_hz * 60.0 for a in config.assets}

        async def main() -> int:
            sinks: list[Callable[[str, bytes], Awaitable[None]]] = []
            where = []
            async with contextlib.AsyncExitStack() as stack:
                if mqtt:
                    if embedded_broker:
                        await stack.enter_async_context(EmbeddedBroker(port, host))
                    pub = MqttPublisher(host, port)
                    await pub.open()
                    stack.push_async_callback(pub.close)
                    sinks.append(pub.publish)
                    where.append(f"mqtt://{host}:{port}")
                if opcua is not None:
                    import logging

                    from shopfloor.acquisition.live.opcua_server import OpcUaSimulatorServer

                    if not debug:  # asyncua warns about its unencrypted endpoint at each start
                        logging.getLogger("asyncua").setLevel(logging.ERROR)

                    server = OpcUaSimulatorServer(config, opcua, speeds_rpm=speeds)
                    await stack.enter_async_context(server)
                    sinks.append(server.publish)
                    where.append(opcua)

                async def publish(topic: str, payload: bytes) -> None:
                    for sink in sinks:
                        await sink(topic, payload)

                out.note(
                    f"publishing {len(ids)} asset(s) to {' and '.join(where)} for {duration:g} s"
                )
                return await sim.run(publish, duration)

        sent = asyncio.run(main())
        out.emit({"messages": sent, "assets": sorted(ids), "duration_s": duration})
        out.print(f"published {sent} messages")
