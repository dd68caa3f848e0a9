"""Property tests for the import's parsers: mapping files, number cells, timestamp cells.

The import must never guess: a generated valid file round-trips bit for bit, and an arbitrary
cell is either read as exactly the number it spells or reported at its own line and column.
"""

from __future__ import annotations

import json
import math
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shopfloor.acquisition import (
    AssetSpec,
    ChannelSpec,
    TableError,
    TableMapping,
    TimeSpec,
    import_table,
    load_mapping,
)
from shopfloor.acquisition import sources as sources_module
from shopfloor.core.errors import InputError, UnitError
from shopfloor.core.recording import TimeBaseKind
from shopfloor.core.store import Store
from shopfloor.core.units import Quantity, check_unit

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFAULT_MISSING = ["", "NA", "N/A", "#N/A", "NaN", "nan", "null", "NULL", "None"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One store for all examples: opening one per example would dominate the run time.
    with Store.open(tmp_path_factory.mktemp("home")) as store:
        yield store


# ------------------------------------------------------------------------------ generated files
@dataclass
class Case:
    """A generated CSV file and the mapping that reads it."""

    delimiter: str
    decimal: str
    columns: list[str]  # file column order (includes the unmapped "quality" column)
    channels: list[str]
    values: list[list[float]]  # [row][channel]
    time: str  # "rate", "iso" or "unix_ms"
    stamps_ns: list[int]
    stamp_texts: list[str]
    block_bytes: int

    def cell(self, value: float) -> str:
        text = repr(value)
        return text.replace(".", ",") if self.decimal == "," else text

    def lines(self) -> list[str]:
        out = [self.delimiter.join(self.columns)]
        for r, row in enumerate(self.values):
            cells = {
                "quality": "good",
                **{c: self.cell(v) for c, v in zip(self.channels, row, strict=True)},
            }
            if self.time != "rate":
                cells["t"] = self.stamp_texts[r]
            out.append(self.delimiter.join(cells[c] for c in self.columns))
        return out

    def mapping_yaml(self, recording_id: str) -> str:
        if self.time == "rate":
            time = "{sample_rate_hz: 100, start: '2024-05-14T08:00:00+02:00'}"
        elif self.time == "iso":
            time = "{column: t, keep_timestamps: true}"
        else:
            time = "{column: t, format: unix_ms, keep_timestamps: true}"
        channels = "".join(
            f"  - {{column: {c}, id: {c}, quantity: dimensionless, unit: dimensionless}}\n"
            for c in self.channels
        )
        return (
            f"delimiter: {json.dumps(self.delimiter)}\ndecimal: {json.dumps(self.decimal)}\n"
            f"time: {time}\nchannels:\n{channels}asset: {{id: A-1, kind: other}}\n"
            f"recording_id: {recording_id}\n"
        )


DIALECTS = [(",", "."), (";", "."), (";", ","), ("\t", "."), ("\t", ","), ("|", ".")]


@st.composite
def cases(draw: st.DrawFn, time: str | None = None) -> Case:
    delimiter, decimal = draw(st.sampled_from(DIALECTS))
    n_channels = draw(st.integers(1, 4))
    channels = [f"c{i}" for i in range(n_channels)]
    time = time or draw(st.sampled_from(["rate", "iso", "unix_ms"]))
    columns = [*channels, "quality"] + ([] if time == "rate" else ["t"])
    columns = draw(st.permutations(columns))
    n_rows = draw(st.integers(1, 30))
    finite = st.floats(allow_nan=False, allow_infinity=False)
    values = draw(
        st.lists(
            st.lists(finite, min_size=n_channels, max_size=n_channels),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    # Steps in µs; epoch milliseconds cannot tell apart stamps less than 1 ms apart.
    smallest = 1000 if time == "unix_ms" else 1
    steps = draw(st.lists(st.integers(smallest, 10**11), min_size=n_rows, max_size=n_rows))
    start = draw(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)))
    stamps_us = np.cumsum(steps).tolist()
    stamps_ns, texts = [], []
    for us in stamps_us:
        moment = start.replace(tzinfo=UTC) + timedelta(microseconds=us)
        if time == "unix_ms":
            ms = (moment - EPOCH) // timedelta(milliseconds=1)
            stamps_ns.append(ms * 10**6)
            texts.append(str(ms))
        else:
            offset = timezone(timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60))))
            stamps_ns.append((moment - EPOCH) // timedelta(microseconds=1) * 1000)
            texts.append(moment.astimezone(offset).isoformat())
    longest = max(
        len(line)
        for line in Case(
            delimiter, decimal, columns, channels, values, time, stamps_ns, texts, 0
        ).lines()
    )
    # Arrow needs a whole line inside one block; beyond that, any size must give the same result.
    block = draw(st.integers(longest + 2, longest * 4 + 64))
    return Case(delimiter, decimal, columns, channels, values, time, stamps_ns, texts, block)


def run_import(case: Case, store: Store, lines: list[str] | None = None) -> str:
    """Write ``case`` (or ``lines``) and import it; return the recording id."""
    recording_id = f"r-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        csv.write_text("\n".join(lines or case.lines()) + "\n", encoding="utf-8", newline="")
        yaml = Path(tmp) / "map.yaml"
        yaml.write_text(case.mapping_yaml(recording_id), encoding="utf-8")
        with mock.patch.object(sources_module, "CSV_BLOCK_BYTES", case.block_bytes):
            import_table(csv, load_mapping(yaml), store)
    return recording_id


def bits(values: object) -> list[int]:
    """The float64 bit patterns: equal bits means the same number, -0.0 and 0.0 apart."""
    return [int(b) for b in np.atleast_1d(np.asarray(values, dtype=np.float64)).view(np.int64)]


@SETTINGS
@given(case=cases())
def test_valid_csv_round_trips_exactly(case: Case, shared_store: Store) -> None:
    data = shared_store.load(run_import(case, shared_store))
    for i, ch in enumerate(case.channels):
        assert bits(data.channel(ch)) == bits([row[i] for row in case.values])  # -0.0 included
    tb = data.recording.time_base
    if case.time == "rate":
        assert (tb.kind, tb.sample_rate_hz) == (TimeBaseKind.UNIFORM, 100.0)
    else:
        assert tb.kind == TimeBaseKind.TIMESTAMPS
        stored = data.samples["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
        assert stored.astype("datetime64[ns]").to_numpy().view(np.int64).tolist() == case.stamps_ns


PLAIN_NUMBERS = st.builds(
    lambda sign, whole, frac, exp, pad: f"{pad}{sign}{whole}{frac}{exp}{pad}",
    st.sampled_from(["", "+", "-"]),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.one_of(st.just(""), st.just("."), st.from_regex(r"\.[0-9]{1,12}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"[eE][+-]?[0-9]{1,2}", fullmatch=True)),
    st.sampled_from(["", " ", "\t"]),
)


@SETTINGS
@given(case=cases(time="rate"), text=PLAIN_NUMBERS, where=st.data())
def test_plain_decimal_notation_is_read_like_python_float(
    case: Case, text: str, where: st.DataObject, shared_store: Store
) -> None:
    r = where.draw(st.integers(0, len(case.values) - 1))
    c = where.draw(st.integers(0, len(case.channels) - 1))
    cell = text.replace(".", ",") if case.decimal == "," else text
    cell = cell.replace(case.delimiter, " ")  # tab padding in a tab-separated file
    lines = case.lines()
    lines[r + 1] = replace_cell(case, lines[r + 1], case.channels[c], cell)
    data = shared_store.load(run_import(case, shared_store, lines))
    assert bits(data.channel(case.channels[c])[r]) == bits(float(text))


def replace_cell(case: Case, line: str, column: str, text: str) -> str:
    cells = line.split(case.delimiter)
    cells[case.columns.index(column)] = text
    return case.delimiter.join(cells)


def python_reading(cell: str, decimal: str) -> float | None:
    """The only value a cell may be accepted as: what float() makes of it, if finite."""
    text = cell.strip(" \t")
    if text in DEFAULT_MISSING:
        return None
    if decimal == ",":
        if "." in text:
            return None
        text = text.replace(",", ".")
    elif "," in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# Near-numbers, non-ASCII digits, other whitespace, markers; "|" separates them.
TRICKY = [
    "1.2.3",
    "--1",
    "1e",
    "e5",
    "0x1A",
    "1_000",
    "١٢",
    "½",
    "inf",
    "-Infinity",
    "nan",
    "1,5",
    "1.5",
    "",
    "NaN",
    "#N/A",
    "1e999",
    "- 1",
    "1 2",
    "+-1",
    ".",
    "1.e3",
    "\x0b1",
    "1\xa0",
    "٣.5",
    "1d3",
    "１",
    " ",
]


@SETTINGS
@given(case=cases(), where=st.data())
def test_any_cell_is_read_exactly_or_reported_at_its_place(
    case: Case, where: st.DataObject, shared_store: Store
) -> None:
    forbidden = case.delimiter + '"\r\n'
    garbage = where.draw(
        st.one_of(
            st.sampled_from([t for t in TRICKY if not set(t) & set(forbidden)]),
            st.text(
                st.characters(exclude_characters=forbidden, exclude_categories=["Cs"]), max_size=8
            ),
        )
    )
    r = where.draw(st.integers(0, len(case.values) - 1))
    column = where.draw(st.sampled_from(case.channels))
    lines = case.lines()
    lines[r + 1] = replace_cell(case, lines[r + 1], column, garbage)
    expected = python_reading(garbage, case.decimal)
    if expected is None:  # not a finite number in any reading: must be reported, right there
        with pytest.raises(TableError) as info:
            run_import(case, shared_store, lines)
        assert [(p.line, p.column) for p in info.value.problems] == [(r + 2, column)]
        return
    # float() reads it; we may still refuse notation such as "1_000", but only at that cell.
    try:
        recording_id = run_import(case, shared_store, lines)
    except TableError as exc:
        problems = [(p.line, p.column) for p in exc.problems]
    else:
        stored = shared_store.load(recording_id).channel(column)[r]
        assert bits(stored) == bits(expected)
        return
    assert problems == [(r + 2, column)]


@SETTINGS
@given(case=cases(time="iso"), where=st.data())
def test_a_bad_timestamp_is_reported_at_its_line(
    case: Case, where: st.DataObject, shared_store: Store
) -> None:
    forbidden = case.delimiter + '"\r\n'
    garbage = where.draw(
        st.one_of(
            st.sampled_from(
                [
                    "2024-13-01T00:00:00Z",
                    "2024-05-14 25:00:00+00:00",
                    "yesterday",
                    "2024-05-14T08:00:00",
                    "",
                    "14.05.2024 08:00",
                    "NaT",
                ]
            ),
            st.text(
                st.characters(exclude_characters=forbidden, exclude_categories=["Cs"]), max_size=25
            ),
        )
    )
    r = where.draw(st.integers(0, len(case.values) - 1))
    lines = case.lines()
    lines[r + 1] = replace_cell(case, lines[r + 1], "t", garbage)
    with pytest.raises(InputError) as info:
        run_import(case, shared_store, lines)
    err = info.value
    # A lone row without offset in a one-row file asks for a time zone instead (InputError).
    problems = err.problems if isinstance(err, TableError) else [err]
    got = {(p.line, p.column) for p in problems}
    # The cell itself is reported, unless it happens to be a real timestamp with an offset;
    # then only its order can be wrong, which shows at its own line or the next one.
    assert got <= {(r + 2, "t"), (r + 3, "t")}
    assert (r + 2, "t") in got or "+" in garbage or "-" in garbage or "Z" in garbage.upper()


@SETTINGS
@given(case=cases(time="iso"), where=st.data())
def test_out_of_order_timestamps_are_reported(
    case: Case, where: st.DataObject, shared_store: Store
) -> None:
    if len(case.values) < 2:
        return
    r = where.draw(st.integers(1, len(case.values) - 1))
    lines = case.lines()
    earlier = replace_cell(case, lines[r + 1], "t", case.stamp_texts[r - 1])  # a repeat
    lines[r + 1] = earlier
    with pytest.raises(TableError) as info:
        run_import(case, shared_store, lines)
    assert [(p.line, p.column) for p in info.value.problems] == [(r + 2, "t")]
    assert "repeats the one before it" in info.value.problems[0].message


@SETTINGS
@given(case=cases(time="rate"), extra=st.data())
def test_malformed_lines_do_not_shift_later_line_numbers(
    case: Case, extra: st.DataObject, shared_store: Store
) -> None:
    lines = case.lines()
    n = len(lines)
    bad_rows = extra.draw(st.sets(st.integers(1, n - 1), max_size=5))
    for i in bad_rows:
        lines[i] += case.delimiter + "surplus"
    target = extra.draw(st.integers(1, n - 1))
    lines[target] = replace_cell(case, lines[target], case.channels[0], "bad?")
    with pytest.raises(TableError) as info:
        run_import(case, shared_store, lines)
    expected: set[tuple[int, str | None]] = {(i + 1, None) for i in bad_rows}
    if target not in bad_rows:
        expected.add((target + 1, case.channels[0]))
    assert {(p.line, p.column) for p in info.value.problems} == expected


# ------------------------------------------------------------------------------ mapping files
BASE_MAPPING = """\
time:
  column: t
  timezone: UTC
channels:
  - column: a
    id: a
    quantity: {quantity}
    unit: {unit}
asset:
  id: X-1
  kind: pump
"""
UNIT_LINE = 8

UNITS = [
    *[
        "m/s**2",
        "g",
        "mm/s",
        "in/s",
        "um",
        "mil",
        "degC",
        "degF",
        "K",
        "bar",
        "psi",
        "kPa",
        "A",
        "mA",
        "V",
        "kW",
        "hp",
        "rpm",
        "Hz",
        "kHz",
        "m**3/h",
    ],
    *[
        "l/min",
        "kg/s",
        "N",
        "kN*m",
        "deg",
        "rad",
        "%",
        "dimensionless",
        "furlong",
        "banana",
        "m/s/s",
        "1/s",
    ],
    "",
]


@SETTINGS
@given(
    quantity=st.sampled_from(list(Quantity)),
    # Basic multilingual plane only: json.dumps writes an astral character as two escaped
    # surrogate halves, which PyYAML reads back as two lone characters (a flaw of the round trip
    # in this test, not of the loader).
    unit=st.one_of(
        st.sampled_from(UNITS),
        st.text(st.characters(max_codepoint=0xFFFF), min_size=1, max_size=8),
    ),
)
def test_unit_is_accepted_exactly_when_it_fits_the_quantity(quantity: Quantity, unit: str) -> None:
    try:
        check_unit(unit, quantity)
        fits = True
    except UnitError:
        fits = False
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text(BASE_MAPPING.format(quantity=quantity.value, unit=json.dumps(unit)))
        if fits:
            assert load_mapping(path).channels[0].unit == unit
            return
        with pytest.raises(UnitError) as info:
            load_mapping(path)
    assert (info.value.line, info.value.column) == (UNIT_LINE, "channels[0].unit")


KEY = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
BLOCKS: dict[str, tuple[int, str, str, type[BaseModel], list[str]]] = {
    # block: (index to insert the key at, indent, field path prefix, fields in BASE_MAPPING)
    "": (0, "", "", TableMapping, ["time", "channels", "asset"]),
    "time": (2, "  ", "time.", TimeSpec, ["column", "timezone"]),
    "asset": (11, "  ", "asset.", AssetSpec, ["id", "kind"]),
    "channels[0]": (6, "    ", "channels[0].", ChannelSpec, ["column", "id", "quantity", "unit"]),
}


@SETTINGS
@given(key=KEY, block=st.sampled_from(sorted(BLOCKS)))
def test_unknown_and_repeated_keys_are_reported_where_they_are(key: str, block: str) -> None:
    index, indent, prefix, model, present = BLOCKS[block]
    # A valid optional field may legitimately load; that is not what this test is about.
    assume(key in present or key not in model.model_fields)
    lines = BASE_MAPPING.format(quantity="velocity", unit="mm/s").splitlines()
    lines.insert(index, f"{indent}{key}: 1")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(InputError) as info:
            load_mapping(path)
    message = "given twice" if key in present else "unknown field"
    assert message in str(info.value)
    assert (info.value.line, info.value.column) == (index + 1, f"{prefix}{key}")


@pytest.mark.parametrize("key", ["y", "n", "on", "off", "yes", "no", "true"])
def test_yaml_boolean_words_as_keys_are_unknown_fields(key: str) -> None:
    """YAML 1.1 reads these words as booleans; as keys they must still be reported by name."""
    index, indent, prefix, _, _ = BLOCKS["channels[0]"]
    lines = BASE_MAPPING.format(quantity="velocity", unit="mm/s").splitlines()
    lines.insert(index, f"{indent}{key}: 1")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(InputError) as info:
            load_mapping(path)
    assert "unknown field" in str(info.value)
    assert (info.value.line, info.value.column) == (index + 1, f"{prefix}{key}")
