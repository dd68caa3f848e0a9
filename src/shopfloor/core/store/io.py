"""Low-level helpers shared by the store's modules."""

from __future__ import annotations

import errno
import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shopfloor.core.assets import Asset


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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upsert_channels(con: sqlite3.Connection, assets: Sequence[Asset]) -> None:
    """Store the assets' channels. Channels no longer in an asset go; kept ones keep their
    source address, scale and offset (set through the fleet API, not by imports)."""
    for a in assets:
        keep = [c.id for c in a.channels]
        con.execute(
            f"DELETE FROM channels WHERE asset_id = ? AND id NOT IN ({', '.join('?' * len(keep))})",
            [a.id, *keep],
        )
    executemany(
        con,
        "INSERT INTO channels (asset_id, id, quantity, unit, sample_rate_hz) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (asset_id, id) DO UPDATE SET "
        "quantity = excluded.quantity, unit = excluded.unit, "
        "sample_rate_hz = excluded.sample_rate_hz",
        [
            (a.id, c.id, c.quantity.value, c.unit, c.sample_rate_hz)
            for a in assets
            for c in a.channels
        ],
    )
