"""How an imported table's time is stored: UNIFORM (a rate and a start) or TIMESTAMPS.

A mapping with ``time.sample_rate_hz`` gives a UNIFORM time base (one row per sample). A time
column gives TIMESTAMPS, unless the timestamps are evenly spaced (every timestamp within 1 % of
a sample period of ``start + i / rate``): then the recording is stored UNIFORM with that rate and
the first timestamp as start. Why: the processing blocks downstream (windowing, spectra,
envelope) need a sample rate, and a rate found once here is better than every consumer
re-deriving it from a timestamp column that only repeats it. ``time.keep_timestamps`` opts out.

Start times are stored in UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shopfloor.acquisition.cells import FloatArray, IntArray
from shopfloor.acquisition.mapping import TableMapping
from shopfloor.core.assets import Channel
from shopfloor.core.errors import InputError
from shopfloor.core.recording import TimeBase, TimeBaseKind

# Largest distance of a timestamp from the even grid, as a fraction of one sample period, for
# the recording to count as evenly sampled.
UNIFORM_TOLERANCE = 0.01


def _ns_to_datetime(ns: int) -> datetime:
    # Python datetimes hold microseconds; the sub-microsecond rest of a start time is dropped.
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def _seconds(ns: float) -> str:
    return f"{ns / 1e9:.6g} s"


def regular_rate(ns: IntArray) -> tuple[float | None, str]:
    """The sample rate in Hz if the timestamps are evenly spaced, and a reason either way."""
    n = len(ns)
    if n < 3:
        return None, f"{n} timestamp(s) are too few to judge the spacing; kept as they are"
    rel = (ns - ns[0]).astype(np.float64)
    # 9 significant digits turn 1e9/333333333 ns into 3 Hz, not 3.000000003 Hz.
    rate = float(f"{1e9 * (n - 1) / rel[-1]:.9g}")
    period = 1e9 / rate
    deviation = float(np.max(np.abs(rel - np.arange(n) * period)))
    if deviation <= UNIFORM_TOLERANCE * period:
        return rate, (
            f"timestamps evenly spaced every {_seconds(period)} (largest deviation "
            f"{_seconds(deviation)}), stored as {rate:g} Hz from the first timestamp"
        )
    steps = np.diff(ns)
    return None, (
        f"timestamps unevenly spaced ({_seconds(float(steps.min()))} to "
        f"{_seconds(float(steps.max()))} apart), kept as they are"
    )


def _fixed_start(mapping: TableMapping, path: Path) -> datetime | None:
    start, zone = mapping.time.start, mapping.time.timezone
    if start is None:
        return None
    if start.tzinfo is not None:
        return start.astimezone(UTC)
    try:
        local = pd.Timestamp(start).tz_localize(zone, ambiguous="raise", nonexistent="raise")
    except (ValueError, pd.errors.OutOfBoundsDatetime) as exc:  # DST gap or overlap
        raise InputError(
            f"start {start} is not a unique local time in {zone} ({exc})",
            source=path,
            column="time.start",
        ) from exc
    return datetime.fromisoformat(local.tz_convert("UTC").isoformat())


def arrange(
    values: dict[str, FloatArray], ns: IntArray | None, mapping: TableMapping, path: Path
) -> tuple[TimeBase, str, pd.DataFrame]:
    """The time base, the reason for it, and the sample table to store.

    Parameters
    ----------
    values:
        Samples by channel id, in the channels' units.
    ns:
        Timestamps as UTC nanoseconds since 1970 when the file has a time column.
    mapping, path:
        The mapping, and the file for error messages.
    """
    data = {c.id: values[c.id] for c in mapping.channels}
    rate = mapping.time.sample_rate_hz
    if rate is not None:
        base = TimeBase(
            kind=TimeBaseKind.UNIFORM, sample_rate_hz=rate, start=_fixed_start(mapping, path)
        )
        return base, f"fixed sample rate {rate:g} Hz from the mapping", pd.DataFrame(data)
    assert ns is not None  # a time column was read
    start = _ns_to_datetime(int(ns[0]))
    found, why = regular_rate(ns)
    if found is not None and not mapping.time.keep_timestamps:
        base = TimeBase(kind=TimeBaseKind.UNIFORM, sample_rate_hz=found, start=start)
        return base, why, pd.DataFrame(data)
    if found is not None:
        why = "keep_timestamps is set; " + why.replace("stored as", "would be")
    stamps = pd.to_datetime(ns, unit="ns", utc=True)
    frame = pd.DataFrame({"timestamp": stamps, **data})
    return TimeBase(kind=TimeBaseKind.TIMESTAMPS, start=start), why, frame


def channels_for(mapping: TableMapping, time_base: TimeBase, path: Path) -> list[Channel]:
    """Core channels, with the sample rate in Hz known after reading."""
    uniform = time_base.sample_rate_hz if time_base.kind == TimeBaseKind.UNIFORM else None
    out = []
    for i, spec in enumerate(mapping.channels):
        nominal = spec.sample_rate_hz
        if (
            uniform is not None
            and nominal is not None
            and not math.isclose(nominal, uniform, rel_tol=UNIFORM_TOLERANCE)
        ):
            raise InputError(
                f"the mapping says {nominal:g} Hz but the timestamps are evenly "
                f"spaced at {uniform:g} Hz",
                source=path,
                column=f"channels[{i}].sample_rate_hz",
            )
        out.append(spec.to_channel(uniform if uniform is not None else nominal))
    return out
