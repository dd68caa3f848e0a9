"""The embedded store: one data directory with a DuckDB database and Parquet waveforms.

Layout of the data directory (``SHOPFLOOR_HOME``)::

    shopfloor.duckdb                       metadata, labels, features, events, models
    waveforms/asset=<id>/day=<YYYY-MM-DD>/<recording>-<write>.parquet
    models/                                saved models with their version records
    .staging/<write>/                      files of a write in progress

Writes are atomic. A :class:`WriteBatch` first writes every Parquet file under ``.staging``,
then, inside one database transaction, moves them to their final (never before used) names and
inserts the metadata that refers to them, and commits. A crash before the commit leaves only
files that no committed row refers to; they are removed the next time the store is opened. A
replaced dataset's old files are removed only after the commit that stops referring to them.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import uuid4

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from pydantic import TypeAdapter

from shopfloor.core.assets import Asset
from shopfloor.core.errors import StoreError
from shopfloor.core.events import Event
from shopfloor.core.recording import Recording, RecordingData
from shopfloor.core.store.batch import WriteBatch
from shopfloor.core.store.io import describe_os_error, executemany
from shopfloor.core.store.schema import MIGRATIONS, SCHEMA_VERSION

DB_NAME = "shopfloor.duckdb"
_EVENT_LIST = TypeAdapter(list[Event])


class Store:
    """Handle on one data directory. Open with :meth:`open`, use as a context manager."""

    def __init__(self, home: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.home = home
        self._con = con
        self.read_only = read_only

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, home: Path | str, *, read_only: bool = False) -> Store:
        """Open (and if needed create and migrate) the store in ``home``.

        Raises :class:`StoreError` naming the directory when it cannot be used.
        """
        home = Path(home).expanduser()
        db = home / DB_NAME
        if read_only:
            if not db.exists():
                raise StoreError(f"no store in {home} (run 'shopfloor datasets prepare' first)")
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
        try:
            con = duckdb.connect(str(db), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"cannot open {db}: {exc}") from exc
        store = cls(home, con, read_only)
        try:
            store._migrate()
            if not read_only:
                store._collect_garbage()
        except BaseException:
            con.close()
            raise
        return store

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        row = self._con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        has_meta = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchone()
        current = self.schema_version if has_meta and has_meta[0] else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.home / DB_NAME} has schema version {current}, newer than this shopfloor "
                f"understands ({SCHEMA_VERSION}); upgrade shopfloor"
            )
        if current == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(f"{self.home} needs a schema migration; open it writable once")
        for version in range(current, SCHEMA_VERSION):
            self._con.begin()
            try:
                for statement in MIGRATIONS[version]:
                    self._con.execute(statement)
                self._con.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version + 1)]
                )
                self._con.commit()
            except BaseException:
                self._con.rollback()
                raise

    def _collect_garbage(self) -> None:
        """Remove files of writes that never committed, and of replaced recordings."""
        shutil.rmtree(self.home / ".staging", ignore_errors=True)
        root = self.home / "waveforms"
        if not root.is_dir():
            return
        referenced = {
            str(r[0]) for r in self._con.execute("SELECT path FROM recordings").fetchall()
        }
        for path in root.rglob("*.parquet"):
            if str(path.relative_to(self.home)) not in referenced:
                path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ writing
    @contextmanager
    def batch(self, dataset: str | None = None, *, replace: bool = False) -> Iterator[WriteBatch]:
        """All-or-nothing write. Commits when the block ends, discards everything on error.

        With ``replace=True`` everything previously stored for ``dataset`` is replaced.
        """
        if self.read_only:
            raise StoreError(f"store {self.home} was opened read-only")
        batch = WriteBatch(self, dataset, replace)
        try:
            yield batch
        except BaseException:
            batch.abort()
            raise
        batch.commit()

    def add_events(self, events: list[Event]) -> None:
        """Store events atomically."""
        rows = [
            (
                e.id,
                e.asset_id,
                e.kind.value,
                e.start,
                e.end,
                e.severity.value,
                e.summary,
                json.dumps(e.evidence, default=str),
                e.source,
                e.created,
            )
            for e in events
        ]
        self._con.begin()
        try:
            executemany(self._con, "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._con.commit()
        except BaseException:
            self._con.rollback()
            raise

    # ------------------------------------------------------------------ reading
    def assets(self, dataset: str | None = None) -> list[Asset]:
        rows = self._query_docs("assets", dataset)
        return [Asset.model_validate_json(r) for r in rows]

    def asset(self, asset_id: str) -> Asset:
        row = self._con.execute("SELECT doc FROM assets WHERE id = ?", [asset_id]).fetchone()
        if row is None:
            raise KeyError(f"no asset {asset_id!r} in {self.home}")
        return Asset.model_validate_json(row[0])

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

    def load(self, recording_id: str) -> RecordingData:
        """A recording with its samples, read back from Parquet."""
        row = self._con.execute(
            "SELECT doc, path FROM recordings WHERE id = ?", [recording_id]
        ).fetchone()
        if row is None:
            raise KeyError(f"no recording {recording_id!r} in {self.home}")
        recording = Recording.model_validate_json(row[0])
        samples = pq.read_table(self.home / row[1]).to_pandas()
        return RecordingData(recording, samples)

    def datasets(self) -> pd.DataFrame:
        """Prepared datasets with counts and bytes on disk."""
        return self._con.execute("SELECT * FROM datasets ORDER BY name").df()

    def dataset_info(self, name: str) -> dict[str, Any] | None:
        df = self._con.execute("SELECT * FROM datasets WHERE name = ?", [name]).df()
        return None if df.empty else dict(df.iloc[0])

    def events(self, *, asset_id: str | None = None) -> list[Event]:
        sql, params = "SELECT * FROM events", []
        if asset_id is not None:
            sql, params = sql + " WHERE asset_id = ?", [asset_id]
        df = self._con.execute(sql + " ORDER BY start", params).df()
        records = [
            {
                **r,
                "evidence": json.loads(r["evidence"]),
                "end": None if pd.isna(r["end"]) else r["end"],
            }
            for r in df.to_dict("records")
        ]
        return _EVENT_LIST.validate_python(records)

    def sql(self, query: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query against the store's database (for reports and notebooks)."""
        return self._con.execute(query, params or []).df()

    def bytes_on_disk(self, dataset: str | None = None) -> int:
        """Waveform bytes of one dataset, or the whole data directory when ``dataset`` is None."""
        if dataset is None:
            return sum(p.stat().st_size for p in self.home.rglob("*") if p.is_file())
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
