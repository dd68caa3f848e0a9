"""Wire format: round trips (property-based) and every kind of garbage refused with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shopfloor.acquisition.live.payload import (
    HEADER_BYTES,
    decode_block,
    decode_scalar,
    encode_block,
    encode_scalar,
    make_topic,
    parse_topic,
)
from shopfloor.core.errors import InputError

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@given(
    seq=st.integers(0, 2**64 - 1),
    start=st.integers(-(2**62), 2**62),
    rate=st.sampled_from([1.0, 1000.0, 12000.0, 25600.0, 51200.0]),
    values=arrays(np.float32, st.integers(1, 300), elements=finite),
)
def test_float32_block_round_trip(seq: int, start: int, rate: float, values: np.ndarray) -> None:
    block = decode_block(encode_block(seq, start, rate, values))
    assert (block.seq, block.start_ns, block.sample_rate_hz) == (seq, start, rate)
    np.testing.assert_array_equal(block.values, values.astype(np.float64))


def test_int16_block_of_a_vanishing_signal_keeps_a_usable_scale() -> None:
    values = np.array([1e-45, -3e-44, 0.0])
    block = decode_block(encode_block(0, 0, 25600.0, values, dtype="int16"))
    assert np.max(np.abs(block.values - values)) <= 1e-40


@given(values=arrays(np.float64, st.integers(1, 300), elements=finite))
def test_int16_block_within_one_step(values: np.ndarray) -> None:
    block = decode_block(encode_block(0, 0, 25600.0, values, dtype="int16"))
    peak = float(np.max(np.abs(values)))
    assert np.max(np.abs(block.values - values)) <= max(peak, 1e-30) / 32767 * 1.01 + 1e-12


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_is_refused_with_a_reason_never_a_crash(payload: bytes) -> None:
    for decode in (decode_block, decode_scalar):
        message = ""
        try:
            decode(payload)  # type: ignore[operator]
        except InputError as exc:
            message = str(exc)
        else:
            continue
        assert message


@given(st.binary(min_size=1, max_size=64), st.integers(0, HEADER_BYTES - 1))
def test_corrupted_header_field_is_named(noise: bytes, where: int) -> None:
    good = bytearray(encode_block(1, 0, 25600.0, np.ones(8)))
    good[where : where + len(noise)] = noise[: HEADER_BYTES - where]
    message = "decoded"
    try:
        decode_block(bytes(good))
    except InputError as exc:
        message = str(exc)
    assert message


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"SFWB", "shorter than the 32-byte header"),
        (b"XXXX" + bytes(40), "does not start with"),
        (encode_block(0, 0, 100.0, np.ones(4))[:-1], "whole, non-zero number"),
        (encode_block(0, 0, 100.0, [np.inf]), "NaN or infinite"),
    ],
)
def test_block_errors_say_what_is_wrong(payload: bytes, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        decode_block(payload)


def test_negative_sample_rate_is_refused_when_encoding() -> None:
    with pytest.raises(InputError, match="sample rate"):
        encode_block(0, 0, -1.0, [1.0])


@given(t=st.integers(0, 2**62), v=st.floats(allow_nan=False, allow_infinity=False))
def test_scalar_round_trip(t: int, v: float) -> None:
    r = decode_scalar(encode_scalar(t, v, 5))
    assert (r.time_ns, r.value, r.seq) == (t, v, 5)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"[1, 2]", "JSON object"),
        (b'{"t": 0}', "no field 'v'"),
        (b'{"t": 0, "v": "hot"}', "finite number"),
        (b'{"t": "yesterday", "v": 1}', "ISO 8601"),
        (b'{"t": 0, "v": 1, "seq": -1}', "non-negative"),
    ],
)
def test_scalar_errors_name_the_field(payload: bytes, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        decode_scalar(payload)


name = st.from_regex(r"\A[A-Za-z0-9_.\-]{1,12}\Z")


@given(name, name, name, name)
def test_topic_round_trip(plant: str, line: str, asset: str, channel: str) -> None:
    t = parse_topic(make_topic(plant, line, asset, channel))
    assert (t.plant, t.line, t.asset, t.channel) == (plant, line, asset, channel)


@pytest.mark.parametrize("topic", ["shopfloor/a/b/c", "other/a/b/c/d", "shopfloor/a/b/c d/e"])
def test_bad_topics_are_refused(topic: str) -> None:
    with pytest.raises(InputError):
        parse_topic(topic)
