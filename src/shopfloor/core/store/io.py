"""Low-level helpers shared by the store and its write batches."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd


def executemany(con: duckdb.DuckDBPyConnection, sql: str, rows: list[Any]) -> None:
    # DuckDB refuses an empty parameter list; nothing to insert is not an error for us.
    if rows:
        con.executemany(sql, rows)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Bulk insert: one statement for many rows (executemany is row by row in DuckDB)."""
    if frame.empty:
        return
    con.register("_incoming", frame)
    try:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        con.unregister("_incoming")


def describe_os_error(exc: OSError, home: Path) -> str:
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"data directory {home} is full ({exc.strerror}); nothing was changed"
    if exc.errno == errno.EFBIG:
        return f"data directory {home}: file size limit reached ({exc.strerror}); nothing changed"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"data directory {home} is not writable ({exc.strerror}); set SHOPFLOOR_HOME"
    return f"data directory {home}: {exc}"
