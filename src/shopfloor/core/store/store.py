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
import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import uuid4

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import TypeAdapter

from shopfloor.core.assets import Asset
from shopfloor.core.errors import StoreError
from shopfloor.core.events import Event
from shopfloor.core.recording import Recording, RecordingData
from shopfloor.core.store.schema import MIGRATIONS, SCHEMA_VERSION

DB_NAME = "shopfloor.duckdb"
_EVENT_LIST = TypeAdapter(list[Event])


def _executemany(con: duckdb.DuckDBPyConnection, sql: str, rows: list[Any]) -> None:
    # DuckDB refuses an empty parameter list; nothing to insert is not an error for us.
    if rows:
        con.executemany(sql, rows)


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Bulk insert: one statement for many rows (executemany is row by row in DuckDB)."""
    if frame.empty:
        return
    con.register("_incoming", frame)
    try:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        con.unregister("_incoming")


def _describe_os_error(exc: OSError, home: Path) -> str:
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"data directory {home} is full ({exc.strerror}); nothing was changed"
    if exc.errno == errno.EFBIG:
        return f"data directory {home}: file size limit reached ({exc.strerror}); nothing changed"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"data directory {home} is not writable ({exc.strerror}); set SHOPFLOOR_HOME"
    return f"data directory {home}: {exc}"


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
                raise StoreError(_describe_os_error(exc, home)) from exc
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
            _executemany(
                self._con, "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
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


class WriteBatch:
    """Collects assets and recordings; see :meth:`Store.batch` and the module docstring."""

    def __init__(self, store: Store, dataset: str | None, replace: bool) -> None:
        self._store = store
        self.dataset = dataset
        self.replace = replace
        self.write_id = uuid4().hex[:12]
        self._staging = store.home / ".staging" / self.write_id
        self._assets: dict[str, Asset] = {}
        self._recordings: list[tuple[Recording, Path, str, int]] = []
        self._dataset_row: dict[str, Any] | None = None
        self._removals: list[str] = []
        self._done = False

    def add_asset(self, asset: Asset) -> None:
        self._assets[asset.id] = asset

    def add_recording(self, data: RecordingData) -> None:
        """Write the samples to staging now (keeps memory flat); metadata waits for commit."""
        rec = data.recording
        if self.dataset is not None and rec.dataset is None:
            rec = rec.model_copy(update={"dataset": self.dataset})
        if rec.asset_id not in self._assets:
            raise ValueError(f"recording {rec.id!r}: add asset {rec.asset_id!r} first")
        day = rec.time_base.start.date().isoformat() if rec.time_base.start else "undated"
        rel = (
            Path("waveforms")
            / f"asset={rec.asset_id}"
            / f"day={day}"
            / (f"{rec.id}-{self.write_id}.parquet")
        )
        staged = self._staging / rel.name
        try:
            staged.parent.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pandas(data.samples, preserve_index=False)
            pq.write_table(table, staged, compression="zstd")
            with staged.open("rb") as fh:
                os.fsync(fh.fileno())
        except OSError as exc:
            raise StoreError(_describe_os_error(exc, self._store.home)) from exc
        self._recordings.append((rec, staged, str(rel), staged.stat().st_size))

    def remove_recording(self, recording_id: str) -> None:
        """Remove a stored recording in this write (e.g. to replace one import).

        Applied inside the commit's transaction, before new recordings are checked, so removing
        and re-adding the same id is one all-or-nothing step. Only recordings of this batch's
        dataset (``None``: imported data) can be removed; its file goes after the commit.
        """
        self._removals.append(recording_id)

    def set_dataset(
        self, *, version: str, source: str, checksums: dict[str, str] | None = None
    ) -> None:
        self._dataset_row = {"version": version, "source": source, "checksums": checksums or {}}

    def abort(self) -> None:
        self._done = True
        shutil.rmtree(self._staging, ignore_errors=True)

    def commit(self, progress: Callable[[int, int], None] | None = None) -> None:
        if self._done:
            return
        self._done = True
        con, home = self._store._con, self._store.home
        moved: list[Path] = []
        old_paths: list[str] = []
        con.begin()
        try:
            if self.replace and self.dataset is not None:
                old_paths = [
                    r[0]
                    for r in con.execute(
                        "SELECT path FROM recordings WHERE dataset = ?", [self.dataset]
                    ).fetchall()
                ]
                self._delete_dataset(con, self.dataset)
            old_paths += self._remove_recordings(con)
            self._insert_assets(con)
            self._check_new_recordings(con)
            for i, (_, staged, rel, _) in enumerate(self._recordings):
                final = home / rel
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, final)
                moved.append(final)
                if progress is not None:
                    progress(i + 1, len(self._recordings))
            self._insert_recordings(con)
            if self.dataset is not None and self._dataset_row is not None:
                self._insert_dataset_row(con)
            con.commit()
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            for path in moved:
                path.unlink(missing_ok=True)
            shutil.rmtree(self._staging, ignore_errors=True)
            if isinstance(exc, OSError):
                raise StoreError(_describe_os_error(exc, home)) from exc
            if isinstance(exc, duckdb.IOException):
                raise StoreError(
                    f"data directory {home}: database write failed ({exc}); "
                    "the previous data is unchanged"
                ) from exc
            raise
        shutil.rmtree(self._staging, ignore_errors=True)
        for rel_old in old_paths:
            (home / rel_old).unlink(missing_ok=True)

    # -- helpers, all inside the open transaction
    @staticmethod
    def _delete_dataset(con: duckdb.DuckDBPyConnection, name: str) -> None:
        con.execute(
            "DELETE FROM labels WHERE recording_id IN "
            "(SELECT id FROM recordings WHERE dataset = ?)",
            [name],
        )
        con.execute(
            "DELETE FROM features WHERE recording_id IN "
            "(SELECT id FROM recordings WHERE dataset = ?)",
            [name],
        )
        con.execute("DELETE FROM recordings WHERE dataset = ?", [name])
        con.execute(
            "DELETE FROM channels WHERE asset_id IN (SELECT id FROM assets WHERE dataset = ?)",
            [name],
        )
        con.execute("DELETE FROM assets WHERE dataset = ?", [name])
        con.execute("DELETE FROM datasets WHERE name = ?", [name])

    def _insert_assets(self, con: duckdb.DuckDBPyConnection) -> None:
        assets = list(self._assets.values())
        if not assets:
            return
        con.register("_ids", pd.DataFrame({"id": [a.id for a in assets]}))
        owners = con.execute("SELECT a.id, a.dataset FROM assets a JOIN _ids USING (id)").fetchall()
        for asset_id, owner in owners:
            if owner != self.dataset:
                raise StoreError(
                    f"asset {asset_id!r} already belongs to {owner or 'imported data'!r}"
                )
        con.execute("DELETE FROM channels WHERE asset_id IN (SELECT id FROM _ids)")
        con.execute("DELETE FROM assets WHERE id IN (SELECT id FROM _ids)")
        con.unregister("_ids")
        _insert_frame(
            con,
            "assets",
            pd.DataFrame(
                {
                    "id": [a.id for a in assets],
                    "kind": [a.kind.value for a in assets],
                    "criticality": [a.criticality.value for a in assets],
                    "dataset": [self.dataset] * len(assets),
                    "doc": [a.model_dump_json() for a in assets],
                }
            ),
        )
        channels = [(a.id, c) for a in assets for c in a.channels]
        _insert_frame(
            con,
            "channels",
            pd.DataFrame(
                {
                    "asset_id": [a for a, _ in channels],
                    "id": [c.id for _, c in channels],
                    "quantity": [c.quantity.value for _, c in channels],
                    "unit": [c.unit for _, c in channels],
                    "sample_rate_hz": pd.array(
                        [c.sample_rate_hz for _, c in channels], dtype="Float64"
                    ),
                }
            ),
        )

    def _remove_recordings(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        paths = []
        for rid in self._removals:
            rows = con.execute(
                "SELECT path FROM recordings WHERE id = ? AND dataset IS NOT DISTINCT FROM ?",
                [rid, self.dataset],
            ).fetchall()
            if not rows:
                raise StoreError(
                    f"cannot remove recording {rid!r}: not stored in "
                    f"{self.dataset or 'imported data'!r}"
                )
            for table, column in (
                ("labels", "recording_id"),
                ("features", "recording_id"),
                ("recordings", "id"),
            ):
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", [rid]).fetchall()
            paths.append(str(rows[0][0]))
        return paths

    def _check_new_recordings(self, con: duckdb.DuckDBPyConnection) -> None:
        ids = pd.DataFrame({"id": [rec.id for rec, *_ in self._recordings]})
        if ids["id"].duplicated().any():
            dupe = ids["id"][ids["id"].duplicated()].iloc[0]
            raise StoreError(f"recording {dupe!r} appears twice in one write")
        con.register("_ids", ids)
        rows = con.execute(
            "SELECT r.id, r.dataset FROM recordings r JOIN _ids USING (id) LIMIT 1"
        ).fetchall()
        con.unregister("_ids")
        row = rows[0] if rows else None
        if row is not None:
            raise StoreError(
                f"recording {row[0]!r} is already stored (dataset {row[1]!r}); "
                "use replace to overwrite it"
            )

    def _insert_recordings(self, con: duckdb.DuckDBPyConnection) -> None:
        recs = self._recordings
        if not recs:
            return
        _insert_frame(
            con,
            "recordings",
            pd.DataFrame(
                {
                    "id": [r.id for r, *_ in recs],
                    "asset_id": [r.asset_id for r, *_ in recs],
                    "dataset": [r.dataset for r, *_ in recs],
                    "n_samples": [r.n_samples for r, *_ in recs],
                    "time_base": [r.time_base.kind.value for r, *_ in recs],
                    "sample_rate_hz": pd.array(
                        [r.time_base.sample_rate_hz for r, *_ in recs], dtype="Float64"
                    ),
                    "start": pd.to_datetime(
                        pd.Series([r.time_base.start for r, *_ in recs], dtype=object), utc=True
                    ),
                    "path": [rel for _, _, rel, _ in recs],
                    "bytes": [size for *_, size in recs],
                    "doc": [r.model_dump_json() for r, *_ in recs],
                }
            ),
        )
        labels = [(r.id, lab) for r, *_ in recs for lab in r.labels]
        _insert_frame(
            con,
            "labels",
            pd.DataFrame(
                {
                    "recording_id": [rid for rid, _ in labels],
                    "kind": [lab.kind for _, lab in labels],
                    "location": [getattr(lab, "location", None) for _, lab in labels],
                    "doc": [lab.model_dump_json() for _, lab in labels],
                },
                dtype=object,
            ),
        )

    def _insert_dataset_row(self, con: duckdb.DuckDBPyConnection) -> None:
        assert self._dataset_row is not None
        assert self.dataset is not None
        counts = con.execute(
            "SELECT count(DISTINCT asset_id), count(*), coalesce(sum(bytes), 0) "
            "FROM recordings WHERE dataset = ?",
            [self.dataset],
        ).fetchone()
        assert counts is not None
        con.execute("DELETE FROM datasets WHERE name = ?", [self.dataset])
        con.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.dataset,
                self._dataset_row["version"],
                self._dataset_row["source"],
                datetime.now(UTC),
                counts[0],
                counts[1],
                counts[2],
                json.dumps(self._dataset_row["checksums"]),
            ],
        )
