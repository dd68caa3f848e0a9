"""Chunked readers for the plant's CSV and Parquet exports.

Both readers yield the mapped columns chunk by chunk as Arrow arrays, untouched: CSV cells stay
strings so that :mod:`.cells` can judge every cell itself instead of Arrow guessing a type from
the first block and failing later without a line number. Each reader also knows how to turn a
data-row index back into the line (CSV) or row (Parquet) the user sees.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopfloor.acquisition.mapping import UNIX_UNITS, TableMapping
from shopfloor.core.errors import InputError

# Arrow's CSV block size (raised for files with longer lines). Small enough to keep memory flat
# and progress moving; tests shrink it to put chunk edges inside small files.
CSV_BLOCK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (line or row, column) and what."""

    line: int | None
    column: str | None
    message: str


@dataclass(frozen=True)
class Chunk:
    """A block of rows: the mapped columns by name, and which rows are blank lines."""

    columns: dict[str, pa.Array]
    blank: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.blank)


# Receives problems found while reading (a CSV row with the wrong number of fields).
ProblemSink = Callable[[Problem], None]


class Source(ABC):
    """What :mod:`.tabular` needs from a reader."""

    path: Path
    line_word: str  # "line" for text files, "row" for Parquet
    names: list[str]

    @abstractmethod
    def total_rows(self) -> int:
        """Number of data rows, or an estimate (CSV: counted lines)."""

    @abstractmethod
    def batches(self) -> Generator[Chunk, None, None]:
        """The mapped columns, chunk by chunk."""

    @abstractmethod
    def line_of(self, row: int) -> int:
        """Where 0-based data row ``row`` is: 1-based line of the file (CSV, counting every
        line from the top) or 1-based row (Parquet)."""


def open_source(path: Path, mapping: TableMapping, sink: ProblemSink) -> Source:
    """Open ``path`` as the mapping's format and check that every mapped column is there.

    Raises
    ------
    InputError
        Unreadable file, undecodable header, missing or duplicated columns, unusable types.
    """
    if mapping.resolved_format(path) == "parquet":
        return ParquetSource(path, mapping)
    return CsvSource(path, mapping, sink)


def mapped_columns(mapping: TableMapping) -> list[str]:
    """The columns the mapping reads: the time column (if any), then the channels."""
    cols = [c.column for c in mapping.channels]
    return [mapping.time.column, *cols] if mapping.time.column is not None else cols


def _closest(name: str, names: list[str]) -> str | None:
    """The header name the user most likely meant: same letters in another case, a name
    containing it (header "Temp [°C]" for "Temp"), or a close spelling."""
    folded = name.casefold().strip()
    for candidate in names:
        if candidate.casefold().strip() == folded:
            return candidate
    containing = [c for c in names if folded and folded in c.casefold()]
    if len(containing) == 1:
        return containing[0]
    near = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return near[0] if near else None


def _check_columns(
    names: list[str], mapping: TableMapping, path: Path, line: int | None, where: str
) -> None:
    problems = []
    for col in mapped_columns(mapping):
        count = names.count(col)
        if count == 0:
            near = _closest(col, names)
            hint = f"did you mean {near!r}?" if near else f"{where} has: {', '.join(names)}"
            problems.append(f"column {col!r} is not in the {where}; {hint}")
        elif count > 1:
            problems.append(f"column {col!r} appears {count} times in the {where}")
    if problems:
        first = mapped_columns(mapping)[0]
        missing = [c for c in mapped_columns(mapping) if names.count(c) != 1]
        raise InputError(
            "; ".join(problems), source=path, line=line, column=missing[0] if missing else first
        )


def _blank(batch: pa.RecordBatch) -> npt.NDArray[np.bool_]:
    """Rows with nothing in any column: what Arrow makes of a blank line."""
    blank = np.ones(batch.num_rows, dtype=bool)
    for arr in batch.columns:
        if not blank.any():
            break
        blank &= np.asarray(pc.equal(arr, "").to_numpy(zero_copy_only=False), dtype=bool)
    return blank


def _utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


class CsvSource(Source):
    """A delimited text file, read by Arrow in blocks with every mapped cell as a string."""

    line_word = "line"

    def __init__(self, path: Path, mapping: TableMapping, sink: ProblemSink) -> None:
        self.path = path
        self.mapping = mapping
        self._sink = sink
        # Lines Arrow skipped as malformed: valid rows are the data lines in between.
        self._skipped: list[int] = []
        self._scanned: tuple[int, int] | None = None
        self.names = self._read_header()
        _check_columns(self.names, mapping, path, mapping.header_row, "header")
        self.first_data_line = mapping.header_row + 1 + mapping.skip_rows_after_header

    def _read_header(self) -> list[str]:
        m = self.mapping
        # Arrow drops a UTF-8 byte-order mark; reading the header ourselves must do the same.
        encoding = "utf-8-sig" if _utf8(m.encoding) else m.encoding
        try:
            with self.path.open(encoding=encoding, newline="") as fh:
                for _ in range(m.header_row - 1):
                    fh.readline()
                header = fh.readline()
        except UnicodeDecodeError as exc:
            raise InputError(
                f"cannot decode the file as {m.encoding} ({exc.reason}); set "
                "'encoding' in the mapping (exports from Windows tools are often "
                "cp1252)",
                source=self.path,
            ) from exc
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror})", source=self.path) from exc
        if not header.strip():
            raise InputError(
                f"no header on line {m.header_row} (set 'header_row' in the mapping)",
                source=self.path,
                line=m.header_row,
            )
        return next(
            csv.reader([header.rstrip("\r\n")], delimiter=m.delimiter, quotechar=m.quote_char)
        )

    def _scan(self) -> tuple[int, int]:
        """Lines in the file and the longest line in bytes, from one fast binary pass."""
        if self._scanned is None:
            lines = longest = 0
            carry = 0  # length of the unfinished line from the previous chunk
            with self.path.open("rb") as fh:
                while chunk := fh.read(1 << 22):
                    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
                    if ends.size == 0:
                        carry += len(chunk)
                        continue
                    lengths = np.diff(ends, prepend=-1)
                    lengths[0] += carry
                    longest = max(longest, int(lengths.max()))
                    lines += ends.size
                    carry = len(chunk) - 1 - int(ends[-1])
            self._scanned = (lines + (carry > 0), max(longest, carry))
        return self._scanned

    def total_rows(self) -> int:
        return max(self._scan()[0] - self.first_data_line + 1, 0)

    def _block_size(self) -> int:
        # Arrow needs every line inside one block; after transcoding from a single-byte
        # encoding a line can grow up to 4 times in UTF-8.
        growth = 1 if _utf8(self.mapping.encoding) else 4
        return max(CSV_BLOCK_BYTES, (self._scan()[1] + 2) * growth)

    def _on_invalid_row(self, row: pacsv.InvalidRow) -> str:
        text = row.text if len(row.text) <= 60 else row.text[:57] + "..."
        line = row.number if row.number is not None else None
        if line is not None:
            self._skipped.append(line)
        self._sink(
            Problem(
                line,
                None,
                f"{row.actual_columns} fields where the header has "
                f"{row.expected_columns}: {text!r}",
            )
        )
        return "skip"

    def batches(self) -> Generator[Chunk, None, None]:
        m = self.mapping
        # Our own positional names for every column: Arrow then cannot disagree with the header
        # we checked, and no column is ever type-guessed (an unmapped column that turns from
        # numbers to text halfway must not break the import).
        names = [f"f{i}" for i in range(len(self.names))]
        wanted = {c: names[self.names.index(c)] for c in mapped_columns(m)}
        read = pacsv.ReadOptions(
            column_names=names,
            skip_rows=m.header_row + m.skip_rows_after_header,
            # One thread: Arrow gives malformed rows their line number only when not parallel.
            use_threads=False,
            block_size=self._block_size(),
            encoding="utf8" if _utf8(m.encoding) else m.encoding,
        )
        parse = pacsv.ParseOptions(
            delimiter=m.delimiter,
            quote_char=m.quote_char,
            invalid_row_handler=self._on_invalid_row,
            # Keep blank lines as rows: otherwise Arrow's line numbers stop counting them.
            ignore_empty_lines=False,
        )
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        try:
            reader = pacsv.open_csv(
                self.path, read_options=read, parse_options=parse, convert_options=convert
            )
            for batch in reader:
                yield Chunk({c: batch.column(f) for c, f in wanted.items()}, _blank(batch))
        except pa.ArrowInvalid as exc:
            hint = "" if "UTF8" not in str(exc) else " (set 'encoding' in the mapping, e.g. cp1252)"
            raise InputError(f"cannot parse the file: {exc}{hint}", source=self.path) from exc

    def line_of(self, row: int) -> int:
        line = self.first_data_line + row
        # Every malformed line before this one pushes it down by one. Arrow reports them in
        # order, so the list is sorted; bisect keeps this cheap for many skipped lines.
        skipped = self._skipped
        shift = 0
        while True:
            new_shift = bisect.bisect_right(skipped, line + shift)
            if new_shift == shift:
                return line + shift
            shift = new_shift


class ParquetSource(Source):
    """A Parquet file, read in row batches of the mapped columns."""

    line_word = "row"

    def __init__(self, path: Path, mapping: TableMapping) -> None:
        self.path = path
        self.mapping = mapping
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read as Parquet ({exc})", source=path) from exc
        schema = self._file.schema_arrow
        self.names = list(schema.names)
        _check_columns(self.names, mapping, path, None, "Parquet schema")
        self._check_types(schema)

    def _check_types(self, schema: pa.Schema) -> None:
        def numeric(t: pa.DataType) -> bool:
            return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))

        def text(t: pa.DataType) -> bool:
            return bool(
                pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
            )

        time_col = self.mapping.time.column
        for col in mapped_columns(self.mapping):
            t = schema.field(col).type
            if col == time_col:
                epoch = self.mapping.time.format in UNIX_UNITS
                ok = pa.types.is_timestamp(t) or text(t) or (numeric(t) and epoch)
                need = "timestamps, text, or numbers with a unix_* format"
            else:
                ok, need = numeric(t) or text(t), "numbers or text"
            if not ok:
                raise InputError(
                    f"column has type {t}; expected {need}", source=self.path, column=col
                )

    def total_rows(self) -> int:
        return int(self._file.metadata.num_rows)

    def batches(self) -> Generator[Chunk, None, None]:
        cols = mapped_columns(self.mapping)
        try:
            for batch in self._file.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=cols):
                blank = np.zeros(batch.num_rows, dtype=bool)  # Parquet has no blank lines
                yield Chunk({c: batch.column(c) for c in cols}, blank)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read as Parquet ({exc})", source=self.path) from exc

    def line_of(self, row: int) -> int:
        return row + 1
