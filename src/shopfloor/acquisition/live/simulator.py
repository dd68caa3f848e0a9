"""A fleet simulator: motors whose bearings degrade, published as live blocks.

Physics of the degradation model (:class:`DegradingMotor`), per channel of vibration:

* **healthy**: shaft harmonics (1×, 2×, 3×) and broadband noise, as
  :func:`~shopfloor.acquisition.synthetic_signals.bearing_signal` makes them with no impacts;
* **incipient** (from ``onset_s``): a local defect strikes at its defect frequency (BPFO for an
  outer race, ...) and rings the housing's resonance; the impact amplitude grows exponentially
  with time, the course that spall growth under constant load follows (Paris-law crack growth
  gives an exponential size in the early stage);
* **severe** (from ``severe_s``): impacts at their full amplitude, broadband noise raised
  (a rough surface), optional unbalance (1× amplitude raised).

Temperature follows the friction losses: a first-order rise (time constant ``thermal_tau_s``)
towards ``ambient + rise_per_unit * impact amplitude``.

The sample timestamps are always wall-clock (a store refuses blocks from the future);
``speedup`` compresses the degradation course, so a minute of demo can show what takes weeks.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from shopfloor.acquisition.live.fleet_config import FleetConfig, bearing_of
from shopfloor.acquisition.live.payload import encode_block, encode_scalar
from shopfloor.acquisition.synthetic_signals import bearing_signal, cwru_drive_end_bearing
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store
from shopfloor.core.units import Quantity

FloatArray = npt.NDArray[np.float64]
Publish = Callable[[str, bytes], Awaitable[None]]


@dataclass
class DegradingMotor:
    """The degradation course of one motor's bearing.

    Times are *simulated* seconds from the start. ``impact_max`` is the impact peak at and after
    ``severe_s`` (m/s²); shaft harmonics and noise are those of a healthy small motor (m/s²).
    """

    asset_id: str
    defect: str = "outer"
    shaft_hz: float = 29.95
    onset_s: float = 10.0
    severe_s: float = 40.0
    impact_max: float = 3.0
    noise_std: float = 0.2
    severe_noise_factor: float = 2.0
    unbalance: float = 0.0
    """Added 1× amplitude at severe, m/s² (0: none)."""
    resonance_hz: float = 3_000.0
    ambient_c: float = 35.0
    rise_c_per_unit: float = 6.0
    thermal_tau_s: float = 20.0
    geometry: BearingGeometry | None = None

    def impact_amplitude(self, t_s: float) -> float:
        """Impact peak at simulated time ``t_s``, m/s² (0 while healthy)."""
        if t_s < self.onset_s:
            return 0.0
        if t_s >= self.severe_s:
            return self.impact_max
        # exp growth from 2 % of the final amplitude at onset to 100 % at severe
        frac = (t_s - self.onset_s) / (self.severe_s - self.onset_s)
        return self.impact_max * math.exp(math.log(0.02) * (1.0 - frac))

    def stage(self, t_s: float) -> str:
        if t_s < self.onset_s:
            return "healthy"
        return "incipient" if t_s < self.severe_s else "severe"

    def temperature_c(self, t_s: float) -> float:
        """Bearing temperature, °C (first-order lag behind the friction heat)."""
        target = self.ambient_c + self.rise_c_per_unit * self.impact_amplitude(t_s)
        lag = 1.0 - math.exp(-max(t_s - self.onset_s, 0.0) / self.thermal_tau_s)
        return self.ambient_c + (target - self.ambient_c) * lag

    def vibration(self, t_s: float, fs_hz: float, duration_s: float, seed: int) -> FloatArray:
        """Acceleration over ``[t_s, t_s + duration_s)`` (simulated time), m/s²."""
        severe = t_s >= self.severe_s
        amp = self.impact_amplitude(t_s)
        harmonics = (0.2 + (self.unbalance if severe else 0.0), 0.1, 0.05)
        x, _ = bearing_signal(
            self.defect,
            geometry=self.geometry or cwru_drive_end_bearing(),
            shaft_hz=self.shaft_hz,
            fs_hz=fs_hz,
            duration_s=duration_s,
            resonance_hz=min(self.resonance_hz, 0.4 * fs_hz),
            impulse_amplitude=amp,
            shaft_amplitudes=harmonics,
            noise_std=self.noise_std * (self.severe_noise_factor if severe else 1.0),
            seed=seed,
        )
        return x


@dataclass
class ReplayChannel:
    """A real recording played back in a loop (samples in the channel's unit)."""

    values: FloatArray
    fs_hz: float
    position: int = 0

    def take(self, n: int) -> FloatArray:
        if self.values.size == 0:
            raise InputError("replay recording is empty")
        idx = (self.position + np.arange(n)) % self.values.size
        self.position = int((self.position + n) % self.values.size)
        return self.values[idx]


@dataclass
class _Channel:
    topic: str
    asset_id: str
    channel_id: str
    fs_hz: float | None
    quantity: str
    seq: int = 0
    pending: FloatArray = field(default_factory=lambda: np.empty(0))


class FleetSimulator:
    """Publishes every channel of a fleet file, block by block, in wall-clock time.

    Parameters
    ----------
    fleet: the plant section (its topics are published).
    motors: degradation models by asset id (assets without one stay healthy).
    replay: real recordings by ``(asset, channel)``, played instead of the model.
    block_s: block length, s (0.1 s: ten messages per channel and second).
    chunk_s: length of signal generated at once, s (a whole number of blocks).
    speedup: simulated seconds of degradation per wall second.
    seed: random seed (each chunk gets its own from it).
    """

    def __init__(
        self,
        fleet: FleetConfig,
        motors: Sequence[DegradingMotor] = (),
        *,
        replay: dict[tuple[str, str], ReplayChannel] | None = None,
        block_s: float = 0.1,
        chunk_s: float = 1.0,
        speedup: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not block_s > 0 or not chunk_s >= block_s or not speedup > 0:
            raise InputError("need block_s > 0, chunk_s >= block_s and speedup > 0")
        self.fleet = fleet
        self.motors = {m.asset_id: m for m in motors}
        self.replay = replay or {}
        self.block_s = block_s
        self.chunk_s = chunk_s
        self.speedup = speedup
        self.seed = seed
        routes = fleet.routes()
        self._channels = [
            _Channel(
                topic,
                r.asset_id,
                r.channel_id,
                r.sample_rate_hz,
                fleet.asset(r.asset_id)
                .channels[[c.id for c in fleet.asset(r.asset_id).channels].index(r.channel_id)]
                .quantity.value,
            )
            for topic, r in routes.items()
        ]
        for ch in self._channels:
            if ch.fs_hz is not None and abs(ch.fs_hz * block_s - round(ch.fs_hz * block_s)) > 1e-6:
                raise InputError(
                    f"{ch.asset_id}/{ch.channel_id}: {block_s} s blocks are not a whole number "
                    f"of samples at {ch.fs_hz:g} Hz"
                )
        self._block_index = 0
        self.published = 0

    def motor(self, asset_id: str) -> DegradingMotor:
        return self.motors.get(asset_id) or DegradingMotor(asset_id, onset_s=math.inf)

    def _fill(self, ch: _Channel, t_sim: float, chunk: int) -> None:
        assert ch.fs_hz is not None
        n = round(self.chunk_s * ch.fs_hz)
        src = self.replay.get((ch.asset_id, ch.channel_id))
        if src is not None:
            new = src.take(n)
        else:
            motor = self.motor(ch.asset_id)
            asset = self.fleet.asset(ch.asset_id)
            geometry = bearing_of(asset, ch.channel_id) or motor.geometry
            if geometry is not None and motor.geometry is None:
                motor.geometry = geometry
            seed = zlib.crc32(f"{self.seed}/{ch.topic}/{chunk}".encode())
            new = motor.vibration(t_sim, ch.fs_hz, self.chunk_s, seed)
        ch.pending = np.concatenate([ch.pending, new])

    def messages_at(self, block_index: int, start_ns: int) -> Iterator[tuple[str, bytes]]:
        """Messages of every channel for block ``block_index`` starting at ``start_ns``."""
        t_sim = block_index * self.block_s * self.speedup
        per_chunk = round(self.chunk_s / self.block_s)
        for ch in self._channels:
            if ch.fs_hz is None:
                if block_index % round(1.0 / self.block_s) == 0:  # scalars once a second
                    value = self._scalar(ch, t_sim)
                    yield ch.topic, encode_scalar(start_ns, value, ch.seq)
                    ch.seq += 1
                continue
            n = round(self.block_s * ch.fs_hz)
            if ch.pending.size < n:
                self._fill(ch, t_sim, block_index // per_chunk)
            block, ch.pending = ch.pending[:n], ch.pending[n:]
            yield ch.topic, encode_block(ch.seq, start_ns, ch.fs_hz, block)
            ch.seq += 1

    def _scalar(self, ch: _Channel, t_sim: float) -> float:
        motor = self.motor(ch.asset_id)
        if ch.quantity == "temperature":
            return round(motor.temperature_c(t_sim), 2)
        if ch.quantity == "rotational_speed":
            return round(motor.shaft_hz * 60.0, 1)
        return 0.0

    async def run(
        self,
        publish: Publish,
        duration_s: float,
        *,
        realtime: bool = True,
        stop: asyncio.Event | None = None,
    ) -> int:
        """Publish ``duration_s`` of data; returns how many messages were sent.

        ``realtime`` paces the blocks to the wall clock (a late publisher catches up); without
        it blocks go out as fast as ``publish`` takes them, stamped as if in real time.
        """
        n_blocks = round(duration_s / self.block_s)
        t0_wall = time.time()
        # without pacing, stamp the blocks as the last ``duration_s`` (a store refuses
        # blocks from the future)
        t0_ns = time.time_ns() - (0 if realtime else round(duration_s * 1e9))
        first = self._block_index
        sent = 0
        for k in range(first, first + n_blocks):
            self._block_index = k + 1
            if stop is not None and stop.is_set():
                break
            start_ns = t0_ns + round((k - first) * self.block_s * 1e9)
            if realtime:
                # a block is published when its last sample has been "measured"
                delay = t0_wall + (k - first + 1) * self.block_s - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            for topic, payload in self.messages_at(k, start_ns):
                await publish(topic, payload)
                sent += 1
        self.published += sent
        return sent


def default_fleet(
    n_motors: int = 3, fs_hz: float = 25_600.0, plant: str = "demo", line: str = "line-1"
) -> FleetConfig:
    """A fleet of small motors (CWRU-like 6205 drive-end bearing, 1797 rpm), one vibration
    and one temperature channel each, for the simulator and the demo."""
    if n_motors < 1:
        raise InputError(f"need at least one motor, got {n_motors}")
    bearing = {"n_elements": 9, "element_diameter_mm": 7.94, "pitch_diameter_mm": 39.04}
    assets = [
        {
            "id": f"motor-{i + 1:02d}",
            "kind": "induction_motor",
            "nameplate": {"rated_power_kw": 7.5, "rated_speed_rpm": 1797},
            "components": [{"id": "de_bearing", "kind": "rolling_bearing", "bearing": bearing}],
            "channels": [
                {
                    "id": "de_accel",
                    "quantity": "acceleration",
                    "unit": "m/s^2",
                    "sample_rate_hz": fs_hz,
                    "component_id": "de_bearing",
                },
                {"id": "de_temp", "quantity": "temperature", "unit": "degC"},
            ],
        }
        for i in range(n_motors)
    ]
    return FleetConfig.model_validate({"plant": plant, "line": line, "assets": assets})


def replay_from_store(store: Store, dataset: str, recording_id: str | None = None) -> ReplayChannel:
    """A stored recording's first acceleration channel, to be played in a loop.

    Parameters
    ----------
    store: an open store holding the prepared dataset (``shopfloor datasets prepare NAME``).
    dataset: the registered dataset's name.
    recording_id: which recording (default: the first of the dataset).
    """
    recordings = store.recordings(dataset=dataset)
    if not recordings:
        raise InputError(f"no recordings of dataset {dataset!r} in the store; prepare it first")
    if recording_id is not None:
        recordings = [r for r in recordings if r.id == recording_id]
        if not recordings:
            raise InputError(f"dataset {dataset!r} has no recording {recording_id!r}")
    rec = recordings[0]
    fs = rec.time_base.sample_rate_hz
    if fs is None:
        raise InputError(f"recording {rec.id}: not uniformly sampled, cannot be replayed")
    quantities = {c.id: c.quantity for c in store.asset(rec.asset_id).channels}
    channel = next((c for c in rec.channel_ids if quantities.get(c) == Quantity.ACCELERATION), None)
    if channel is None:
        raise InputError(f"recording {rec.id}: no acceleration channel to replay")
    values = store.load(rec.id, columns=[channel]).channel(channel)
    return ReplayChannel(np.asarray(values, dtype=np.float64), float(fs))
