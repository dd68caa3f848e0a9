"""``shopfloor demo --live``: broker, simulator and pipeline in one process, nothing to install.

An embedded MQTT broker (amqtt) listens on a free loopback port; the fleet simulator publishes
``n_motors`` motors at 25.6 kHz over it; the live runtime subscribes, stores every block, assesses
every second of vibration and raises alerts. The first motor's bearing degrades during the run
(healthy for the first 20 %, an incipient outer-race defect growing until 60 %, severe after),
so within ``duration_s`` it visibly degrades and raises an alert; the others stay healthy.

The chain (:data:`DEMO_STEPS`): time and envelope features; an anomaly score against each
channel's first :data:`DEMO_BASELINE_WINDOWS` windows (the stated baseline: the motors are
healthy then); the fused diagnosis ``shopfloor diagnose`` uses; remaining life from the growth of
the RMS, its model trained on run-to-failure histories of the same physical degradation model
(:mod:`.training`, durations scaled to the demo's, kept as ``live-demo-training-<s>s.csv`` in the
data directory); and alerts with the suggested action.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopfloor.acquisition.live.connector import Connector
from shopfloor.acquisition.live.mqtt import EmbeddedBroker, MqttPublisher, MqttTransport, free_port
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator, default_fleet
from shopfloor.core.store import Store
from shopfloor.pipelines.live.runtime import LiveRuntime
from shopfloor.pipelines.live.spec import LoadedSpec, PipelineSpec, SinkSpec, StepSpec
from shopfloor.pipelines.live.training import write_training_table

DEMO_STEPS = (
    "features.time",
    "features.bearing",
    "anomaly.monitor",
    "diagnosis.fused",
    "rul.health_index",
    "advice.alerts",
)
DEMO_BASELINE_WINDOWS = 10
"""Windows of each channel that make its healthy baseline (the degrading motor's defect starts
at 20 % of the run, i.e. after 12 windows of the default minute)."""


@dataclass
class LiveDemoSummary:
    duration_s: float
    motors: int
    broker: str
    counters: dict[str, int]
    alerts: list[dict[str, Any]]
    assets: list[dict[str, Any]]
    latency_ms_p50: float | None
    latency_ms_p99: float | None
    home: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def demo_training(folder: Path, duration_s: float, fs_hz: float) -> Path:
    """The RUL model's run-to-failure table for a demo of ``duration_s`` (made once, kept)."""
    path = folder / f"live-demo-training-{duration_s:g}s.csv"
    if not path.exists():
        # healthy 0.8-1.3 and degrading 0.8-1.2 times the demo motor's own stages; at least
        # the baseline and a few windows healthy (the model learns its healthy band there)
        stage_h = max(0.2 * duration_s, DEMO_BASELINE_WINDOWS + 4.0)
        stage_d = max(0.4 * duration_s, 16.0)
        healthy = tuple(stage_h * f for f in (0.8, 1.0, 1.15, 1.3))
        degrading = tuple(stage_d * f for f in (1.2, 0.9, 1.1, 0.8))
        tmp = path.with_suffix(".tmp")
        write_training_table(tmp, healthy_s=healthy, degrading_s=degrading, fs_hz=fs_hz)
        tmp.replace(path)
    return path


def demo_spec(
    n_motors: int, fs_hz: float, training: Path | None = None, *, duration_s: float = 60.0
) -> LoadedSpec:
    """The demo's pipeline; without ``training`` the chain stops at the diagnosis's alerts."""
    fleet = default_fleet(n_motors, fs_hz)
    steps = []
    for name in DEMO_STEPS:
        params: dict[str, Any] = {}
        if name == "anomaly.monitor":
            params = {"baseline_windows": DEMO_BASELINE_WINDOWS}
        elif name == "rul.health_index":
            if training is None:
                continue
            every = max(1, round(duration_s / 60.0 * 5))
            params = {
                "train": str(training),
                "baseline_windows": DEMO_BASELINE_WINDOWS,
                "every_windows": every,
            }
        steps.append(StepSpec.model_validate({"use": name, "with": params}))
    spec = PipelineSpec(
        name="live-demo",
        fleet=fleet.model_dump(mode="json"),
        steps=steps,
        sinks=[SinkSpec(use="log"), SinkSpec(use="store")],
    )
    return LoadedSpec(spec, fleet, None)


async def run_live_demo(
    home: Path,
    *,
    duration_s: float = 60.0,
    n_motors: int = 3,
    fs_hz: float = 25_600.0,
    on_status: Callable[[LiveRuntime, float, str], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> LiveDemoSummary:
    """Run the demo for ``duration_s`` s; ``on_status(runtime, elapsed_s, stage)`` about 2×/s."""
    if home.exists():
        shutil.rmtree(home)  # the demo's own store, inside the data directory
    training = demo_training(home.parent, duration_s, fs_hz)
    loaded = demo_spec(n_motors, fs_hz, training, duration_s=duration_s)
    motor = DegradingMotor(
        loaded.fleet.assets[0].id, onset_s=0.2 * duration_s, severe_s=0.6 * duration_s
    )
    sim = FleetSimulator(loaded.fleet, [motor], seed=7)
    port = free_port()
    async with EmbeddedBroker(port):
        pub = MqttPublisher(port=port, client_id="shopfloor-demo-sim")
        await pub.open()
        with Store.open(home) as store:
            runtime = LiveRuntime(loaded, store, echo=echo)
            stop = asyncio.Event()
            transport = MqttTransport(port=port, client_id="shopfloor-demo-run")
            task = asyncio.create_task(runtime.run(Connector(transport, loaded.fleet), stop=stop))
            t0 = time.monotonic()
            feeder = asyncio.create_task(sim.run(pub.publish, duration_s, stop=stop))
            while not feeder.done():
                await asyncio.sleep(0.5)
                if on_status is not None:
                    elapsed = time.monotonic() - t0
                    on_status(runtime, elapsed, motor.stage(elapsed))
            await pub.flush(10.0)
            await asyncio.sleep(1.5)  # let the last windows through
            stop.set()
            await task
            runtime.close()
        await pub.close()
    lat = sorted(runtime.latencies_ms)
    return LiveDemoSummary(
        duration_s=duration_s,
        motors=n_motors,
        broker=f"embedded amqtt on 127.0.0.1:{port}",
        counters=runtime.counters.to_dict(),
        alerts=[a.to_dict() for a in runtime.alerts],
        assets=runtime.snapshot(),
        latency_ms_p50=lat[len(lat) // 2] if lat else None,
        latency_ms_p99=lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else None,
        home=str(home),
    )
