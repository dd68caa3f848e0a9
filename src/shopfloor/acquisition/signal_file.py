"""Read one signal column from a CSV or Parquet file a person exported, or refuse it plainly.

Plant exports are messy: semicolons and decimal commas from a German or Korean locale Excel,
a header with no rows, a Parquet file cut short by a full disk, a binary file renamed ``.csv``.
Each of these must end in a one-line error naming the file (and line or column), or be read
correctly; never misread. The classic misreading this module exists to prevent: a one-column
file of ``0,012573`` is split by pandas at the comma into two integer columns, and a
diagnosis of those integers says "normal" with confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from shopfloor.core.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
PARQUET_MAGIC = b"PAR1"
SNIFF_LINES = 200
_NUMBER = r"[-+]?(?:\d+(?:[.]\d*)?|[.]\d+)(?:[eE][-+]?\d+)?"
_COMMA_NUMBER = r"[-+]?\d+,\d+(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class SignalColumn:
    """One column read from a file: the samples and how they were read."""

    values: npt.NDArray[np.float64]
    column: str
    path: Path
    note: str = ""


def read_signal_column(path: Path, column: str | None = None) -> SignalColumn:
    """Read one numeric column (samples) from a CSV/TSV or Parquet file.

    Parameters
    ----------
    path:
        The file. ``.parquet``/``.pq`` (or Parquet content under any name) is read as Parquet;
        anything else as delimited text with the delimiter and decimal mark detected.
    column:
        Column to read; may be omitted when the file has exactly one numeric column.

    Raises
    ------
    InputError
        Naming the file, and the line or column where that helps.
    """
    if sniff_table_file(path):
        return _read_parquet(path, column)
    return _read_text(path, column)


def sniff_table_file(path: Path) -> bool:
    """Refuse a file that cannot be a table, from its first bytes and before any parsing: a
    missing path, a folder, an empty file, binary content that is not Parquet. Returns whether
    it is Parquet (by suffix or magic bytes); otherwise it is to be read as text.
    """
    if not path.exists():
        raise InputError("no such file", source=path)
    if path.is_dir():
        raise InputError("is a folder, not a file", source=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", source=path)
    with path.open("rb") as fh:
        head = fh.read(4096)
    if path.suffix.lower() in PARQUET_SUFFIXES or head.startswith(PARQUET_MAGIC):
        return True
    if b"\x00" in head:
        raise InputError(
            "binary content, not a CSV text file (export as CSV or Parquet)", source=path
        )
    return False


def _read_parquet(path: Path, column: str | None) -> SignalColumn:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for one cause: unreadable file
        reason = " ".join(str(exc).split())[:160]
        raise InputError(
            f"not a readable Parquet file (truncated or corrupt?): {reason}", source=path
        ) from None
    frame = table.to_pandas()
    if len(frame) == 0:
        raise InputError("the Parquet file has columns but no rows", source=path)
    return _pick_column(frame, column, path, note="")


def _split(line: str, sep: str | None) -> list[str]:
    return [f.strip().strip('"') for f in (line.split(sep) if sep else [line])]


def _read_text(path: Path, column: str | None) -> SignalColumn:
    import pandas as pd

    try:
        with path.open(encoding="utf-8-sig") as fh:
            lines = [ln.rstrip("\r\n") for _, ln in zip(range(SNIFF_LINES + 1), fh, strict=False)]
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}): export the file as UTF-8 CSV", source=path
        ) from None
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise InputError("the file holds only blank lines", source=path)
    header = lines[0]
    sep = next((d for d in (";", "\t", ",") if d in header), None)
    header_fields = _split(header, sep)
    has_header = not all(re.fullmatch(_NUMBER, f) for f in header_fields)
    data = lines[1:] if has_header else lines
    if not data:
        raise InputError(
            f"the file has a header ({header[:60]!r}) but no data rows", source=path, line=1
        )
    decimal = "."
    note = ""
    if (
        sep == ","
        and not has_header
        and all(re.fullmatch(_COMMA_NUMBER, ln.strip()) for ln in data)
    ):
        # no header and every line "0,012573": one column of decimal commas, or two integer
        # columns? Integers are never written with a leading zero ("012573"), so one such
        # line settles it; without one the file is refused rather than guessed.
        if not any(re.match(r"[-+]?\d+,0\d", ln.strip()) for ln in data):
            raise InputError(
                "every line is two whole numbers split by a comma: decimal commas or two "
                "columns? add a header line naming the column(s), or write decimals with '.'",
                source=path,
                line=1,
            )
        sep, decimal, note = None, ",", "decimal comma detected"
    elif sep is None and all(re.fullmatch(_COMMA_NUMBER, ln.strip()) for ln in data[:50]):
        # one column of decimal-comma numbers: "0,012573"
        decimal, note = ",", "decimal comma detected"
    elif sep in (";", "\t"):
        fields = [f for ln in data[:50] for f in _split(ln, sep)]
        if any(re.fullmatch(_COMMA_NUMBER, f) for f in fields) and not any(
            re.fullmatch(r"[-+]?\d*[.]\d+(?:[eE][-+]?\d+)?", f) for f in fields
        ):
            decimal, note = ",", "decimal comma detected"
    n_fields = len(header_fields)
    for i, ln in enumerate(data, start=2 if has_header else 1):
        if sep is None:
            if decimal == "." and any(d in ln for d in ",;\t"):
                raise InputError(
                    "a delimiter in a data line, but the header has one column "
                    "(decimal commas? use '.' or ';' as the delimiter)",
                    source=path,
                    line=i,
                )
            continue
        got = len(_split(ln, sep))
        if got != n_fields:
            hint = (
                " (decimal commas with ',' as the delimiter are ambiguous: use ';' or '.')"
                if sep == "," and re.search(r"\d,\d", ln)
                else ""
            )
            raise InputError(
                f"{got} fields where the header has {n_fields}{hint}", source=path, line=i
            )
    try:
        frame = pd.read_csv(
            path,
            sep=sep or "\t",  # no delimiter in the header: one column, nothing to split
            decimal=decimal,
            header=0 if has_header else None,
            encoding="utf-8-sig",
            skip_blank_lines=True,
        )
    except Exception as exc:  # the sniffed lines were fine; a later line is not
        reason = " ".join(str(exc).split())[:160]
        raise InputError(f"cannot read as CSV: {reason}", source=path) from None
    if not has_header:
        frame.columns = [f"column{i + 1}" for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() for c in frame.columns]
    return _pick_column(frame, column, path, note=note, first_data_line=2 if has_header else 1)


def _pick_column(
    frame: object, column: str | None, path: Path, note: str, first_data_line: int = 1
) -> SignalColumn:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    names = [str(c) for c in frame.columns]
    if column is not None:
        if column not in names:
            raise InputError(f"no column {column!r}; columns are {names}", source=path)
        chosen = column
    else:
        numeric = [c for c in names if pd.api.types.is_numeric_dtype(frame[c])]
        if len(names) == 1:  # the only column: its bad values are reported by line below
            chosen = names[0]
        elif len(numeric) == 1:
            chosen = numeric[0]
        elif not numeric:
            raise InputError(f"no numeric column among {names}", source=path)
        else:
            raise InputError(
                f"{len(numeric)} numeric columns {numeric}: choose one with --column", source=path
            )
    values = pd.to_numeric(frame[chosen], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(
            f"{bad.size} missing or non-numeric values",
            source=path,
            line=int(bad[0]) + first_data_line,
            column=chosen,
        )
    return SignalColumn(values=values, column=chosen, path=path, note=note)
