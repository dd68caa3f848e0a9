"""The mapping file: how a plant's CSV/Parquet export maps onto an asset and its channels.

A maintenance engineer writes one small YAML file per export layout::

    format: csv
    delimiter: ";"
    decimal: ","
    time: {column: Zeitstempel, format: "%d.%m.%Y %H:%M:%S", timezone: Europe/Berlin}
    channels:
      - {column: "TT-101 [°C]", id: bearing_temp_de, quantity: temperature, unit: degC}
    asset: {id: P-101-M, kind: induction_motor, criticality: A}

:func:`load_mapping` validates it strictly (unknown keys are errors, units are checked against
their quantity with pint) and reports every problem with the mapping file's path, the YAML line
and the field path (``channels[2].unit``), so the engineer can fix the file without guessing.
"""

from __future__ import annotations

import codecs
import difflib
import re
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from shopfloor.core.assets import (
    Asset,
    AssetKind,
    Channel,
    Component,
    Criticality,
    Direction,
    ExternalIds,
    Hertz,
    Nameplate,
)
from shopfloor.core.errors import InputError, UnitError
from shopfloor.core.units import Quantity, check_unit, parse_unit

# Column names the stored sample table uses for time (see TimeBase.index_column); a channel of
# the same id would collide with them.
RESERVED_CHANNEL_IDS = frozenset({"timestamp", "cycle", "burst"})

# Epoch-number formats for a time column; anything else must be "iso8601" or a strftime pattern.
UNIX_UNITS = {"unix_s": "s", "unix_ms": "ms", "unix_us": "us", "unix_ns": "ns"}

_ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"

Loc = tuple[str | int, ...]


class _FieldError(ValueError):
    """A cross-field check that knows which field is wrong (``loc`` relative to the model).

    Pydantic reports a model validator's error at the model itself; carrying the field lets
    :func:`load_mapping` point at the right YAML line.
    """

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    """Unknown keys are errors: a typo such as ``uint:`` must not silently fall back."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeSpec(_Strict):
    """Where time comes from: a time column, or a fixed sample rate (with an optional start).

    Attributes
    ----------
    column:
        Name of the time column. Exclusive with ``sample_rate_hz``.
    format:
        How the time column is written: ``"iso8601"``, a strftime pattern such as
        ``"%d.%m.%Y %H:%M:%S"``, or epoch numbers ``"unix_s"``, ``"unix_ms"``, ``"unix_us"``,
        ``"unix_ns"``.
    timezone:
        IANA zone (``"Europe/Berlin"``, ``"UTC"``) of timestamps written without a UTC offset.
        Required for such timestamps: guessing UTC for a local-time export shifts every event.
    sample_rate_hz:
        Fixed sample rate in Hz when the file has no time column (one row per sample).
    start:
        Wall-clock time of the first row for a fixed sample rate.
    keep_timestamps:
        Store the timestamps even when they are evenly spaced (see :mod:`.tabular`).
    """

    column: str | None = Field(default=None, min_length=1)
    format: str = "iso8601"
    timezone: str | None = None
    sample_rate_hz: Hertz | None = None
    start: datetime | None = None
    keep_timestamps: bool = False

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value == "iso8601" or value in UNIX_UNITS or "%" in value:
            return value
        raise ValueError(
            f"time format {value!r} is not 'iso8601', one of {sorted(UNIX_UNITS)}, "
            "or a strftime pattern such as '%Y-%m-%d %H:%M:%S'"
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin' or 'UTC')"
            ) from exc
        return value

    @model_validator(mode="after")
    def _one_source_of_time(self) -> TimeSpec:
        if (self.column is None) == (self.sample_rate_hz is None):
            raise ValueError(
                "give either 'column' (a time column) or 'sample_rate_hz' "
                "(fixed rate, one row per sample), not both or neither"
            )
        given = self.model_fields_set
        if self.column is None:
            for name in ("format", "keep_timestamps"):
                if name in given:
                    raise _FieldError(
                        (name,),
                        f"'{name}' belongs to a time column; with "
                        "a fixed sample_rate_hz there is none",
                    )
        elif "start" in given:
            raise _FieldError(
                ("start",), "'start' belongs to a fixed sample rate; a time column has its own"
            )
        if self.column is not None and self.format in UNIX_UNITS and self.timezone is not None:
            raise _FieldError(
                ("timezone",), f"epoch times ({self.format}) are UTC by definition; drop 'timezone'"
            )
        if self.start is not None and self.start.tzinfo is None and self.timezone is None:
            raise _FieldError(
                ("start",),
                "'start' has no UTC offset: add one (2024-05-14T08:00:00+02:00) or set 'timezone'",
            )
        return self


class ChannelSpec(_Strict):
    """One column of the file that becomes a channel. ``unit`` is the unit the values are in.

    Attributes
    ----------
    column:
        Column name exactly as in the file's header (or Parquet schema).
    id:
        Channel id in the store.
    quantity, unit:
        Physical quantity and the unit the values are written in; checked with pint.
    sample_rate_hz:
        Nominal sample rate in Hz; must agree with a fixed-rate time base.
    allow_missing:
        Accept empty cells and ``missing_values`` markers (stored as NaN). Off by default: a
        gap in a sensor column is usually a broken export, not data.
    """

    column: str = Field(min_length=1)
    id: str = Field(min_length=1, pattern=_ID_PATTERN)
    quantity: Quantity
    unit: str
    sample_rate_hz: Hertz | None = None
    component_id: str | None = None
    location: str | None = None
    direction: Direction = Direction.NONE
    description: str | None = None
    allow_missing: bool = False

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_CHANNEL_IDS:
            raise ValueError(f"channel id {value!r} is reserved for the time column; rename it")
        return value

    @field_validator("unit")
    @classmethod
    def _unit_fits_quantity(cls, value: str, info: ValidationInfo) -> str:
        quantity = info.data.get("quantity")
        # Without a valid quantity (reported on its own) we can still say whether pint knows it.
        if quantity is None:
            parse_unit(value, field="unit")
            return value
        return check_unit(value, quantity, field="unit")

    def to_channel(self, sample_rate_hz: float | None) -> Channel:
        """The core :class:`Channel`, with the sample rate the import determined (Hz)."""
        return Channel(
            id=self.id,
            quantity=self.quantity,
            unit=self.unit,
            sample_rate_hz=sample_rate_hz,
            component_id=self.component_id,
            location=self.location,
            direction=self.direction,
            description=self.description,
        )


class AssetSpec(_Strict):
    """The asset block: :class:`shopfloor.core.assets.Asset` without ``channels``.

    Channels come from the mapping's ``channels`` list, so they are not repeated here. A test
    keeps these fields in step with :class:`Asset`.
    """

    id: str = Field(min_length=1, pattern=_ID_PATTERN)
    name: str | None = None
    kind: AssetKind
    nameplate: Nameplate = Field(default_factory=Nameplate)
    criticality: Criticality = Criticality.B
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    components: list[Component] = Field(default_factory=list)

    def to_asset(self, channels: list[Channel]) -> Asset:
        """The core :class:`Asset` with ``channels``."""
        return Asset(**self.model_dump(), channels=channels)


class TableMapping(_Strict):
    """A validated mapping file. Build it with :func:`load_mapping`.

    Attributes
    ----------
    format:
        ``"csv"``, ``"parquet"`` or ``"auto"`` (by file suffix: ``.parquet``/``.pq`` are Parquet).
    delimiter, decimal, encoding, quote_char:
        CSV dialect. ``decimal: ","`` reads ``1,5`` as 1.5; a ``.`` in a number is then an
        error, because in such files it is a thousands separator and 1.234 would mean 1234.
    header_row:
        1-based line of the header; lines above it (an export preamble) are skipped.
    skip_rows_after_header:
        Lines between the header and the data, e.g. a row of units.
    missing_values:
        Cell texts that mean "no value"; accepted only in channels with ``allow_missing``.
    recording_id:
        Id of the stored recording; default ``<asset id>.<file name without suffix>``.
    """

    format: Literal["csv", "parquet", "auto"] = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal: Literal[".", ","] = "."
    encoding: str = "utf-8"
    quote_char: str = Field(default='"', min_length=1, max_length=1)
    header_row: int = Field(default=1, ge=1)
    skip_rows_after_header: int = Field(default=0, ge=0)
    missing_values: list[str] = Field(
        default_factory=lambda: ["", "NA", "N/A", "#N/A", "NaN", "nan", "null", "NULL", "None"]
    )
    time: TimeSpec
    channels: list[ChannelSpec] = Field(min_length=1)
    asset: AssetSpec
    recording_id: str | None = Field(default=None, min_length=1, pattern=_ID_PATTERN)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r} (e.g. 'utf-8', 'cp1252')") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TableMapping:
        if self.decimal == self.delimiter:
            raise _FieldError(
                ("decimal",),
                f"decimal and delimiter are both "
                f"{self.delimiter!r}; files with a decimal comma use ';'",
            )
        seen_columns: dict[str, Loc] = {}
        if self.time.column is not None:
            seen_columns[self.time.column] = ("time", "column")
        seen_ids: set[str] = set()
        components = {c.id for c in self.asset.components}
        rate = self.time.sample_rate_hz
        for i, ch in enumerate(self.channels):
            if ch.column in seen_columns:
                raise _FieldError(
                    ("channels", i, "column"),
                    f"column {ch.column!r} is "
                    f"already used by {_field_path(seen_columns[ch.column])}",
                )
            seen_columns[ch.column] = ("channels", i, "column")
            if ch.id in seen_ids:
                raise _FieldError(("channels", i, "id"), f"channel id {ch.id!r} used twice")
            seen_ids.add(ch.id)
            if ch.component_id is not None and ch.component_id not in components:
                raise _FieldError(
                    ("channels", i, "component_id"),
                    f"{ch.component_id!r} is "
                    f"not a component of the asset (known: {sorted(components)})",
                )
            if rate is not None and ch.sample_rate_hz is not None and ch.sample_rate_hz != rate:
                raise _FieldError(
                    ("channels", i, "sample_rate_hz"),
                    f"{ch.sample_rate_hz} Hz "
                    f"differs from time.sample_rate_hz ({rate} Hz); one row is "
                    "one sample of every channel",
                )
        return self

    def resolved_format(self, path: Path) -> Literal["csv", "parquet"]:
        """``format``, with ``"auto"`` decided by the file suffix."""
        if self.format != "auto":
            return self.format
        return "parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv"

    def default_recording_id(self, path: Path) -> str:
        """``recording_id``, or ``<asset id>.<file stem>`` with unusable characters as ``_``."""
        if self.recording_id is not None:
            return self.recording_id
        stem = re.sub(r"[^A-Za-z0-9_.\-]+", "_", path.stem).strip("_") or "import"
        return f"{self.asset.id}.{stem}"


# ---------------------------------------------------------------------------------- loading


def load_mapping(path: str | Path) -> TableMapping:
    """Read and validate a mapping YAML file.

    Parameters
    ----------
    path:
        The mapping file.

    Returns
    -------
    TableMapping

    Raises
    ------
    UnitError
        A unit that pint does not know or that does not fit the channel's quantity; ``column``
        is the field path (``channels[2].unit``), ``line`` the YAML line.
    InputError
        Any other problem: unreadable file, YAML syntax, duplicate or unknown keys, missing or
        invalid fields. The message lists every problem pydantic found.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("mapping file not found", source=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read mapping file ({exc})", source=path) from exc
    data, lines = _parse_yaml(text, path)
    if not isinstance(data, dict):
        raise InputError(
            "a mapping file must be a YAML mapping (key: value lines)", source=path, line=1
        )
    try:
        return TableMapping.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, path, lines) from None


class _NameKeyLoader(yaml.SafeLoader):
    """YAML 1.1 reads keys such as ``y``, ``no`` or ``on`` as booleans; in a mapping file every
    key is a field name, so plain keys stay strings (and an unknown one is reported as such)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key_node.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str, path: Path) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML and record the 1-based line of every key and list item, by field path."""
    loader = _NameKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError("mapping file is empty", source=path)
        lines: dict[Loc, int] = {}
        _walk(node, (), lines, path)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            f"not valid YAML: {problem}",
            source=path,
            line=mark.line + 1 if mark is not None else None,
        ) from exc
    finally:
        loader.dispose()
    return data, lines


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: Path) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            # PyYAML keeps the last of two equal keys; in a config that hides a mistake.
            if key in seen:
                raise InputError(
                    f"key {key!r} given twice (first on line {seen[key]})",
                    source=path,
                    line=line,
                    column=_field_path((*loc, key)),
                )
            seen[key] = line
            lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), lines, path)


def _field_path(loc: Loc) -> str:
    """``("channels", 2, "unit")`` → ``"channels[2].unit"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # A missing field has no line of its own; its parent block's line is the nearest place.
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _allowed_fields(loc: Loc) -> list[str]:
    """Field names valid at ``loc``'s parent, for "did you mean" hints."""
    model: type[BaseModel] | None = TableMapping
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return []
        ann = info.annotation
        args = getattr(ann, "__args__", None)
        candidates = [ann, *(args or ())]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return list(model.model_fields) if model is not None else []


def _describe(err: ErrorDetails) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc)
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (
            f"; did you mean {near[0]!r}?"
            if near
            else (f"; allowed: {', '.join(allowed)}" if allowed else "")
        )
        return f"unknown field {loc[-1]!r}{hint}"
    if kind == "missing":
        return "required field is missing"
    message = err["msg"].removeprefix("Value error, ")
    if kind == "string_type" and isinstance(err.get("input"), int | float):
        message += " (quote it in YAML, e.g. '10042')"
    return message


def _translate(exc: ValidationError, path: Path, lines: dict[Loc, int]) -> InputError:
    """One error naming file, line and field path for each problem pydantic found."""
    problems: list[tuple[Loc, int | None, str, bool]] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _FieldError):
            loc = (*loc, *cause.loc)
        is_unit = isinstance(cause, UnitError)
        message = cause.message if isinstance(cause, UnitError) else _describe(err)
        problems.append((loc, _line_of(loc, lines), message, is_unit))
    loc, line, message, is_unit = problems[0]
    if len(problems) > 1:
        message += "".join(
            f"\n  line {ln if ln is not None else '?'}, {_field_path(lc) or '(top level)'}: {msg}"
            for lc, ln, msg, _ in problems[1:]
        )
    cls = UnitError if is_unit else InputError
    return cls(message, source=path, line=line, column=_field_path(loc) or None)
