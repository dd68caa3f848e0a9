"""Low-level helpers shared by the store's modules."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def executemany(con: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    # Nothing to insert is not an error for us.
    if rows:
        con.executemany(sql, rows)


def describe_os_error(exc: OSError, home: Path) -> str:
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"data directory {home} is full ({exc.strerror}); nothing was changed"
    if exc.errno == errno.EFBIG:
        return f"data directory {home}: file size limit reached ({exc.strerror}); nothing changed"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"data directory {home} is not writable ({exc.strerror}); set SHOPFLOOR_HOME"
    return f"data directory {home}: {exc}"
