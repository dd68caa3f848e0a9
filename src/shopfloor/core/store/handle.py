"""What every part of the store shares: the data directory, the catalog, and transactions."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from shopfloor.core.errors import StoreError


class StoreHandle:
    """Base of :class:`~shopfloor.core.store.Store`; its mixins build on these members."""

    def __init__(
        self, home: Path, con: sqlite3.Connection, read_only: bool, lock: IO[str] | None
    ) -> None:
        self.home = home
        self._con = con
        self.read_only = read_only
        self._lock = lock

    def _require_writer(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.home} was opened read-only")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing write to the catalog (readers keep seeing the previous state)."""
        self._require_writer()
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")
