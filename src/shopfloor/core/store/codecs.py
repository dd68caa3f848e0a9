"""How a block of samples becomes bytes in a segment file, and back.

Codecs are registered by name (the name is stored with every block, so a segment can mix them
and an old block stays readable after the default changes):

``f32``
    float32, little-endian, as is. The cheapest to write, so it is what live appends use.
``f32-shuffle-zstd``
    Lossless. The four bytes of each float are grouped into planes first (sign/exponent bytes
    of neighbouring samples are alike, so zstd finds them), then zstd. Compaction uses it.
``i16-zstd``
    Lossy: scaled to int16 with one scale per block (max |x| / 32767), then zstd. 16 bits is
    the resolution of many vibration front ends; it is never chosen by default, because a
    plant must opt in to losing what its sensor recorded beyond that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shopfloor.core.errors import InputError

FloatArray = np.ndarray


@dataclass(frozen=True)
class Codec:
    name: str
    encode: Callable[[FloatArray], tuple[bytes | memoryview, float | None]]
    decode: Callable[[bytes, int, float | None], FloatArray]
    lossless: bool


def _f32_encode(x: FloatArray) -> tuple[bytes | memoryview, float | None]:
    # A view of the samples, not a copy: the writer hands it straight to the file.
    return np.ascontiguousarray(x, dtype="<f4").data.cast("B"), None


def _f32_decode(raw: bytes, n: int, _: float | None) -> FloatArray:
    return np.frombuffer(raw, dtype="<f4", count=n)


def _shuffle_encode(x: FloatArray) -> tuple[bytes | memoryview, float | None]:
    planes = np.ascontiguousarray(x, dtype="<f4").view(np.uint8).reshape(-1, 4).T.copy()
    return pa.compress(planes.tobytes(), codec="zstd", asbytes=True), None


def _shuffle_decode(raw: bytes, n: int, _: float | None) -> FloatArray:
    planes = np.frombuffer(
        pa.decompress(raw, decompressed_size=4 * n, codec="zstd", asbytes=True), dtype=np.uint8
    )
    return planes.reshape(4, n).T.copy().view("<f4").reshape(n)


def _i16_encode(x: FloatArray) -> tuple[bytes | memoryview, float | None]:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    scale = peak / 32767.0 if peak > 0 else 1.0
    q = np.round(np.asarray(x, dtype=np.float64) / scale).astype("<i2")
    return pa.compress(q.tobytes(), codec="zstd", asbytes=True), scale


def _i16_decode(raw: bytes, n: int, scale: float | None) -> FloatArray:
    q = np.frombuffer(
        pa.decompress(raw, decompressed_size=2 * n, codec="zstd", asbytes=True), dtype="<i2"
    )
    return (q.astype(np.float32) * np.float32(scale if scale is not None else 1.0)).astype("<f4")


CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        Codec("f32", _f32_encode, _f32_decode, lossless=True),
        Codec("f32-shuffle-zstd", _shuffle_encode, _shuffle_decode, lossless=True),
        Codec("i16-zstd", _i16_encode, _i16_decode, lossless=False),
    )
}

LIVE_CODEC = "f32"
COMPACT_CODEC = "f32-shuffle-zstd"


def codec(name: str) -> Codec:
    try:
        return CODECS[name]
    except KeyError:
        raise InputError(
            f"unknown codec {name!r}; known: {', '.join(sorted(CODECS))}", column="codec"
        ) from None
