"""The embedded store: one data directory, a SQLite catalog, Parquet recordings, stream segments.

Layout of the data directory (``SHOPFLOOR_HOME``)::

    catalog.sqlite                         metadata, labels, features, events, models, fleet
    writer.lock                            the one-writer lock and who holds it
    waveforms/asset=<id>/day=<YYYY-MM-DD>/<recording>-<write>.parquet   imported recordings
    streams/asset=<id>/day=<YYYY-MM-DD>/<segment>.seg                   live stream blocks
    models/<sha256>.model                  registered model files, named by their hash
    .staging/<write>/                      files of a write in progress

One writer, many readers (see :mod:`.catalog` for why, and ``docs/architecture.md`` for the
measurement): ``Store.open(home)`` takes the writer lock; ``Store.open(home, read_only=True)``
never waits and sees only committed data.

Writes are atomic. A :class:`WriteBatch` first writes every Parquet file under ``.staging``,
then, inside one catalog transaction, moves them to their final (never before used) names and
inserts the metadata that refers to them, and commits. A crash before the commit leaves only
files that no committed row refers to; they are removed the next time the store is opened
writable. Stream blocks are appended to a segment file and fsynced before the rows that refer
to them are committed; bytes past the last committed block are cut off on the next writable
open (:mod:`.streams`).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from uuid import uuid4

import pandas as pd
import pyarrow.parquet as pq

from shopfloor.core.assets import Asset
from shopfloor.core.errors import StoreError
from shopfloor.core.recording import Recording, RecordingData
from shopfloor.core.store import catalog, legacy
from shopfloor.core.store.batch import WriteBatch
from shopfloor.core.store.catalog import CATALOG_NAME, StoreBusyError
from shopfloor.core.store.event_log import EventLog
from shopfloor.core.store.fleet import FleetRecords
from shopfloor.core.store.io import describe_os_error
from shopfloor.core.store.live_records import LiveRecords
from shopfloor.core.store.maintenance import Maintenance
from shopfloor.core.store.registry import ModelRegistry
from shopfloor.core.store.scalars import Scalars
from shopfloor.core.store.streams import StreamSlice, to_ns

__all__ = ["Store", "StoreBusyError"]


class Store(Maintenance, EventLog, ModelRegistry, FleetRecords, LiveRecords, Scalars):
    """Handle on one data directory. Open with :meth:`open`, use as a context manager."""

    # ------------------------------------------------------------------ opening
    @staticmethod
    def exists(home: Path | str) -> bool:
        """Whether ``home`` holds a store (of this or an earlier shopfloor)."""
        home = Path(home).expanduser()
        return (home / CATALOG_NAME).exists() or (home / legacy.LEGACY_NAME).exists()

    @classmethod
    def open(
        cls,
        home: Path | str,
        *,
        read_only: bool = False,
        wait_s: float = 0.0,
        on_wait: Callable[[StoreBusyError], None] | None = None,
    ) -> Store:
        """Open (and if needed create and migrate) the store in ``home``.

        Parameters
        ----------
        read_only:
            Read without ever waiting for, or blocking, the writer.
        wait_s:
            Writable opens only: seconds to wait for another writer to finish (0: fail at once
            with :class:`StoreBusyError` naming it).
        on_wait:
            Called once with that error when we start waiting.

        Raises :class:`StoreError` naming the directory when it cannot be used.
        """
        home = Path(home).expanduser()
        lock: IO[str] | None = None
        if read_only:
            if not cls.exists(home):
                raise StoreError(f"no store in {home} (run 'shopfloor datasets prepare' first)")
            if legacy.needs_migration(home):
                raise StoreError(f"{home} needs a schema migration; open it writable once")
        else:
            probe = home / f".write-probe-{uuid4().hex}"
            try:
                home.mkdir(parents=True, exist_ok=True)
                probe.write_bytes(b"ok")
            except OSError as exc:
                raise StoreError(describe_os_error(exc, home)) from exc
            finally:
                with contextlib.suppress(OSError):
                    probe.unlink(missing_ok=True)
            lock = catalog.acquire_writer_lock(home, wait_s=wait_s, on_wait=on_wait)
        try:
            if lock is not None and legacy.needs_migration(home):
                legacy.migrate_duckdb_store(home)
            con = catalog.connect(home, read_only=read_only)
        except (sqlite3.Error, OSError) as exc:
            if lock is not None:
                catalog.release_writer_lock(lock)
            raise StoreError(f"cannot open {home / CATALOG_NAME}: {exc}") from exc
        except BaseException:
            if lock is not None:
                catalog.release_writer_lock(lock)
            raise
        store = cls(home, con, read_only, lock)
        try:
            catalog.migrate(con, home, read_only=read_only)
            if not read_only:
                store._recover_after_crash()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self._stop_compaction()
        self._close_segments()
        self._con.close()
        if self._lock is not None:
            catalog.release_writer_lock(self._lock)
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return catalog.schema_version(self._con)

    def _recover_after_crash(self) -> None:
        """Undo what a killed writer left: staged files, unreferenced files, uncommitted tails.

        The full orphan scan of ``waveforms/`` runs only when a write was interrupted (its
        staging folder is still there), so an ordinary open does not list every file.
        """
        staging = self.home / ".staging"
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
            self.remove_orphan_recording_files()
        self._truncate_uncommitted_tails()

    def remove_orphan_recording_files(self) -> list[Path]:
        """Delete Parquet files under ``waveforms/`` that no committed recording refers to."""
        self._require_writer()
        root = self.home / "waveforms"
        if not root.is_dir():
            return []
        referenced = {str(r[0]) for r in self._con.execute("SELECT path FROM recordings")}
        removed = []
        for path in root.rglob("*.parquet"):
            if str(path.relative_to(self.home)) not in referenced:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    # ------------------------------------------------------------------ writing
    @contextmanager
    def batch(self, dataset: str | None = None, *, replace: bool = False) -> Iterator[WriteBatch]:
        """All-or-nothing write. Commits when the block ends, discards everything on error.

        With ``replace=True`` everything previously stored for ``dataset`` is replaced.
        """
        self._require_writer()
        batch = WriteBatch(self.home, self._con, dataset, replace)
        try:
            yield batch
        except BaseException:
            batch.abort()
            raise
        batch.commit()

    # ------------------------------------------------------------------ reading
    def event_raw(self, event_id: str) -> dict[str, StreamSlice]:
        """The raw samples kept with an event: every stream of its asset, from the retention
        policy's ``event_before_s`` before its start to ``event_after_s`` after its end."""
        event = self.event(event_id)
        policy = self.retention()
        last = max(filter(None, [event.start, event.end, event.last_seen]))
        lo = to_ns(event.start) - round(policy.event_before_s * 1e9)
        hi = to_ns(last) + round(policy.event_after_s * 1e9)
        rows = self._con.execute(
            "SELECT channel_id FROM streams WHERE asset_id = ? ORDER BY channel_id",
            [event.asset_id],
        ).fetchall()
        return {str(c): self.read(event.asset_id, str(c), lo, hi) for (c,) in rows}

    def assets(self, dataset: str | None = None) -> list[Asset]:
        rows = self._query_docs("assets", dataset)
        return [Asset.model_validate_json(r) for r in rows]

    def asset(self, asset_id: str) -> Asset:
        row = self._con.execute("SELECT doc FROM assets WHERE id = ?", [asset_id]).fetchone()
        if row is None:
            raise KeyError(f"no asset {asset_id!r} in {self.home}")
        return Asset.model_validate_json(row[0])

    def has_asset(self, asset_id: str) -> bool:
        return (
            self._con.execute("SELECT 1 FROM assets WHERE id = ?", [asset_id]).fetchone()
            is not None
        )

    def asset_owner(self, asset_id: str) -> str | None:
        """The dataset an asset belongs to (None: imported data). KeyError when not stored."""
        row = self._con.execute("SELECT dataset FROM assets WHERE id = ?", [asset_id]).fetchone()
        if row is None:
            raise KeyError(f"no asset {asset_id!r} in {self.home}")
        return None if row[0] is None else str(row[0])

    def recording_owner(self, recording_id: str) -> tuple[str, str | None] | None:
        """``(asset_id, dataset)`` of a stored recording, or None when there is none."""
        row = self._con.execute(
            "SELECT asset_id, dataset FROM recordings WHERE id = ?", [recording_id]
        ).fetchone()
        return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))

    def recordings(
        self, *, dataset: str | None = None, asset_id: str | None = None
    ) -> list[Recording]:
        sql, params = "SELECT doc FROM recordings WHERE 1=1", list[str]()
        if dataset is not None:
            sql, params = sql + " AND dataset = ?", [*params, dataset]
        if asset_id is not None:
            sql, params = sql + " AND asset_id = ?", [*params, asset_id]
        rows = self._con.execute(sql + " ORDER BY id", params).fetchall()
        return [Recording.model_validate_json(r[0]) for r in rows]

    def recording(self, recording_id: str) -> Recording:
        row = self._con.execute(
            "SELECT doc FROM recordings WHERE id = ?", [recording_id]
        ).fetchone()
        if row is None:
            raise KeyError(f"no recording {recording_id!r} in {self.home}")
        return Recording.model_validate_json(row[0])

    def load(self, recording_id: str, *, columns: list[str] | None = None) -> RecordingData:
        """A recording with its samples, read back from Parquet (only ``columns`` if given)."""
        row = self._con.execute(
            "SELECT doc, path FROM recordings WHERE id = ?", [recording_id]
        ).fetchone()
        if row is None:
            raise KeyError(f"no recording {recording_id!r} in {self.home}")
        recording = Recording.model_validate_json(row[0])
        try:
            samples = pq.read_table(self.home / row[1], columns=columns).to_pandas()
        except OSError as exc:
            raise StoreError(f"recording {recording_id!r}: {self.home / row[1]}: {exc}") from exc
        return RecordingData(recording, samples)

    def datasets(self) -> pd.DataFrame:
        """Prepared datasets with counts and bytes on disk."""
        return self.sql("SELECT * FROM datasets ORDER BY name")

    def dataset_info(self, name: str) -> dict[str, Any] | None:
        df = self.sql("SELECT * FROM datasets WHERE name = ?", [name])
        return None if df.empty else dict(df.iloc[0])

    def sql(self, query: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query against the catalog (SQLite dialect; for reports and notebooks).

        The query cannot change anything: the connection is switched to query-only for it.
        """
        self._con.execute("PRAGMA query_only = ON")
        try:
            cur = self._con.execute(query, params or [])
            columns = [d[0] for d in cur.description or []]
            return pd.DataFrame(cur.fetchall(), columns=columns)
        except sqlite3.Error as exc:
            raise StoreError(f"query failed: {exc}") from exc
        finally:
            self._con.execute("PRAGMA query_only = OFF")

    def bytes_on_disk(self, dataset: str | None = None) -> int:
        """Bytes of one dataset's waveforms, or of the whole store when ``dataset`` is None.

        Files of a write in progress or abandoned (``.staging``) are not part of the store and
        are not counted.
        """
        if dataset is None:
            staging = self.home / ".staging"
            return sum(
                p.stat().st_size
                for p in self.home.rglob("*")
                if p.is_file() and staging not in p.parents
            )
        row = self._con.execute(
            "SELECT coalesce(sum(bytes), 0) FROM recordings WHERE dataset = ?", [dataset]
        ).fetchone()
        return int(row[0]) if row else 0

    def _query_docs(self, table: str, dataset: str | None) -> list[str]:
        if dataset is None:
            rows = self._con.execute(f"SELECT doc FROM {table} ORDER BY id").fetchall()
        else:
            rows = self._con.execute(
                f"SELECT doc FROM {table} WHERE dataset = ? ORDER BY id", [dataset]
            ).fetchall()
        return [r[0] for r in rows]
