"""Bring a store made by an earlier shopfloor (DuckDB catalog ``shopfloor.duckdb``) forward.

Every row is copied into a fresh SQLite catalog at schema version 1 (the same tables), which is
written under a temporary name and renamed into place only when complete, so a kill part-way
leaves the old store as it was and the next writable open starts over. The DuckDB file is then
kept beside it as ``shopfloor.duckdb.migrated`` (nothing reads it any more; ``store gc`` does not
delete it: it is the user's backup until they remove it).
"""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path
from typing import Any

from shopfloor.core.errors import StoreError
from shopfloor.core.store.catalog import CATALOG_NAME
from shopfloor.core.store.schema import MIGRATIONS

LEGACY_NAME = "shopfloor.duckdb"
_TABLES = ("datasets", "assets", "channels", "recordings", "labels", "features", "events", "models")


def _plain(value: Any) -> Any:
    """DuckDB values as SQLite stores them: timestamps as ISO text, NaN/NaT as NULL."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def needs_migration(home: Path) -> bool:
    return (home / LEGACY_NAME).exists() and not (home / CATALOG_NAME).exists()


def migrate_duckdb_store(home: Path) -> int:
    """Copy a DuckDB-catalog store into a new SQLite catalog; returns the rows copied."""
    import duckdb

    legacy = home / LEGACY_NAME
    tmp = home / (CATALOG_NAME + ".migrating")
    tmp.unlink(missing_ok=True)
    try:
        src = duckdb.connect(str(legacy), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"cannot read the earlier store {legacy} to migrate it: {exc}") from exc
    copied = 0
    dst = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        dst.execute("BEGIN")
        for statement in MIGRATIONS[0]:
            dst.execute(statement)
        version = src.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is None or int(version[0]) != 1:
            raise StoreError(f"{legacy}: unexpected schema version {version}; cannot migrate")
        dst.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        for table in _TABLES:
            cur = src.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cur.description]
            marks = ", ".join("?" * len(columns))
            names = ", ".join(f'"{c}"' for c in columns)
            rows = [tuple(_plain(v) for v in row) for row in cur.fetchall()]
            dst.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
            copied += len(rows)
        dst.execute("COMMIT")
    except BaseException:
        dst.close()
        src.close()
        tmp.unlink(missing_ok=True)
        raise
    dst.close()
    src.close()
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, home / CATALOG_NAME)
    os.replace(legacy, home / (LEGACY_NAME + ".migrated"))
    (home / (LEGACY_NAME + ".wal")).unlink(missing_ok=True)
    return copied
