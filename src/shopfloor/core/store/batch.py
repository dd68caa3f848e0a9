"""All-or-nothing writes to the store: see :class:`WriteBatch` and ``store.py``'s docstring."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pyarrow as pa
import pyarrow.parquet as pq

from shopfloor.core.assets import Asset
from shopfloor.core.errors import StoreError
from shopfloor.core.recording import Recording, RecordingData
from shopfloor.core.store.io import describe_os_error, executemany, file_sha256, upsert_channels


class WriteBatch:
    """Collects assets and recordings; see :meth:`Store.batch` and ``store.py``'s docstring.

    It is given the catalog connection and the data directory, not the store, so the store
    module can import this one without a circle.
    """

    def __init__(
        self, home: Path, con: sqlite3.Connection, dataset: str | None, replace: bool
    ) -> None:
        self._home = home
        self._con = con
        self.dataset = dataset
        self.replace = replace
        self.write_id = uuid4().hex[:12]
        self._staging = home / ".staging" / self.write_id
        self._assets: dict[str, Asset] = {}
        self._recordings: list[tuple[Recording, Path, str, int]] = []
        self._sha256: dict[str, str] = {}
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
        if rec.asset_id not in self._assets and not self._stored_asset(rec.asset_id):
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
            raise StoreError(describe_os_error(exc, self._home)) from exc
        # The hash lets 'store check' prove the file is the one committed (read from the page
        # cache just written, so it costs little next to writing it).
        self._sha256[str(rel)] = file_sha256(staged)
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
        con, home = self._con, self._home
        moved: list[Path] = []
        old_paths: list[str] = []
        con.execute("BEGIN IMMEDIATE")
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
            con.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            for path in moved:
                path.unlink(missing_ok=True)
            shutil.rmtree(self._staging, ignore_errors=True)
            if isinstance(exc, OSError):
                raise StoreError(describe_os_error(exc, home)) from exc
            if isinstance(exc, sqlite3.OperationalError):
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
    def _delete_dataset(con: sqlite3.Connection, name: str) -> None:
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

    def _stored_asset(self, asset_id: str) -> bool:
        row = self._con.execute("SELECT 1 FROM assets WHERE id = ?", [asset_id]).fetchone()
        return row is not None

    def _insert_assets(self, con: sqlite3.Connection) -> None:
        assets = list(self._assets.values())
        if not assets:
            return
        for a in assets:
            row = con.execute("SELECT dataset FROM assets WHERE id = ?", [a.id]).fetchone()
            if row is not None and row[0] != self.dataset:
                raise StoreError(f"asset {a.id!r} already belongs to {row[0] or 'imported data'!r}")
        executemany(
            con,
            "INSERT INTO assets (id, kind, criticality, dataset, doc) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
            "criticality = excluded.criticality, dataset = excluded.dataset, doc = excluded.doc",
            [
                (a.id, a.kind.value, a.criticality.value, self.dataset, a.model_dump_json())
                for a in assets
            ],
        )
        upsert_channels(con, assets)

    def _remove_recordings(self, con: sqlite3.Connection) -> list[str]:
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
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", [rid])
            paths.append(str(rows[0][0]))
        return paths

    def _check_new_recordings(self, con: sqlite3.Connection) -> None:
        seen: set[str] = set()
        for rec, *_ in self._recordings:
            if rec.id in seen:
                raise StoreError(f"recording {rec.id!r} appears twice in one write")
            seen.add(rec.id)
            row = con.execute("SELECT dataset FROM recordings WHERE id = ?", [rec.id]).fetchone()
            if row is not None:
                raise StoreError(
                    f"recording {rec.id!r} is already stored (dataset {row[0]!r}); "
                    "use replace to overwrite it"
                )

    def _insert_recordings(self, con: sqlite3.Connection) -> None:
        executemany(
            con,
            "INSERT INTO recordings (id, asset_id, dataset, n_samples, time_base, "
            "sample_rate_hz, start, path, bytes, doc, sha256) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id,
                    r.asset_id,
                    r.dataset,
                    r.n_samples,
                    r.time_base.kind.value,
                    r.time_base.sample_rate_hz,
                    _utc_text(r.time_base.start),
                    rel,
                    size,
                    r.model_dump_json(),
                    self._sha256[rel],
                )
                for r, _, rel, size in self._recordings
            ],
        )
        executemany(
            con,
            "INSERT INTO labels (recording_id, kind, location, doc) VALUES (?, ?, ?, ?)",
            [
                (r.id, lab.kind, getattr(lab, "location", None), lab.model_dump_json())
                for r, *_ in self._recordings
                for lab in r.labels
            ],
        )

    def _insert_dataset_row(self, con: sqlite3.Connection) -> None:
        assert self._dataset_row is not None
        assert self.dataset is not None
        counts = con.execute(
            "SELECT count(DISTINCT asset_id), count(*), coalesce(sum(bytes), 0) "
            "FROM recordings WHERE dataset = ?",
            [self.dataset],
        ).fetchone()
        prepared = datetime.now(UTC).isoformat()
        assert counts is not None
        con.execute("DELETE FROM datasets WHERE name = ?", [self.dataset])
        con.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.dataset,
                self._dataset_row["version"],
                self._dataset_row["source"],
                prepared,
                counts[0],
                counts[1],
                counts[2],
                json.dumps(self._dataset_row["checksums"]),
            ],
        )


def _utc_text(when: datetime | None) -> str | None:
    """ISO text in UTC, so that text order is time order in the catalog."""
    if when is None:
        return None
    if when.tzinfo is None:
        return when.isoformat()
    return when.astimezone(UTC).isoformat()
