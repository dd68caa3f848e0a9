"""Strict, vectorised parsing of table cells: numbers and timestamps.

Every cell is either read exactly or flagged; nothing is guessed. The functions work on one
Arrow array (one column of one chunk) at a time, so a large file is parsed in flat memory, and
return masks instead of raising, so the caller can report each bad cell with its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopfloor.acquisition.mapping import UNIX_UNITS, TimeSpec

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# Plain decimal notation with an optional exponent; ASCII digits only. Python's float() also
# takes "1_000", "inf", "nan" and non-ASCII digits, none of which belong in a sensor export.
_NUMBER = {
    ".": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    ",": r"^[+-]?([0-9]+(,[0-9]*)?|,[0-9]+)([eE][+-]?[0-9]+)?$",
}
_INTEGER = r"^-?[0-9]+$"  # Arrow's integer cast refuses a leading "+"
# Column padding seen in exports; other whitespace is left alone, so it makes a cell invalid.
_PADDING = " \t"
# An ISO 8601 time of day followed by "Z" or a UTC offset such as +02:00, +0200 or -05.
_ISO_OFFSET = r"[T t][0-9]{1,2}:[0-9]{2}.*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
# Timestamps must fit int64 nanoseconds (years 1678 to 2261).
_NS_LIMIT = float(np.iinfo(np.int64).max)


def number_pattern(decimal: str) -> str:
    """The regular expression a number cell must match for ``decimal`` ("." or ",")."""
    return _NUMBER[decimal]


@dataclass(frozen=True)
class Numbers:
    """One parsed column chunk.

    Attributes
    ----------
    values:
        float64 values in the column's unit; NaN where missing or bad.
    missing:
        Cells that are empty or one of the missing-value markers.
    bad:
        Cells that are neither a finite number nor missing.
    """

    values: FloatArray
    missing: BoolArray
    bad: BoolArray


def _as_strings(arr: pa.Array) -> pa.Array:
    if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
        return arr.cast(pa.string())
    return arr


def _missing_mask(text: pa.Array, missing_values: Sequence[str]) -> BoolArray:
    markers = pa.array(list(missing_values), type=pa.string())
    hit = pc.or_kleene(pc.is_null(text), pc.is_in(text, value_set=markers))
    return np.asarray(hit.fill_null(True).to_numpy(zero_copy_only=False), dtype=bool)


def parse_numbers(arr: pa.Array, *, decimal: str, missing_values: Sequence[str]) -> Numbers:
    """Parse a column chunk of numbers.

    Parameters
    ----------
    arr:
        Strings (CSV cells, or a string column of a Parquet file) or a numeric Arrow array.
    decimal:
        Decimal separator of string cells, ``"."`` or ``","``.
    missing_values:
        Cell texts (after trimming spaces and tabs) that mean "no value".

    Returns
    -------
    Numbers
        A missing-value marker wins over a number, so a sentinel such as ``-9999`` can be
        declared missing.

    Examples
    --------
    >>> n = parse_numbers(pa.array(["1,5", " -2e3", "", "1.234", "x"]), decimal=",",
    ...                   missing_values=[""])
    >>> n.values.tolist()[:2], n.missing.tolist(), n.bad.tolist()
    ([1.5, -2000.0], [False, False, True, False, False], [False, False, False, True, True])
    """
    if (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_decimal(arr.type)
    ):
        values = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        missing = np.isnan(values)  # nulls arrive as NaN; a NaN in a float column is a gap too
        return Numbers(values, missing, np.isinf(values))
    text = pc.utf8_trim(_as_strings(arr), _PADDING)
    missing = _missing_mask(text, missing_values)
    is_number = np.array(
        pc.match_substring_regex(text, _NUMBER[decimal])
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    is_number &= ~missing
    if decimal == ",":
        text = pc.replace_substring(text, ",", ".")
    chosen = pc.if_else(pa.array(is_number), text, pa.scalar(None, pa.string()))
    # Arrow's string→float cast is correctly rounded (fast_float), so "0.1" is float("0.1").
    values = np.array(chosen.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    # Overflow ("1e999") parses to inf; a sensor never reads infinity, so it is an error.
    bad = ~missing & ~(is_number & np.isfinite(values))
    values[~is_number | bad] = np.nan
    return Numbers(values, missing, bad)


class TimeProblem(IntEnum):
    """Why a timestamp cell was not accepted (0: it was)."""

    OK = 0
    MISSING = 1
    UNPARSABLE = 2
    OFFSET_MIXED = 3
    LOCAL_TIME_GAP = 4
    # Without UTC offset while the mapping names no zone: judged once the column is read,
    # see TimeParser.verdict. Never reported per cell.
    NO_ZONE = 5

    def describe(self, text: str, spec: TimeSpec) -> str:
        """A message for the user about cell ``text``."""
        if self is TimeProblem.MISSING:
            return "timestamp is missing"
        if self is TimeProblem.UNPARSABLE:
            return f"cannot read timestamp {text!r} as {spec.format}"
        if self is TimeProblem.OFFSET_MIXED:
            return (
                f"timestamp {text!r} is one of the few written {_offset_kind(text)}; the "
                "column mixes local times and times with UTC offset"
            )
        return (
            f"local time {text!r} does not exist or is ambiguous in {spec.timezone} "
            "(daylight-saving change); export with UTC offsets or in UTC"
        )


def _offset_kind(text: str) -> str:
    aware = pc.match_substring_regex(pa.array([text]), _ISO_OFFSET)[0].as_py()
    return "with a UTC offset" if aware else "without a UTC offset"


@dataclass(frozen=True)
class Times:
    """One parsed chunk of a time column: UTC nanoseconds since 1970, and problem codes."""

    ns: IntArray
    problem: npt.NDArray[np.int8]


# A row index in the whole column, and the cell's text.
Example = tuple[int, str]


class TimeParser:
    """Parses a time column chunk by chunk.

    A column must be written either all with UTC offsets or all without (local time in
    ``spec.timezone``). Which one is decided by the majority of the whole column, not by its
    first row, so one odd row is reported itself instead of every other row; see
    :meth:`verdict`.
    """

    def __init__(
        self, spec: TimeSpec, *, decimal: str, missing_values: Sequence[str], keep: int = 20
    ) -> None:
        self.spec = spec
        self.decimal = decimal
        self.missing_values = list(missing_values)
        self._keep = keep
        self._count = {True: 0, False: 0}  # readable rows with / without offset
        self._examples: dict[bool, list[Example]] = {True: [], False: []}

    def parse(self, arr: pa.Array, base: int = 0) -> Times:
        """Parse one chunk (strings, epoch numbers or an Arrow timestamp array).

        ``base`` is the chunk's first row index in the column, for :meth:`verdict`.
        """
        if pa.types.is_timestamp(arr.type):
            return self._from_arrow_timestamps(arr, base)
        if self.spec.format in UNIX_UNITS:
            return self._from_epochs(arr)
        if not (
            pa.types.is_string(arr.type)
            or pa.types.is_large_string(arr.type)
            or pa.types.is_string_view(arr.type)
        ):
            raise TypeError(f"time column of type {arr.type} needs format unix_s/ms/us/ns")
        return self._from_text(pc.utf8_trim(_as_strings(arr), _PADDING), base)

    def verdict(self) -> tuple[list[Example], Example | None]:
        """After the last chunk: rows written the minority way, to be reported (up to
        ``keep``), and a row without offset if the mapping must name a time zone."""
        aware, naive = self._count[True], self._count[False]
        # A tie counts as "with offsets": an offset is explicit, a zone would be a guess.
        minority = [] if not (aware and naive) else self._examples[aware < naive]
        needs_zone = naive > aware and self.spec.timezone is None
        return minority, self._examples[False][0] if needs_zone else None

    # -- helpers
    def _note(self, aware: bool, readable: BoolArray, base: int, strings: pd.Series) -> None:
        self._count[aware] += int(np.count_nonzero(readable))
        room = self._keep - len(self._examples[aware])
        for i in np.flatnonzero(readable)[:room]:
            self._examples[aware].append((base + int(i), str(strings.iloc[int(i)])))

    def _from_text(self, text: pa.Array, base: int) -> Times:
        n = len(text)
        problem = np.zeros(n, dtype=np.int8)
        ns = np.zeros(n, dtype=np.int64)
        missing = _missing_mask(text, self.missing_values)
        problem[missing] = TimeProblem.MISSING
        fmt = "ISO8601" if self.spec.format == "iso8601" else self.spec.format
        if self.spec.format == "iso8601":
            aware = np.asarray(
                pc.match_substring_regex(text, _ISO_OFFSET)
                .fill_null(False)
                .to_numpy(zero_copy_only=False),
                dtype=bool,
            )
        else:
            aware = np.full(n, "%z" in fmt or "%Z" in fmt, dtype=bool)
        strings = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        strings[missing] = None
        with_offset = _to_datetime(strings.where(aware & ~missing), fmt, utc=True)
        read_aware = with_offset.notna().to_numpy()
        ns[read_aware] = _utc_ns(with_offset)[read_aware]
        self._note(True, read_aware, base, strings)
        local = _to_datetime(strings.where(~aware & ~missing), fmt, utc=False)
        read_naive = local.notna().to_numpy()
        self._note(False, read_naive, base, strings)
        problem[~missing & ~read_aware & ~read_naive] = TimeProblem.UNPARSABLE
        self._localize(local, read_naive, problem, ns)
        return Times(ns, problem)

    def _localize(
        self, local: pd.Series, rows: BoolArray, problem: npt.NDArray[np.int8], ns: IntArray
    ) -> None:
        """Wall-clock times at ``rows`` → UTC ns, in the mapping's zone (or NO_ZONE)."""
        if not rows.any():
            return
        if self.spec.timezone is None:
            problem[rows] = TimeProblem.NO_ZONE
            return
        zoned = local.dt.tz_localize(self.spec.timezone, ambiguous="NaT", nonexistent="NaT")
        gap = rows & zoned.isna().to_numpy()
        problem[gap] = TimeProblem.LOCAL_TIME_GAP
        ok = rows & ~gap
        ns[ok] = _utc_ns(zoned)[ok]

    def _from_arrow_timestamps(self, arr: pa.Array, base: int) -> Times:
        series = arr.to_pandas()
        present = series.notna().to_numpy()
        problem = np.where(present, 0, TimeProblem.MISSING).astype(np.int8)
        aware = arr.type.tz is not None
        self._note(aware, present, base, series.astype(str))
        if aware:
            return Times(np.where(present, _utc_ns(series), 0), problem)
        ns = np.zeros(len(arr), dtype=np.int64)
        self._localize(series, present, problem, ns)
        return Times(ns, problem)

    def _from_epochs(self, arr: pa.Array) -> Times:
        factor = _NS_PER[UNIX_UNITS[self.spec.format]]
        problem = np.zeros(len(arr), dtype=np.int8)
        if pa.types.is_integer(arr.type):
            exact: IntArray | None = np.asarray(
                arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64
            )
            integer = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            text = pc.utf8_trim(_as_strings(arr), _PADDING)
            integer = np.array(
                pc.match_substring_regex(text, _INTEGER)
                .fill_null(False)
                .to_numpy(zero_copy_only=False),
                dtype=bool,
            )
            # Integers of up to 19 digits parse exactly; float64 would round unix_ns by ~100 ns.
            try:
                as_int = pc.if_else(pa.array(integer), text, pa.scalar(None, pa.string()))
                exact = np.asarray(
                    as_int.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False),
                    dtype=np.int64,
                )
            except pa.ArrowInvalid:  # more than int64 holds: fall back to floats, range check
                integer[:] = False
                exact = None
        else:
            integer = np.zeros(len(arr), dtype=bool)
            exact = None
        numbers = parse_numbers(arr, decimal=self.decimal, missing_values=self.missing_values)
        problem[numbers.missing] = TimeProblem.MISSING
        problem[numbers.bad] = TimeProblem.UNPARSABLE
        scaled = numbers.values * factor
        out_of_range = ~(np.abs(scaled) < _NS_LIMIT) & (problem == 0)
        problem[out_of_range] = TimeProblem.UNPARSABLE
        ns = np.where(problem == 0, np.round(np.nan_to_num(scaled)), 0).astype(np.int64)
        if exact is not None:
            use_exact = integer & (problem == 0)
            with np.errstate(over="ignore"):
                exact_ns = exact * factor
            overflow = use_exact & ((exact_ns // factor) != exact)
            problem[overflow] = TimeProblem.UNPARSABLE
            ns = np.where(use_exact & ~overflow, exact_ns, ns)
        return Times(ns, problem)


def _to_datetime(strings: pd.Series, fmt: str, *, utc: bool) -> pd.Series:
    """Parse with pandas; cells it cannot read become NaT."""
    try:
        return pd.to_datetime(strings, format=fmt, errors="coerce", utc=utc)
    except (ValueError, TypeError):
        # pandas refuses a whole column that mixes offsets when utc=False, even with
        # errors="coerce"; cell by cell, a cell it reads with an offset is not a local time.
        def one(text: object) -> pd.Timestamp | None:
            if not isinstance(text, str):
                return None
            stamp = pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
            if not isinstance(stamp, pd.Timestamp):  # NaT
                return None
            return stamp if utc or stamp.tzinfo is None else None

        dtype = "datetime64[ns, UTC]" if utc else "datetime64[ns]"
        return pd.Series([one(t) for t in strings], index=strings.index, dtype=dtype)


def _utc_ns(series: pd.Series) -> IntArray:
    """Tz-aware datetimes → int64 UTC nanoseconds (NaT becomes the int64 minimum)."""
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    return np.asarray(utc.to_numpy().view(np.int64), dtype=np.int64)
