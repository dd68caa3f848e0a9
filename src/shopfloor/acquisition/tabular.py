"""Import a plant's own CSV/Parquet export into the store (``shopfloor import FILE -m MAP``).

The file is read in chunks and every mapped cell is checked; problems are collected (up to
``max_problems``) with their line and column and raised together as one :class:`TableError`, so
the engineer can fix the export in one go. Only a file without problems reaches the store, and
then through a single :meth:`Store.batch`: the import is all-or-nothing.

How time is stored, and why, is decided in :mod:`.timebase`.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from shopfloor.acquisition.cells import (
    FloatArray,
    IntArray,
    TimeParser,
    TimeProblem,
    parse_numbers,
)
from shopfloor.acquisition.mapping import TableMapping
from shopfloor.acquisition.signal_file import sniff_table_file
from shopfloor.acquisition.sources import Chunk, Problem, Source, open_source
from shopfloor.acquisition.timebase import arrange, channels_for
from shopfloor.core.assets import Asset, Channel
from shopfloor.core.errors import InputError
from shopfloor.core.recording import Recording, RecordingData, TimeBaseKind
from shopfloor.core.store import Store, WriteBatch
from shopfloor.core.units import parse_unit

MAX_PROBLEMS = 20

Progress = Callable[[int, int, str], None]


class TableError(InputError):
    """Bad rows or cells in an input table; ``problems`` lists them in file order.

    ``line`` and ``column`` are those of the first problem.
    """

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        source: Path,
        found: int,
        complete: bool,
        line_word: str = "line",
    ) -> None:
        self.problems = tuple(problems)
        self.found = found
        first = self.problems[0]
        if found == 1:
            message = first.message
        else:
            # Reading stops at the limit, so an incomplete count is a lower bound.
            count = f"{found} problems" if complete else f"at least {found} problems"
            shown = "" if len(self.problems) == found else f" (first {len(self.problems)} shown)"
            message = f"{count}{shown}; fix them and import again:" + "".join(
                f"\n  {line_word} {p.line if p.line is not None else '?'}"
                + (f", column {p.column!r}" if p.column is not None else "")
                + f": {p.message}"
                for p in self.problems
            )
        super().__init__(message, source=source, line=first.line, column=first.column)


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes
    ----------
    recording_id, asset_id:
        Where the data went.
    rows:
        Samples per channel stored.
    channels:
        Channel ids stored, in mapping order.
    seconds:
        Wall time of the import, s.
    bytes:
        Size of the input file, bytes.
    time_base, time_base_note:
        How time is stored, and why (see :mod:`shopfloor.acquisition.timebase`).
    replaced:
        Whether an earlier import of the same recording was replaced.
    """

    recording_id: str
    asset_id: str
    rows: int
    channels: tuple[str, ...]
    seconds: float
    bytes: int
    time_base: TimeBaseKind
    time_base_note: str
    replaced: bool = False

    def __str__(self) -> str:
        verb = "replaced" if self.replaced else "stored"
        return (
            f"{self.rows} rows x {len(self.channels)} channels {verb} as recording "
            f"{self.recording_id!r} of asset {self.asset_id!r} ({self.time_base.value}: "
            f"{self.time_base_note}); {_size(self.bytes)} read in {self.seconds:.2f} s"
        )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e3:.1f} kB" if n_bytes < 1e6 else f"{n_bytes / 1e6:.1f} MB"


def import_table(
    path: str | Path,
    mapping: TableMapping,
    store: Store,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> ImportReport:
    """Read a CSV or Parquet export as ``mapping`` says and store it as one recording.

    Parameters
    ----------
    path:
        The CSV or Parquet file.
    mapping:
        From :func:`~shopfloor.acquisition.load_mapping`.
    store:
        An open, writable store.
    replace:
        Replace an earlier import of the same recording id instead of refusing.
    progress:
        Called as ``progress(done_rows, total_rows, what)`` while reading; ``total_rows`` of a
        CSV is counted from its lines, so it may include trailing blank lines.
    max_problems:
        Stop reading after this many problems and report them.

    Returns
    -------
    ImportReport

    Raises
    ------
    TableError
        Bad rows or cells (wrong number of fields, not a number, missing value, unreadable,
        repeated or backwards timestamp), each with line and column. The store is unchanged.
    InputError
        Missing file or column, recording already imported (without ``replace``), or ids that
        belong to a prepared public dataset. The store is unchanged.
    """
    started = clock.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=path)
    if mapping.resolved_format(path) == "csv":
        # an empty or binary file says so first, not "already imported; use --replace"
        sniff_table_file(path)
    recording_id = mapping.default_recording_id(path)
    replacing = _check_target(store, mapping, recording_id, path, replace=replace)
    table = _read(path, mapping, progress, max_problems)
    time_base, note, samples = arrange(table.values, table.ns, mapping, path)
    channels = channels_for(mapping, time_base, path)
    asset = _merged_asset(store, mapping, channels, path)
    recording = Recording(
        id=recording_id,
        asset_id=asset.id,
        channel_ids=[c.id for c in mapping.channels],
        time_base=time_base,
        n_samples=table.rows,
        source=str(path.resolve()),
    )
    with _write_batch(store, replaces=recording_id if replacing else None) as batch:
        batch.add_asset(asset)
        batch.add_recording(RecordingData(recording, samples))
    if progress is not None:
        progress(table.rows, table.rows, "stored")
    return ImportReport(
        recording_id=recording_id,
        asset_id=asset.id,
        rows=table.rows,
        channels=tuple(recording.channel_ids),
        seconds=clock.perf_counter() - started,
        bytes=path.stat().st_size,
        time_base=time_base.kind,
        time_base_note=note,
        replaced=replacing,
    )


# ------------------------------------------------------------------------------ the store
def _check_target(
    store: Store, mapping: TableMapping, recording_id: str, path: Path, *, replace: bool
) -> bool:
    """Refuse ids that are taken; return whether an earlier import will be replaced.

    Checked before reading so a clash is reported at once, not after a long parse; the
    store's own checks at commit stay as the backstop.
    """
    asset_id = mapping.asset.id
    dataset = store.asset_owner(asset_id) if store.has_asset(asset_id) else None
    if dataset is not None:
        raise InputError(
            f"asset id {asset_id!r} belongs to the prepared dataset {dataset!r}; "
            "choose another asset id",
            source=path,
            column="asset.id",
        )
    stored = store.recording_owner(recording_id)
    if stored is None:
        return False
    owner, dataset = stored
    if dataset is not None:
        raise InputError(
            f"recording id {recording_id!r} belongs to the prepared dataset "
            f"{dataset!r}; set another recording_id",
            source=path,
            column="recording_id",
        )
    if owner != asset_id:
        raise InputError(
            f"recording {recording_id!r} is stored for asset {owner!r}, not "
            f"{asset_id!r}; set another recording_id",
            source=path,
            column="recording_id",
        )
    if not replace:
        raise InputError(
            f"recording {recording_id!r} was already imported; use --replace "
            "(replace=True) to overwrite it, or set another recording_id",
            source=path,
        )
    return True


@contextmanager
def _write_batch(store: Store, *, replaces: str | None) -> Iterator[WriteBatch]:
    with store.batch() as batch:
        if replaces is not None:
            # removed in the same transaction that adds the new recording: all-or-nothing
            batch.remove_recording(replaces)
        yield batch


def _merged_asset(
    store: Store, mapping: TableMapping, channels: list[Channel], path: Path
) -> Asset:
    """The mapping's asset, merged with what earlier imports stored for it.

    Channels of earlier imports stay (their recordings still refer to them); a channel id seen
    before must keep its quantity and unit, or its recordings would mix units. Asset fields
    the mapping sets win; fields it leaves out keep their stored values.
    """
    try:
        stored = store.asset(mapping.asset.id)
    except KeyError:
        return mapping.asset.to_asset(channels)
    new_ids = {c.id for c in channels}
    for i, ch in enumerate(channels):
        try:
            old = stored.channel(ch.id)
        except KeyError:
            continue
        if old.quantity != ch.quantity or parse_unit(old.unit) != parse_unit(ch.unit):
            raise InputError(
                f"channel {ch.id!r} of asset {stored.id!r} is stored as {old.quantity.value} in "
                f"{old.unit!r}; this mapping says {ch.quantity.value} in {ch.unit!r}. Use the "
                "same unit, or a new channel id",
                source=path,
                column=f"channels[{i}].unit",
            )
    merged = stored.model_dump(exclude={"channels"})
    merged.update(mapping.asset.model_dump(include=mapping.asset.model_fields_set))
    kept = [c for c in stored.channels if c.id not in new_ids]
    return Asset(**merged, channels=[*kept, *channels])


# ------------------------------------------------------------------------------ reading
def read_table(
    path: str | Path, mapping: TableMapping, *, max_problems: int = MAX_PROBLEMS
) -> tuple[dict[str, FloatArray], IntArray | None]:
    """Read and check every mapped cell of a file, without storing it (the folder watcher).

    Returns the samples by channel id (in the channels' units) and, when the file has a time
    column, the timestamps as UTC ns. Raises :class:`TableError` / :class:`InputError` exactly
    as :func:`import_table` does.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=path)
    table = _read(path, mapping, None, max_problems)
    return table.values, table.ns


@dataclass
class _Table:
    rows: int
    values: dict[str, FloatArray]
    ns: IntArray | None


@dataclass
class _Problems:
    limit: int
    items: list[Problem] = field(default_factory=list)
    found: int = 0

    def add(self, problem: Problem) -> None:
        self.found += 1
        self.items.append(problem)

    def trim(self) -> None:
        self.items.sort(key=lambda p: p.line if p.line is not None else 0)
        del self.items[self.limit :]


def _cell(arr: pa.Array, i: int) -> str:
    value = arr[int(i)].as_py()
    return "" if value is None else str(value)


def _read(path: Path, mapping: TableMapping, progress: Progress | None, limit: int) -> _Table:
    problems = _Problems(limit)
    source = open_source(path, mapping, problems.add)
    reader = _ChunkReader(source, mapping, problems)
    total = source.total_rows()
    if progress is not None:
        progress(0, total, path.name)
    batches = source.batches()
    complete = True
    try:
        for chunk in batches:
            reader.consume(chunk)
            if progress is not None:
                progress(reader.rows, max(total, reader.rows), path.name)
            if problems.found >= limit:
                complete = False
                break
    finally:
        batches.close()  # stops Arrow's reader when we stopped early
    reader.finish()
    problems.trim()
    if problems.items:
        raise TableError(
            problems.items,
            source=path,
            found=problems.found,
            complete=complete,
            line_word=source.line_word,
        )
    return reader.table()


class _ChunkReader:
    """Checks and collects one chunk after the other; keeps state across chunk edges."""

    def __init__(self, source: Source, mapping: TableMapping, problems: _Problems) -> None:
        self.source = source
        self.mapping = mapping
        self.problems = problems
        self.rows = 0
        self._values: dict[str, list[FloatArray]] = {c.id: [] for c in mapping.channels}
        self._ns: list[IntArray] = []
        self._parser = TimeParser(
            mapping.time,
            decimal=mapping.decimal,
            missing_values=mapping.missing_values,
            keep=problems.limit,
        )
        self._last: tuple[int, str] | None = None  # last good timestamp (ns) and its text
        # Blank rows at the current end of the data: dropped if nothing follows (an editor's
        # trailing newlines), reported if data follows.
        self._pending_blank: list[int] = []
        no_time = mapping.time.column is None
        self._blank_is_gap = no_time and all(c.allow_missing for c in mapping.channels)

    def _report(self, row: int, column: str | None, message: str) -> None:
        self.problems.add(Problem(self.source.line_of(row), column, message))

    def consume(self, chunk: Chunk) -> None:
        cols, blank, n = chunk.columns, chunk.blank, len(chunk)
        base = self.rows
        self._settle_blank_rows(blank, base)
        if self.mapping.time.column is not None:
            self._consume_time(cols[self.mapping.time.column], blank, base)
        limit = self.problems.limit
        for ch in self.mapping.channels:
            arr = cols[ch.column]
            nums = parse_numbers(
                arr, decimal=self.mapping.decimal, missing_values=self.mapping.missing_values
            )
            missing = nums.missing & ~blank if not ch.allow_missing else np.zeros(n, bool)
            for i in np.flatnonzero((nums.bad & ~blank) | missing)[:limit]:
                text = _cell(arr, i)
                if missing[i]:
                    what = "empty cell" if not text.strip() else f"missing-value marker {text!r}"
                    message = (
                        f"{what} in channel {ch.id!r}; set allow_missing: true for it "
                        "if gaps are expected"
                    )
                else:
                    message = f"not a number: {text!r}"
                self._report(base + int(i), ch.column, message)
            self._values[ch.id].append(nums.values)
        self.rows += n

    def _settle_blank_rows(self, blank: np.ndarray, base: int) -> None:
        filled = np.flatnonzero(~blank)
        if filled.size == 0:
            self._pending_blank.extend(base + int(i) for i in np.flatnonzero(blank))
            return
        last = int(filled[-1])
        inside = [*self._pending_blank, *(base + int(i) for i in np.flatnonzero(blank[:last]))]
        if not self._blank_is_gap:
            for row in inside[: self.problems.limit]:
                self._report(int(row), None, "empty row inside the data")
        self._pending_blank = [base + int(i) for i in np.flatnonzero(blank[last:]) + last]

    def _consume_time(self, arr: pa.Array, blank: np.ndarray, base: int) -> None:
        column = self.mapping.time.column
        times = self._parser.parse(arr, base)
        # NO_ZONE cells are judged for the whole column in finish().
        code = np.where(blank | (times.problem == TimeProblem.NO_ZONE), 0, times.problem)
        for i in np.flatnonzero(code)[: self.problems.limit]:
            message = TimeProblem(int(code[i])).describe(_cell(arr, i), self.mapping.time)
            self._report(base + int(i), column, message)
        good = np.flatnonzero((times.problem == 0) & ~blank)
        if good.size:
            ns = times.ns[good]
            before = np.concatenate(
                ([np.iinfo(np.int64).min if self._last is None else self._last[0]], ns[:-1])
            )
            backwards = np.flatnonzero(ns <= before)
            for j in backwards[: self.problems.limit]:
                earlier = (
                    _cell(arr, good[j - 1])
                    if j > 0
                    else self._last[1]
                    if self._last is not None
                    else ""
                )
                text = _cell(arr, good[j])
                verb = "repeats" if ns[j] == before[j] else "is earlier than"
                self._report(
                    base + int(good[j]),
                    column,
                    f"timestamp {text!r} {verb} the one before it ({earlier!r}); "
                    "timestamps must increase",
                )
            self._last = (int(ns[-1]), _cell(arr, good[-1]))
        self._ns.append(times.ns)

    def finish(self) -> None:
        """Checks that need the whole time column: offsets used consistently, zone known."""
        column = self.mapping.time.column
        if column is None:
            return
        minority, needs_zone = self._parser.verdict()
        if needs_zone is not None:
            row, text = needs_zone
            raise InputError(
                f"timestamps such as {text!r} have no UTC offset; set time.timezone in the "
                "mapping (e.g. 'Europe/Berlin', or 'UTC' if the export is in UTC)",
                source=self.source.path,
                line=self.source.line_of(row),
                column=column,
            )
        for row, text in minority:
            message = TimeProblem.OFFSET_MIXED.describe(text, self.mapping.time)
            self._report(row, column, message)

    def table(self) -> _Table:
        # Trailing blank rows are no data: cut them off.
        rows = self.rows - len(self._pending_blank)
        if rows <= 0:
            first = self.source.line_of(0)
            raise InputError(
                f"no data rows (data should start at {self.source.line_word} {first})",
                source=self.source.path,
                line=first,
            )
        values = {k: np.concatenate(v)[:rows] for k, v in self._values.items()}
        ns = np.concatenate(self._ns)[:rows] if self._ns else None
        return _Table(rows, values, ns)
