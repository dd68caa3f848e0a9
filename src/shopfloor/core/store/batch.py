"""All-or-nothing writes to the store: see :class:`WriteBatch` and ``store.py``'s docstring."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from shopfloor.core.assets import Asset
from shopfloor.core.errors import StoreError
from shopfloor.core.recording import Recording, RecordingData
from shopfloor.core.store.io import describe_os_error, insert_frame

if TYPE_CHECKING:
    from shopfloor.core.store.store import Store


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
            raise StoreError(describe_os_error(exc, self._store.home)) from exc
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
                raise StoreError(describe_os_error(exc, home)) from exc
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
        insert_frame(
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
        insert_frame(
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
        insert_frame(
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
        insert_frame(
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
