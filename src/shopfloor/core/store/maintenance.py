"""Looking after a store: what is in it, is it whole, compaction and retention, backups.

Compaction rewrites a sealed segment whose blocks have all left the raw ring buffer: it keeps
only what the retention policy protects (snapshots, raw around events), cuts blocks to those
intervals, merges neighbouring pieces into chunks of up to ``CHUNK_S`` seconds and compresses
them losslessly. Like every write it is atomic: the new file is written under ``.staging``,
fsynced and renamed to a new name; one catalog transaction swaps the block rows over; only then
is the old file deleted. A reader that looked up the old rows just before the swap and finds
the file gone looks them up again (:meth:`Streams.read`).

A backup needs no writer lock: it copies the catalog with SQLite's online backup (a consistent
snapshot even while the writer commits), then every file that snapshot refers to. Segment files
are copied only up to the length the snapshot committed, so blocks appended meanwhile (which the
copied catalog does not know) are not half-copied.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow.parquet as pq

from shopfloor.core.errors import StoreError
from shopfloor.core.store.catalog import (
    CATALOG_NAME,
    connect,
    current_writer,
    now_iso,
    schema_version,
)
from shopfloor.core.store.codecs import COMPACT_CODEC, codec
from shopfloor.core.store.io import executemany, file_sha256
from shopfloor.core.store.retention import NS, RetentionPolicy, merge
from shopfloor.core.store.streams import Streams, to_ns

CHUNK_S = 10.0
"""Longest compacted chunk, seconds: a read of the last seconds decodes at most this much more."""
_AREAS = ("waveforms", "streams", "models")


@dataclass
class CheckReport:
    """Problems (referenced data missing or damaged) and orphans (files nothing refers to)."""

    problems: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    checked_files: int = 0

    @property
    def clean(self) -> bool:
        return not self.problems and not self.orphans


@dataclass
class GcReport:
    removed_files: list[str] = field(default_factory=list)
    segments_compacted: int = 0
    bytes_before: int = 0
    bytes_after: int = 0


class Maintenance(Streams):
    """``store info|check|gc|backup`` as methods (mixed into :class:`Store`)."""

    def __init__(
        self, home: Path, con: sqlite3.Connection, read_only: bool, lock: IO[str] | None
    ) -> None:
        super().__init__(home, con, read_only, lock)
        self._compactor: tuple[threading.Event, threading.Thread] | None = None
        self.compaction_error: Exception | None = None

    # ------------------------------------------------------------------ info
    def info(self) -> dict[str, Any]:
        """Everything ``shopfloor store info`` shows, as plain data."""
        q = self._con.execute

        def count(sql: str) -> int:
            return int(q(sql).fetchone()[0])

        areas = {a: _tree_bytes(self.home / a) for a in _AREAS}
        catalog_bytes = sum(
            p.stat().st_size for p in self.home.glob(CATALOG_NAME + "*") if p.is_file()
        )
        return {
            "home": str(self.home),
            "schema_version": schema_version(self._con),
            "writer": current_writer(self.home),
            "assets": [
                {"id": r[0], "kind": r[1], "dataset": r[2], "line_id": r[3]}
                for r in q("SELECT id, kind, dataset, line_id FROM assets ORDER BY id")
            ],
            "datasets": [
                {"name": r[0], "version": r[1], "recordings": r[2], "bytes": r[3]}
                for r in q("SELECT name, version, n_recordings, bytes FROM datasets ORDER BY name")
            ],
            "recordings": count("SELECT count(*) FROM recordings"),
            "recordings_by_asset": {
                r[0]: r[1] for r in q("SELECT asset_id, count(*) FROM recordings GROUP BY asset_id")
            },
            "streams": self.streams(),
            "segments": {
                r[0]: r[1] for r in q("SELECT state, count(*) FROM segments GROUP BY state")
            },
            "events": {
                r[0]: r[1] for r in q("SELECT status, count(*) FROM events GROUP BY status")
            },
            "window_results": count("SELECT count(*) FROM window_results"),
            "dead_letters": count("SELECT count(*) FROM dead_letters"),
            "scalar_readings": count("SELECT count(*) FROM scalars"),
            "models": [
                {"id": m["id"], "name": m["name"], "created_by": m["created_by"]}
                for m in self.models_summary()
            ],
            "retention": self.retention().model_dump(),
            "bytes": {
                **areas,
                "catalog": catalog_bytes,
                "total": sum(areas.values()) + catalog_bytes,
            },
            "staging_bytes": _tree_bytes(self.home / ".staging"),
        }

    def models_summary(self) -> list[dict[str, Any]]:
        rows = self._con.execute("SELECT id, name, created_by FROM models ORDER BY created")
        return [dict(zip(("id", "name", "created_by"), r, strict=True)) for r in rows]

    # ------------------------------------------------------------------ check
    def check(self) -> CheckReport:
        """Verify every referenced file exists and is whole; list files nothing refers to."""
        report = CheckReport()
        referenced: set[str] = set()
        for rid, rel, n, sha in self._con.execute(
            "SELECT id, path, n_samples, sha256 FROM recordings"
        ).fetchall():
            referenced.add(rel)
            report.checked_files += 1
            path = self.home / rel
            if sha is not None and path.exists() and file_sha256(path) != sha:
                report.problems.append(f"recording {rid!r}: {path} does not match its sha256")
                continue
            try:
                rows = pq.ParquetFile(self.home / rel).metadata.num_rows
            except (OSError, ValueError) as exc:
                report.problems.append(f"recording {rid!r}: {self.home / rel}: {exc}")
                continue
            if n is not None and rows != n:
                report.problems.append(
                    f"recording {rid!r}: {self.home / rel} has {rows} rows, catalog says {n}"
                )
        for mid, rel, sha in self._con.execute("SELECT id, path, sha256 FROM models"):
            if rel is None:
                continue
            referenced.add(rel)
            report.checked_files += 1
            path = self.home / rel
            if not path.exists():
                report.problems.append(f"model {mid!r}: {path} is missing")
            elif sha is not None and file_sha256(path) != sha:
                report.problems.append(f"model {mid!r}: {path} does not match its sha256")
        for seg_id, rel, size, sha in self._con.execute(
            "SELECT id, path, bytes, sha256 FROM segments"
        ).fetchall():
            referenced.add(rel)
            report.checked_files += 1
            report.problems.extend(self._check_segment(int(seg_id), self.home / rel, size, sha))
        for area in _AREAS:
            root = self.home / area
            if root.is_dir():
                for path in root.rglob("*"):
                    if path.is_file() and str(path.relative_to(self.home)) not in referenced:
                        report.orphans.append(str(path))
        staging = self.home / ".staging"
        if staging.is_dir() and any(staging.iterdir()) and current_writer(self.home) is None:
            report.orphans.append(f"{staging} (left by an interrupted write)")
        return report

    def _check_segment(self, seg_id: int, path: Path, size: int, sha: str | None) -> list[str]:
        if not path.exists():
            return [f"segment {path} is missing"]
        if path.stat().st_size < size:
            return [
                f"segment {path} is shorter ({path.stat().st_size} B) than committed ({size} B)"
            ]
        if sha is not None:
            return [] if file_sha256(path) == sha else [f"segment {path} does not match its sha256"]
        problems = []
        with path.open("rb") as fh:
            for seq, stream, offset, length, crc in self._con.execute(
                "SELECT seq_lo, stream_id, offset, length, crc32 FROM blocks WHERE segment_id = ?",
                [seg_id],
            ):
                fh.seek(offset)
                if zlib.crc32(fh.read(length)) != crc:
                    problems.append(f"segment {path}: block seq {seq} of {stream} is damaged")
        return problems

    # ------------------------------------------------------------------ gc and compaction
    def gc(self, *, now: datetime | None = None) -> GcReport:
        """Compact segments out of the ring buffer, apply retention, delete orphans."""
        self._require_writer()
        report = GcReport(bytes_before=_tree_bytes(self.home))
        now_ns = to_ns(now or datetime.now(UTC))
        report.segments_compacted = self.compact(now=now_ns)
        shutil.rmtree(self.home / ".staging", ignore_errors=True)
        for orphan in self.check().orphans:
            path = Path(orphan.split(" (")[0])
            if path.is_file():
                path.unlink(missing_ok=True)
                report.removed_files.append(str(path))
        report.bytes_after = _tree_bytes(self.home)
        return report

    def compact(self, *, now: datetime | int | None = None, seal: bool = True) -> int:
        """Compact every segment whose blocks have all left the ring buffer; returns how many.

        With ``seal`` (the default, for ``store gc`` and a writer between appends), open
        segments of past days and open ones whose stream went quiet are sealed first. The
        background compactor passes ``seal=False``: it only touches what the writer sealed.
        """
        self._require_writer()
        now_ns = to_ns(now if now is not None else datetime.now(UTC))
        policy = self.retention()
        horizon = now_ns - round(policy.ring_minutes * 60 * NS)
        today = datetime.fromtimestamp(now_ns / NS, tz=UTC).date().isoformat()
        for (seg_id,) in self._con.execute(
            "SELECT id FROM segments s WHERE state = 'open' AND (day < ? OR "
            "(SELECT max(t1_ns) FROM blocks b WHERE b.segment_id = s.id) <= ?)",
            [today, horizon],
        ).fetchall():
            if seal:
                self.seal_segment(int(seg_id))
        done = 0
        for seg_id, newest in self._con.execute(
            "SELECT s.id, (SELECT max(t1_ns) FROM blocks b WHERE b.segment_id = s.id) "
            "FROM segments s WHERE s.state = 'sealed'"
        ).fetchall():
            if newest is None or newest <= horizon:
                self._compact_segment(int(seg_id), policy)
                done += 1
        return done

    def start_background_compaction(self, every_s: float = 60.0) -> None:
        """Compact sealed segments on a thread of this writer process, every ``every_s``.

        The thread has its own catalog connection; its short transactions wait for the
        appender's (SQLite allows one write transaction at a time), and it never touches a
        segment that is still being appended to. Stopped by :meth:`close`; a failure is kept
        in :attr:`compaction_error` and retried next time.
        """
        self._require_writer()
        if self._compactor is not None:
            return
        sibling = type(self)(self.home, connect(self.home, read_only=False), False, None)
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every_s):
                try:
                    sibling.compact(seal=False)
                    self.compaction_error = None
                except Exception as exc:  # kept for the writer to see; never kills it
                    self.compaction_error = exc
            sibling._con.close()

        thread = threading.Thread(target=loop, name="store-compaction", daemon=True)
        thread.start()
        self._compactor = (stop, thread)

    def _stop_compaction(self) -> None:
        if self._compactor is not None:
            stop, thread = self._compactor
            stop.set()
            thread.join()
            self._compactor = None

    def _kept(
        self, asset_id: str, lo: int, hi: int, policy: RetentionPolicy
    ) -> list[tuple[int, int]]:
        keep = policy.snapshot_windows(lo, hi)
        for start, end, last in self._con.execute(
            'SELECT start, "end", last_seen FROM events WHERE asset_id = ?', [asset_id]
        ).fetchall():
            t0 = to_ns(datetime.fromisoformat(start))
            t1 = to_ns(datetime.fromisoformat(end or last or start))
            a = t0 - round(policy.event_before_s * NS)
            b = max(t0, t1) + round(policy.event_after_s * NS)
            if b > lo and a < hi:
                keep.append((a, b))
        return merge(keep)

    def _compact_segment(self, seg_id: int, policy: RetentionPolicy) -> None:
        asset_id, day, rel = self._con.execute(
            "SELECT asset_id, day, path FROM segments WHERE id = ?", [seg_id]
        ).fetchone()
        rows = self._con.execute(
            "SELECT b.stream_id, b.seq_lo, b.seq_hi, b.t0_ns, b.n, b.offset, b.length, b.crc32, "
            "b.codec, b.scale, s.sample_rate_hz FROM blocks b JOIN streams s ON s.id = b.stream_id "
            "WHERE b.segment_id = ? ORDER BY b.stream_id, b.t0_ns",
            [seg_id],
        ).fetchall()
        old = self.home / rel
        new_rel = Path(rel).with_name(f"{os.urandom(6).hex()}.seg")
        staged = self.home / ".staging" / f"compact-{seg_id}.seg"
        staged.parent.mkdir(parents=True, exist_ok=True)
        enc = codec(COMPACT_CODEC)
        new_rows: list[tuple[Any, ...]] = []
        lo = min((r[3] for r in rows), default=0)
        hi = max((r[3] + round(r[4] * NS / r[10]) for r in rows), default=0)
        keep = self._kept(asset_id, lo, hi, policy)
        with old.open("rb") as src, staged.open("wb") as out:
            pieces: list[tuple[str, int, int, int, float, np.ndarray]] = []
            for stream, s_lo, s_hi, t0, n, offset, length, crc, cname, scale, rate in rows:
                src.seek(offset)
                raw = src.read(length)
                if zlib.crc32(raw) != crc:
                    raise StoreError(
                        f"{old}: block seq {s_lo} of {stream} is damaged; compaction stopped, "
                        "nothing changed (run 'shopfloor store check')"
                    )
                values = codec(cname).decode(raw, n, scale)
                step = NS / rate
                for a, b in keep:
                    first = max(0, int(np.ceil((a - t0) / step - 1e-9)))
                    last = min(n, int(np.ceil((b - t0) / step - 1e-9)))
                    if last > first:
                        pieces.append(
                            (stream, s_lo, s_hi, t0 + round(first * step), rate, values[first:last])
                        )
            for chunk in _chunks(pieces):
                stream, s_lo, s_hi, t0, rate, values = chunk
                payload, scale = enc.encode(values)
                new_rows.append(
                    (
                        stream,
                        s_lo,
                        s_hi,
                        t0,
                        t0 + round(len(values) * NS / rate),
                        len(values),
                        out.tell(),
                        len(payload),
                        zlib.crc32(payload),
                        enc.name,
                        scale,
                    )
                )
                out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        size = staged.stat().st_size
        sha = file_sha256(staged)
        os.replace(staged, self.home / new_rel)
        try:
            with self._transaction() as con:
                cur = con.execute(
                    "INSERT INTO segments (asset_id, day, path, codec, state, bytes, sha256, "
                    "created) VALUES (?, ?, ?, ?, 'compacted', ?, ?, ?)",
                    [asset_id, day, str(new_rel), enc.name, size, sha, now_iso()],
                )
                new_id = int(cur.lastrowid or 0)
                con.execute(
                    "UPDATE streams SET compacted_through_ns = max(coalesce("
                    "compacted_through_ns, 0), (SELECT max(t1_ns) FROM blocks b "
                    "WHERE b.segment_id = ? AND b.stream_id = streams.id)) WHERE id IN "
                    "(SELECT DISTINCT stream_id FROM blocks WHERE segment_id = ?)",
                    [seg_id, seg_id],
                )
                con.execute("DELETE FROM blocks WHERE segment_id = ?", [seg_id])
                con.execute("DELETE FROM segments WHERE id = ?", [seg_id])
                executemany(
                    con,
                    "INSERT INTO blocks (stream_id, seq_lo, seq_hi, t0_ns, t1_ns, n, offset, "
                    "length, crc32, codec, scale, segment_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(*r, new_id) for r in new_rows],
                )
        except BaseException:
            (self.home / new_rel).unlink(missing_ok=True)
            raise
        old.unlink(missing_ok=True)

    # ------------------------------------------------------------------ backup
    def backup(self, dest: Path | str) -> dict[str, Any]:
        """A consistent copy of the store in ``dest`` (a new or empty directory)."""
        dest = Path(dest).expanduser()
        if dest.exists() and any(dest.iterdir()):
            raise StoreError(f"backup target {dest} is not empty")
        if dest.resolve() == self.home.resolve() or self.home.resolve() in dest.resolve().parents:
            raise StoreError(f"backup target {dest} is inside the store {self.home}")
        dest.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(str(dest / CATALOG_NAME))
        try:
            self._con.backup(copy)
            files = copy.execute(
                "SELECT path, NULL FROM recordings UNION ALL SELECT path, NULL FROM models "
                "WHERE path IS NOT NULL UNION ALL SELECT path, bytes FROM segments"
            ).fetchall()
        finally:
            copy.close()
        copied = 0
        for rel, length in files:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with (self.home / rel).open("rb") as src, target.open("wb") as out:
                    copied += _copy_prefix(src, out, length)
            except FileNotFoundError as exc:  # compacted away since the snapshot: start again
                shutil.rmtree(dest)
                raise StoreError(f"{exc.filename} changed during the backup; run it again") from exc
        return {"dest": str(dest), "files": len(files), "bytes": copied}


def _copy_prefix(src: Any, out: Any, length: int | None) -> int:
    done = 0
    while length is None or done < length:
        want = 1 << 20 if length is None else min(1 << 20, length - done)
        chunk = src.read(want)
        if not chunk:
            break
        out.write(chunk)
        done += len(chunk)
    out.flush()
    os.fsync(out.fileno())
    return done


def _chunks(
    pieces: list[tuple[str, int, int, int, float, np.ndarray]],
) -> list[tuple[str, int, int, int, float, np.ndarray]]:
    """Join pieces of one stream that follow each other in time, up to ``CHUNK_S`` long."""
    out: list[tuple[str, int, int, int, float, np.ndarray]] = []
    for p in pieces:
        if out:
            stream, s_lo, _, t0, rate, values = out[-1]
            end = t0 + round(len(values) * NS / rate)
            if (
                stream == p[0]
                and abs(p[3] - end) < NS / rate / 2
                and len(values) + len(p[5]) <= CHUNK_S * rate
            ):
                out[-1] = (stream, s_lo, p[2], t0, rate, np.concatenate([values, p[5]]))
                continue
        out.append(p)
    return out


def _tree_bytes(root: Path) -> int:
    if not root.exists():
        return 0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
