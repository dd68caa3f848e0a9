"""Wire format of live data: topics, binary waveform blocks and JSON scalar readings.

Topic scheme (one topic per channel, so a broker's ACLs and a subscriber's wildcards work per
plant, line, asset or channel)::

    shopfloor/<plant>/<line>/<asset>/<channel>

Each level is one of ``[A-Za-z0-9_.-]+`` (MQTT wildcards ``+`` and ``#`` and the separator ``/``
cannot appear in a name).

A waveform block (vibration, current) is sent as a compact binary payload, little-endian::

    offset size field
    0      4    magic b"SFWB"
    4      1    format version (1)
    5      1    dtype code: 1 float32, 2 float64, 3 int16 (scaled by ``scale``)
    6      2    header length in bytes (32 for version 1; a reader skips what it does not know)
    8      8    sequence number (uint64), per channel, +1 per block
    16     8    start time of the first sample, ns since the Unix epoch, UTC (int64)
    24     4    sample rate, Hz (float32)
    28     4    scale: physical value = stored value * scale (float32; 1.0 for floats)
    32     n*w  samples

A scalar reading (temperature, speed) is JSON: ``{"t": <ISO 8601 or ns>, "v": <number>,
"seq": <int, optional>}``. Slow signals do not need the binary format, and JSON stays readable
in a broker's web console.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from shopfloor.core.errors import InputError

MAGIC = b"SFWB"
VERSION = 1
_HEADER = struct.Struct("<4sBBHQqff")
HEADER_BYTES = _HEADER.size  # 32
_DTYPES: dict[int, np.dtype[np.generic]] = {
    1: np.dtype("<f4"),
    2: np.dtype("<f8"),
    3: np.dtype("<i2"),
}
_CODES = {v: k for k, v in _DTYPES.items()}
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
TOPIC_ROOT = "shopfloor"
MAX_SAMPLES = 10_000_000
"""Largest block accepted (samples): 390 s of 25.6 kHz, far above any sensible block, but it
keeps a corrupted length from allocating gigabytes."""


@dataclass(frozen=True)
class Topic:
    """The parts of a ``shopfloor/<plant>/<line>/<asset>/<channel>`` topic."""

    plant: str
    line: str
    asset: str
    channel: str

    def __str__(self) -> str:
        return "/".join((TOPIC_ROOT, self.plant, self.line, self.asset, self.channel))


def make_topic(plant: str, line: str, asset: str, channel: str) -> str:
    """The topic of one channel; names are checked against the scheme.

    >>> make_topic("p1", "l1", "motor-01", "de_accel")
    'shopfloor/p1/l1/motor-01/de_accel'
    """
    for what, value in (("plant", plant), ("line", line), ("asset", asset), ("channel", channel)):
        if not _NAME.match(value):
            raise InputError(f"{what} {value!r}: use letters, digits, '_', '.' or '-' only")
    return str(Topic(plant, line, asset, channel))


def parse_topic(topic: str) -> Topic:
    """Split a topic of the scheme; an InputError names what is wrong.

    >>> parse_topic("shopfloor/p1/l1/motor-01/de_accel").asset
    'motor-01'
    """
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT:
        raise InputError(
            f"topic {topic!r} is not of the form {TOPIC_ROOT}/<plant>/<line>/<asset>/<channel>"
        )
    for part in parts[1:]:
        if not _NAME.match(part):
            raise InputError(
                f"topic {topic!r}: level {part!r} has characters outside [A-Za-z0-9_.-]"
            )
    return Topic(*parts[1:])


@dataclass(frozen=True)
class WaveformBlock:
    """A decoded waveform block: consecutive samples of one channel.

    seq: sequence number, per channel, +1 per block.
    start_ns: time of the first sample, ns since the Unix epoch (UTC).
    sample_rate_hz: Hz.
    values: physical values (float64 view of what was sent, scale applied).
    """

    seq: int
    start_ns: int
    sample_rate_hz: float
    values: npt.NDArray[np.float64]

    @property
    def end_ns(self) -> int:
        """Time just after the last sample, ns."""
        return self.start_ns + round(len(self.values) * 1e9 / self.sample_rate_hz)


def encode_block(
    seq: int,
    start_ns: int,
    sample_rate_hz: float,
    values: npt.ArrayLike,
    *,
    dtype: str = "float32",
) -> bytes:
    """Binary payload of one waveform block (see the module docstring for the layout).

    ``dtype`` ``int16`` scales the block to its peak (16-bit, 96 dB of dynamic range: more than
    most MEMS accelerometers) and halves the bytes on the wire.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0 or arr.size > MAX_SAMPLES:
        raise InputError(f"a block needs 1 to {MAX_SAMPLES} samples, got {arr.size}")
    if not math.isfinite(sample_rate_hz) or sample_rate_hz <= 0:
        raise InputError(f"sample rate must be positive, got {sample_rate_hz}")
    if not 0 <= seq < 2**64:
        raise InputError(f"sequence number {seq} outside 0..2**64-1")
    scale = 1.0
    if dtype == "int16":
        peak = float(np.max(np.abs(arr))) if np.all(np.isfinite(arr)) else 0.0
        scale = float(np.float32(peak / 32767.0)) if peak > 0 else 1.0
        if scale == 0.0:
            # a peak below float32's range (~5e-41): the block is zero at any sensor's
            # resolution, but the header must still carry a usable, non-zero scale
            scale = float(np.finfo(np.float32).smallest_subnormal)
        body = np.round(arr / scale).clip(-32767, 32767).astype("<i2").tobytes()
    elif dtype in ("float32", "float64"):
        body = arr.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    else:
        raise InputError(f"block dtype {dtype!r}: use float32, float64 or int16")
    code = _CODES[np.dtype(dtype).newbyteorder("<")]
    head = _HEADER.pack(MAGIC, VERSION, code, HEADER_BYTES, seq, start_ns, sample_rate_hz, scale)
    return head + body


def decode_block(payload: bytes) -> WaveformBlock:
    """Parse a binary waveform block; an InputError says which field is wrong."""
    if len(payload) < HEADER_BYTES:
        raise InputError(f"payload of {len(payload)} bytes is shorter than the 32-byte header")
    magic, version, code, head_len, seq, start_ns, rate, scale = _HEADER.unpack_from(payload)
    if magic != MAGIC:
        raise InputError(f"payload does not start with {MAGIC!r} (got {magic!r})")
    if version < 1:
        raise InputError(f"payload format version {version} is not supported")
    if head_len < HEADER_BYTES or head_len > len(payload):
        raise InputError(f"header length {head_len} is invalid for a {len(payload)}-byte payload")
    dtype = _DTYPES.get(code)
    if dtype is None:
        raise InputError(f"dtype code {code} is unknown (1 float32, 2 float64, 3 int16)")
    if not math.isfinite(rate) or rate <= 0:
        raise InputError(f"sample rate {rate} Hz in the header is not positive")
    if not math.isfinite(scale) or scale == 0:
        raise InputError(f"scale {scale} in the header is not a finite non-zero number")
    body = memoryview(payload)[head_len:]
    if len(body) == 0 or len(body) % dtype.itemsize:
        raise InputError(
            f"{len(body)} bytes of samples is not a whole, non-zero number of {dtype.name} values"
        )
    values = np.frombuffer(body, dtype=dtype).astype(np.float64)
    if scale != 1.0:
        values *= scale
    if not np.all(np.isfinite(values)):
        raise InputError("block holds NaN or infinite samples")
    return WaveformBlock(int(seq), int(start_ns), float(rate), values)


@dataclass(frozen=True)
class ScalarReading:
    """One scalar reading: time (ns since epoch, UTC), value, optional sequence number."""

    time_ns: int
    value: float
    seq: int | None = None


def encode_scalar(time_ns: int, value: float, seq: int | None = None) -> bytes:
    """JSON payload of one scalar reading (time in ns since the epoch).

    >>> encode_scalar(0, 41.5, 3)
    b'{"t": 0, "v": 41.5, "seq": 3}'
    """
    doc: dict[str, object] = {"t": int(time_ns), "v": float(value)}
    if seq is not None:
        doc["seq"] = int(seq)
    return json.dumps(doc).encode()


def _time_ns(value: object) -> int:
    if isinstance(value, bool):
        raise InputError("field 't' must be ns since the epoch or an ISO 8601 time, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(f"field 't' {value!r} is not an ISO 8601 time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return round(when.timestamp() * 1e9)
    raise InputError(f"field 't' must be ns since the epoch or an ISO 8601 time, got {value!r}")


def decode_scalar(payload: bytes) -> ScalarReading:
    """Parse a JSON scalar reading; an InputError names the bad field."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"scalar payload is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(f"scalar payload must be a JSON object, got {type(doc).__name__}")
    for key in ("t", "v"):
        if key not in doc:
            raise InputError(f"scalar payload has no field {key!r}")
    value = doc["v"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"field 'v' must be a finite number, got {value!r}")
    seq = doc.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 0):
        raise InputError(f"field 'seq' must be a non-negative integer, got {seq!r}")
    return ScalarReading(_time_ns(doc["t"]), float(value), seq)


def is_block(payload: bytes) -> bool:
    """Whether a payload claims to be a binary waveform block (by its magic)."""
    return payload[:4] == MAGIC
