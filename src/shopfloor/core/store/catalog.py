"""The catalog database and the one-writer lock.

Why SQLite in WAL mode (measured, see ``docs/architecture.md``): while a DuckDB file is open for
writing, no other process can open it at all, not even read-only, so the CLI, the service and a
notebook were locked out for as long as an import or the live pipeline ran. In WAL mode a
SQLite reader keeps reading the last committed snapshot while the writer appends, and never
waits for it; samples live in segment files next to the catalog and are only referenced by a
row once they are on disk, so a reader sees committed data and nothing else.

There is one writer at a time: :func:`acquire_writer_lock` takes an exclusive ``flock`` on
``writer.lock`` and writes who holds it (pid, host, since, command) into the file, so a second
writer is told whom it waits for. The kernel releases the lock when the holder dies, even by
``kill -9``; the stale note is simply overwritten by the next holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from shopfloor.core.errors import StoreError
from shopfloor.core.store.schema import MIGRATIONS, SCHEMA_VERSION

CATALOG_NAME = "catalog.sqlite"
LOCK_NAME = "writer.lock"


class StoreBusyError(StoreError):
    """Another process holds the store writable; readers are not affected."""

    def __init__(self, home: Path, holder: dict[str, Any]) -> None:
        self.holder = holder
        who = (
            f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} "
            f"since {holder.get('since', '?')} ({holder.get('command', '?')})"
        )
        super().__init__(
            f"store {home} is being written by {who}; one writer at a time: wait for it to "
            "finish, or open the store read-only (reading is never blocked)"
        )


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def connect(home: Path, *, read_only: bool) -> sqlite3.Connection:
    """Open the catalog. Readers get a read-only connection that never takes a write lock."""
    db = home / CATALOG_NAME
    if read_only:
        # A directory nobody can write cannot have a writer: open it immutable, because WAL
        # mode would otherwise need to create its shared-memory file there.
        mode = "ro" if os.access(home, os.W_OK) else "ro&immutable=1"
        con = sqlite3.connect(
            f"file:{db}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        con = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
    # NORMAL: a commit is durable once the WAL is synced at checkpoints; the segment data a
    # row refers to is fsynced before the row is committed, which is what readers rely on.
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA busy_timeout=10000")
    return con


def schema_version(con: sqlite3.Connection) -> int:
    has_meta = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()[0]
    if not has_meta:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(con: sqlite3.Connection, home: Path, *, read_only: bool) -> None:
    """Bring the catalog to :data:`SCHEMA_VERSION`, one transaction per step."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"{home / CATALOG_NAME} has schema version {current}, newer than this shopfloor "
            f"understands ({SCHEMA_VERSION}); upgrade shopfloor"
        )
    if current == SCHEMA_VERSION:
        return
    if read_only:
        raise StoreError(f"{home} needs a schema migration; open it writable once")
    for version in range(current, SCHEMA_VERSION):
        con.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                con.execute(statement)
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version + 1)]
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _read_holder(fh: IO[str]) -> dict[str, Any]:
    fh.seek(0)
    try:
        holder = json.loads(fh.read() or "{}")
    except json.JSONDecodeError:
        return {}
    return holder if isinstance(holder, dict) else {}


def acquire_writer_lock(
    home: Path,
    *,
    wait_s: float = 0.0,
    on_wait: Callable[[StoreBusyError], None] | None = None,
) -> IO[str]:
    """Take the one-writer lock of ``home``; the returned file holds it until closed.

    Parameters
    ----------
    wait_s:
        Seconds to wait for the current writer to finish before giving up (0: do not wait).
    on_wait:
        Called once, with the error naming the holder, when the lock is busy and we wait.

    Raises
    ------
    StoreBusyError
        The lock is still held after ``wait_s``; the message names the holder.
    """
    fh = (home / LOCK_NAME).open("a+", encoding="utf-8")
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            busy = StoreBusyError(home, _read_holder(fh))
            if time.monotonic() >= deadline:
                fh.close()
                raise busy from None
            if on_wait is not None and not told:
                on_wait(busy)
                told = True
            time.sleep(0.05)
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": now_iso(),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:3]) or "python",
    }
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps(holder))
    fh.flush()
    return fh


def release_writer_lock(fh: IO[str]) -> None:
    with contextlib.suppress(OSError):
        fh.seek(0)
        fh.truncate()
        fh.flush()
    fh.close()  # closing the descriptor releases the flock


def current_writer(home: Path) -> dict[str, Any] | None:
    """Who holds the writer lock now, or None (used by ``store info``)."""
    path = home / LOCK_NAME
    if not path.exists():
        return None
    with path.open("r", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fh) or {"pid": "?"}
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None
