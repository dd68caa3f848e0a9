"""Live streams: blocks of samples appended per channel, read back by time range.

A stream is one channel of one asset at one sample rate. A :class:`Block` carries its stream
(asset, channel), a sequence number chosen by the sender, the time of its first sample, the
sample rate and the samples. Blocks are appended to a segment file per asset and UTC day
(``streams/asset=<id>/day=<YYYY-MM-DD>/``) and indexed in the catalog; a read of a time range
looks up the blocks that overlap it and reads only those bytes.

Why appends cannot lose or duplicate a committed block:

* the samples are written and fsynced before the catalog rows that point at them are
  committed, so a committed row always refers to bytes on disk; bytes written after the last
  commit (a killed writer) are cut off on the next writable open;
* ``(stream, sequence)`` is the block's identity: a block sent again after a timeout or a
  restart is recognised (same samples: counted as a duplicate and not stored again; different
  samples: refused).

Bad input is refused before anything is written, for the whole call (a wrong sample rate for
the stream, an unknown asset or channel, a block that starts in the future, an empty or
non-numeric block, samples that contradict a stored block). What is plausible but irregular is
stored and noted in the ``quality`` table: a sequence gap (blocks lost upstream), a time gap or
overlap between consecutive blocks.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa

from shopfloor.core.errors import InputError, StoreError
from shopfloor.core.store.catalog import now_iso
from shopfloor.core.store.codecs import LIVE_CODEC, codec
from shopfloor.core.store.handle import StoreHandle
from shopfloor.core.store.io import describe_os_error, executemany
from shopfloor.core.store.retention import RetentionPolicy

NS = 1_000_000_000
MAX_CLOCK_SKEW_S = 5.0
"""A block may end at most this far after the writer's clock (seconds): clocks of edge devices
drift, NTP keeps them within milliseconds, so 5 s only lets through honest skew."""
SEGMENT_MAX_BYTES = 256 * 1024 * 1024
SEGMENT_MAX_AGE_S = 300.0
"""A segment file is sealed (and becomes a compaction candidate) past this size or age, so the
raw ring buffer of a small plant is trimmed as promptly as that of a large one."""


def to_ns(when: datetime | int) -> int:
    """UTC nanoseconds since the epoch; naive datetimes are taken as UTC."""
    if isinstance(when, int):
        return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1_000


@dataclass
class Block:
    """Samples of one channel. ``start`` is the first sample's time (UTC, or ns since epoch)."""

    asset_id: str
    channel_id: str
    seq: int
    start: datetime | int
    sample_rate_hz: float
    values: np.ndarray


@dataclass
class AppendReport:
    """What one :meth:`Streams.append` call did."""

    stored: int = 0
    duplicates: int = 0
    quality: list[str] = field(default_factory=list)


@dataclass
class StreamSlice:
    """Samples of one channel over a time range, in contiguous pieces ``(t0_ns, values)``."""

    asset_id: str
    channel_id: str
    sample_rate_hz: float
    pieces: list[tuple[int, np.ndarray]]

    @property
    def values(self) -> np.ndarray:
        if not self.pieces:
            return np.empty(0, dtype=np.float32)
        return np.concatenate([p for _, p in self.pieces])

    def to_arrow(self) -> pa.Table:
        """Columns ``time`` (timestamp, ns, UTC) and ``value`` (float32)."""
        step = NS / self.sample_rate_hz
        times = [t0 + np.round(np.arange(len(v)) * step).astype(np.int64) for t0, v in self.pieces]
        t = np.concatenate(times) if times else np.empty(0, dtype=np.int64)
        return pa.table(
            {"time": pa.array(t, type=pa.timestamp("ns", tz="UTC")), "value": self.values}
        )


@dataclass
class _StreamState:
    stream_id: str
    sample_rate_hz: float
    last_seq: int | None
    last_end_ns: int | None


@dataclass
class _OpenSegment:
    segment_id: int
    path: Path
    fh: IO[bytes]
    size: int
    opened_ns: int


class Streams(StoreHandle):
    """Append and time-range read of stream blocks (mixed into :class:`Store`)."""

    def __init__(
        self, home: Path, con: sqlite3.Connection, read_only: bool, lock: IO[str] | None
    ) -> None:
        super().__init__(home, con, read_only, lock)
        self._stream_cache: dict[tuple[str, str], _StreamState] = {}
        self._segments: dict[tuple[str, str], _OpenSegment] = {}
        self._crc_pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ writer side
    def append(self, blocks: Sequence[Block], *, now: datetime | None = None) -> AppendReport:
        """Store blocks, all or nothing, idempotent on ``(stream, seq)``.

        Raises
        ------
        InputError
            Any block is bad (see the module docstring); nothing of this call is stored.
        """
        self._require_writer()
        now_ns = to_ns(now or datetime.now(UTC))
        report = AppendReport()
        pending: dict[str, _StreamState] = {}
        planned: list[tuple[Block, _StreamState, int, int, np.ndarray]] = []
        quality: list[tuple[str, str, str, int | None, str]] = []
        for i, b in enumerate(blocks):
            where = f"block {i} ({b.asset_id}/{b.channel_id} seq {b.seq})"
            base = self._stream(b, where)  # checks asset, channel and sample rate
            st = pending.get(base.stream_id) or base
            values = _check_values(b.values, where)
            t0 = to_ns(b.start)
            t1 = t0 + round(len(values) * NS / st.sample_rate_hz)
            _check_not_future(t1, now_ns, where)
            if st.last_seq is not None and b.seq <= st.last_seq:
                if self._is_duplicate(st, b.seq, t0, values, where):
                    report.duplicates += 1
                    continue
            elif st.last_seq is not None and b.seq > st.last_seq + 1:
                missing = b.seq - st.last_seq - 1
                quality.append(
                    (
                        st.stream_id,
                        now_iso(),
                        "sequence_gap",
                        b.seq,
                        f"{missing} block(s) missing before seq {b.seq} (last was {st.last_seq})",
                    )
                )
            if st.last_end_ns is not None and b.seq == (st.last_seq or 0) + 1:
                jump = (t0 - st.last_end_ns) / NS
                if abs(jump) * st.sample_rate_hz > 1.0:  # more than one sample period off
                    kind = "time_gap" if jump > 0 else "time_overlap"
                    quality.append(
                        (
                            st.stream_id,
                            now_iso(),
                            kind,
                            b.seq,
                            f"block starts {jump:+.6f} s from where the previous one ended",
                        )
                    )
            planned.append((b, st, t0, t1, values))
            late = st.last_seq is not None and b.seq <= st.last_seq
            pending[st.stream_id] = _StreamState(
                st.stream_id,
                st.sample_rate_hz,
                st.last_seq if late else b.seq,
                st.last_end_ns if late else t1,
            )
        report.quality = [q[4] for q in quality]
        if not planned:
            self._commit_quality(quality)
            return report
        self._write_planned(planned, pending, quality)
        report.stored = len(planned)
        return report

    def _write_planned(
        self,
        planned: list[tuple[Block, _StreamState, int, int, np.ndarray]],
        pending: dict[str, _StreamState],
        quality: list[tuple[str, str, str, int | None, str]],
    ) -> None:
        enc = codec(LIVE_CODEC)
        encoded = [enc.encode(values) for *_, values in planned]
        # Checksums are computed on a helper thread while this one writes: both release the
        # GIL (zlib for large buffers, the write while the kernel copies or throttles), so the
        # CRC costs almost no wall time on top of the disk's.
        if self._crc_pool is None:
            self._crc_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-crc")
        crcs = self._crc_pool.submit(lambda: [zlib.crc32(p) for p, _ in encoded])
        rows = []
        touched: dict[tuple[str, str], int] = {}
        try:
            for (b, st, t0, t1, values), (payload, scale) in zip(planned, encoded, strict=True):
                seg = self._open_segment(b.asset_id, t0)
                touched.setdefault((b.asset_id, seg.path.parent.name), seg.size)
                seg.fh.write(payload)
                rows.append(
                    [
                        st.stream_id,
                        b.seq,
                        b.seq,
                        t0,
                        t1,
                        len(values),
                        seg.segment_id,
                        seg.size,
                        len(payload),
                        0,
                        enc.name,
                        scale,
                    ]
                )
                seg.size += len(payload)
            for row, crc in zip(rows, crcs.result(), strict=True):
                row[9] = crc
            for key in touched:
                seg = self._segments[key]
                seg.fh.flush()
                os.fdatasync(seg.fh.fileno())
            with self._transaction() as con:
                executemany(
                    con,
                    "INSERT INTO blocks (stream_id, seq_lo, seq_hi, t0_ns, t1_ns, n, segment_id, "
                    "offset, length, crc32, codec, scale) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                executemany(
                    con,
                    "UPDATE streams SET last_seq = ?, last_end_ns = ? WHERE id = ?",
                    [(s.last_seq, s.last_end_ns, s.stream_id) for s in pending.values()],
                )
                executemany(
                    con,
                    "UPDATE segments SET bytes = ? WHERE id = ?",
                    [(self._segments[k].size, self._segments[k].segment_id) for k in touched],
                )
                executemany(
                    con,
                    "INSERT INTO quality (stream_id, at, kind, seq, detail) VALUES (?,?,?,?,?)",
                    quality,
                )
        except BaseException as exc:
            # Cut the uncommitted bytes off again, so the next append starts clean.
            for key, size in touched.items():
                seg = self._segments.pop(key)
                with contextlib.suppress(OSError):
                    seg.fh.close()
                    os.truncate(seg.path, size)
            if isinstance(exc, OSError):
                raise StoreError(describe_os_error(exc, self.home)) from exc
            raise
        for s in pending.values():
            cached = self._stream_cache.get(self._key_of(s.stream_id))
            if cached is not None:
                cached.last_seq, cached.last_end_ns = s.last_seq, s.last_end_ns
        now_ns = to_ns(datetime.now(UTC))
        newest_day: dict[str, str] = {}
        for asset_id, day in touched:
            newest_day[asset_id] = max(day, newest_day.get(asset_id, day))
        for key, seg in list(self._segments.items()):
            # Full, old, or of a day this asset has moved past: only the appending writer
            # seals, so a segment is never compacted while someone appends to it.
            passed = key[0] in newest_day and key[1] < newest_day[key[0]]
            if (
                passed
                or seg.size > SEGMENT_MAX_BYTES
                or now_ns - seg.opened_ns > SEGMENT_MAX_AGE_S * NS
            ):
                self.seal_segment(seg.segment_id)

    def _commit_quality(self, quality: list[tuple[str, str, str, int | None, str]]) -> None:
        if quality:
            with self._transaction() as con:
                executemany(
                    con,
                    "INSERT INTO quality (stream_id, at, kind, seq, detail) VALUES (?,?,?,?,?)",
                    quality,
                )

    @staticmethod
    def _stream_key(b: Block) -> str:
        return f"{b.asset_id}/{b.channel_id}"

    @staticmethod
    def _key_of(stream_id: str) -> tuple[str, str]:
        asset_id, _, channel_id = stream_id.partition("/")
        return asset_id, channel_id

    def _stream(self, b: Block, where: str) -> _StreamState:
        """The stream of a block, created on its first block; checks asset, channel, rate."""
        key = (b.asset_id, b.channel_id)
        st = self._stream_cache.get(key)
        if st is None:
            row = self._con.execute(
                "SELECT id, sample_rate_hz, last_seq, last_end_ns FROM streams "
                "WHERE asset_id = ? AND channel_id = ?",
                key,
            ).fetchone()
            if row is None:
                st = self._create_stream(b, where)
            else:
                st = _StreamState(row[0], float(row[1]), row[2], row[3])
            self._stream_cache[key] = st
        if abs(b.sample_rate_hz - st.sample_rate_hz) > 1e-9 * st.sample_rate_hz:
            raise InputError(
                f"{where}: sample rate {b.sample_rate_hz:g} Hz, but stream {st.stream_id!r} "
                f"is stored at {st.sample_rate_hz:g} Hz",
                column="sample_rate_hz",
            )
        return st

    def _create_stream(self, b: Block, where: str) -> _StreamState:
        channels = self._con.execute(
            "SELECT id, sample_rate_hz FROM channels WHERE asset_id = ?", [b.asset_id]
        ).fetchall()
        if not channels:
            raise InputError(f"{where}: unknown asset {b.asset_id!r}", column="asset_id")
        rates = {c: r for c, r in channels}
        if b.channel_id not in rates:
            raise InputError(
                f"{where}: asset {b.asset_id!r} has no channel {b.channel_id!r} "
                f"(it has: {', '.join(sorted(rates))})",
                column="channel_id",
            )
        declared = rates[b.channel_id]
        if declared is not None and not np.isclose(b.sample_rate_hz, declared, rtol=1e-9):
            raise InputError(
                f"{where}: sample rate {b.sample_rate_hz:g} Hz, but channel {b.channel_id!r} "
                f"of {b.asset_id!r} is declared at {declared:g} Hz",
                column="sample_rate_hz",
            )
        if not (np.isfinite(b.sample_rate_hz) and b.sample_rate_hz > 0):
            raise InputError(
                f"{where}: sample rate must be positive, got {b.sample_rate_hz}",
                column="sample_rate_hz",
            )
        stream_id = self._stream_key(b)
        with self._transaction() as con:
            con.execute(
                "INSERT INTO streams (id, asset_id, channel_id, sample_rate_hz, codec, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    stream_id,
                    b.asset_id,
                    b.channel_id,
                    float(b.sample_rate_hz),
                    LIVE_CODEC,
                    now_iso(),
                ],
            )
        return _StreamState(stream_id, float(b.sample_rate_hz), None, None)

    def _is_duplicate(
        self, st: _StreamState, seq: int, t0: int, values: np.ndarray, where: str
    ) -> bool:
        """A block at or before the stream's last seq: a resend (True) or a late block."""
        row = self._con.execute(
            "SELECT seq_lo, seq_hi, t0_ns, n, crc32, codec FROM blocks "
            "WHERE stream_id = ? AND seq_lo <= ? AND seq_hi >= ? ORDER BY seq_lo DESC LIMIT 1",
            [st.stream_id, seq, seq],
        ).fetchone()
        if row is None:
            # Not stored: a block from a time compaction has already passed (dropped by
            # retention) and sent again is a duplicate; otherwise it is a late block filling
            # a gap, and is stored.
            done = self._con.execute(
                "SELECT compacted_through_ns FROM streams WHERE id = ?", [st.stream_id]
            ).fetchone()
            return bool(done and done[0] is not None and t0 < done[0])
        seq_lo, seq_hi, s_t0, s_n, s_crc, s_codec = row
        if seq_lo == seq_hi and s_codec == LIVE_CODEC:
            payload, _ = codec(LIVE_CODEC).encode(values)
            same = s_t0 == t0 and s_n == len(values) and s_crc == zlib.crc32(payload)
        else:  # compacted into a longer chunk: compare the samples themselves
            stored = self.read(*self._key_of(st.stream_id), t0, t0 + 1).pieces
            same = bool(stored) and stored[0][0] == t0
        if not same:
            raise InputError(
                f"{where}: stream {st.stream_id!r} already holds seq {seq} with other "
                "samples or another start time; a resent block must be identical",
                column="seq",
            )
        return True

    def _open_segment(self, asset_id: str, t0_ns: int) -> _OpenSegment:
        day = datetime.fromtimestamp(t0_ns / NS, tz=UTC).date().isoformat()
        key = (asset_id, f"day={day}")
        seg = self._segments.get(key)
        if seg is not None:
            return seg
        row = self._con.execute(
            "SELECT id, path, bytes FROM segments WHERE asset_id = ? AND day = ? "
            "AND state = 'open' ORDER BY id DESC LIMIT 1",
            [asset_id, day],
        ).fetchone()
        if row is None:
            rel = (
                Path("streams") / f"asset={asset_id}" / f"day={day}" / f"{os.urandom(6).hex()}.seg"
            )
            (self.home / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.home / rel).touch()
            with self._transaction() as con:
                cur = con.execute(
                    "INSERT INTO segments (asset_id, day, path, codec, state, bytes, created) "
                    "VALUES (?, ?, ?, ?, 'open', 0, ?)",
                    [asset_id, day, str(rel), LIVE_CODEC, now_iso()],
                )
                seg_id = int(cur.lastrowid or 0)
            size = 0
        else:
            seg_id, rel, size = int(row[0]), Path(row[1]), int(row[2])
        path = self.home / rel
        fh = path.open("r+b")
        fh.seek(size)
        fh.truncate()
        seg = _OpenSegment(seg_id, path, fh, size, to_ns(datetime.now(UTC)))
        self._segments[key] = seg
        return seg

    def seal_segment(self, segment_id: int) -> None:
        """Stop appending to a segment; it becomes a candidate for compaction."""
        for key, seg in list(self._segments.items()):
            if seg.segment_id == segment_id:
                seg.fh.close()
                del self._segments[key]
        with self._transaction() as con:
            con.execute("UPDATE segments SET state = 'sealed' WHERE id = ?", [segment_id])

    def _close_segments(self) -> None:
        if self._crc_pool is not None:
            self._crc_pool.shutdown()
            self._crc_pool = None
        for seg in self._segments.values():
            with contextlib.suppress(OSError):
                seg.fh.close()
        self._segments = {}

    def _truncate_uncommitted_tails(self) -> None:
        """Cut bytes a killed writer appended after its last commit off every open segment."""
        for rel, size in self._con.execute(
            "SELECT path, bytes FROM segments WHERE state = 'open'"
        ).fetchall():
            path = self.home / rel
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_size > size:
                    os.truncate(path, size)

    # ------------------------------------------------------------------ reader side
    def read(
        self,
        asset_id: str,
        channel_id: str,
        start: datetime | int,
        end: datetime | int,
    ) -> StreamSlice:
        """Samples of one channel with ``start <= t < end``; reads only the blocks needed."""
        row = self._con.execute(
            "SELECT id, sample_rate_hz FROM streams WHERE asset_id = ? AND channel_id = ?",
            [asset_id, channel_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no stream {asset_id}/{channel_id} in {self.home}")
        stream_id, rate = str(row[0]), float(row[1])
        lo, hi = to_ns(start), to_ns(end)
        for attempt in range(3):  # a compaction may swap files between our query and read
            try:
                return StreamSlice(asset_id, channel_id, rate, self._read(stream_id, rate, lo, hi))
            except FileNotFoundError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def read_last(self, asset_id: str, channel_id: str, seconds: float) -> StreamSlice:
        """The newest ``seconds`` of committed samples of one channel."""
        row = self._con.execute(
            "SELECT last_end_ns FROM streams WHERE asset_id = ? AND channel_id = ?",
            [asset_id, channel_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no stream {asset_id}/{channel_id} in {self.home}")
        end = int(row[0] or 0)
        return self.read(asset_id, channel_id, end - round(seconds * NS), end)

    def _read(self, stream_id: str, rate: float, lo: int, hi: int) -> list[tuple[int, np.ndarray]]:
        rows = self._con.execute(
            "SELECT b.t0_ns, b.n, b.offset, b.length, b.crc32, b.codec, b.scale, s.path, "
            "b.seq_lo FROM blocks b JOIN segments s ON s.id = b.segment_id "
            "WHERE b.stream_id = ? AND b.t1_ns > ? AND b.t0_ns < ? ORDER BY b.t0_ns",
            [stream_id, lo, hi],
        ).fetchall()
        pieces: list[tuple[int, np.ndarray]] = []
        files: dict[str, int] = {}
        step = NS / rate
        try:
            for t0, n, offset, length, crc, codec_name, scale, rel, seq in rows:
                fd = files.get(rel)
                if fd is None:
                    fd = files[rel] = os.open(self.home / rel, os.O_RDONLY)
                raw = os.pread(fd, length, offset)
                if len(raw) != length or zlib.crc32(raw) != crc:
                    raise StoreError(
                        f"{self.home / rel}: block seq {seq} of {stream_id} at byte {offset} "
                        "is damaged on disk (checksum mismatch); other blocks are unaffected; "
                        "run 'shopfloor store check'"
                    )
                values = codec(codec_name).decode(raw, n, scale)
                first = max(0, int(np.ceil((lo - t0) / step - 1e-9)))
                last = min(n, int(np.ceil((hi - t0) / step - 1e-9)))
                if last <= first:
                    continue
                piece_t0 = t0 + round(first * step)
                part = values[first:last]
                if (
                    pieces
                    and abs(piece_t0 - (pieces[-1][0] + round(len(pieces[-1][1]) * step)))
                    < step / 2
                ):
                    pieces[-1] = (pieces[-1][0], np.concatenate([pieces[-1][1], part]))
                else:
                    pieces.append((piece_t0, part))
        finally:
            for fd in files.values():
                os.close(fd)
        return pieces

    def retention(self) -> RetentionPolicy:
        """The raw-data retention policy (defaults until one is set)."""
        row = self._con.execute("SELECT value FROM meta WHERE key = 'retention'").fetchone()
        return RetentionPolicy.model_validate_json(row[0]) if row else RetentionPolicy()

    def set_retention(self, policy: RetentionPolicy) -> None:
        with self._transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('retention', ?)", [policy.model_dump_json()]
            )

    def streams(self) -> list[dict[str, object]]:
        """Every stream with its rate, blocks, time span and data-quality records."""
        rows = self._con.execute(
            "SELECT s.id, s.asset_id, s.channel_id, s.sample_rate_hz, s.last_seq, "
            "(SELECT count(*) FROM blocks b WHERE b.stream_id = s.id), "
            "(SELECT min(t0_ns) FROM blocks b WHERE b.stream_id = s.id), s.last_end_ns, "
            "(SELECT count(*) FROM quality q WHERE q.stream_id = s.id) FROM streams s ORDER BY s.id"
        ).fetchall()
        keys = (
            "id",
            "asset_id",
            "channel_id",
            "sample_rate_hz",
            "last_seq",
            "blocks",
            "first_ns",
            "last_end_ns",
            "quality_records",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def quality_records(self, stream_id: str | None = None) -> list[dict[str, object]]:
        sql = "SELECT stream_id, at, kind, seq, detail FROM quality"
        params = [] if stream_id is None else [stream_id]
        if stream_id is not None:
            sql += " WHERE stream_id = ?"
        rows = self._con.execute(sql + " ORDER BY id", params).fetchall()
        return [
            dict(zip(("stream_id", "at", "kind", "seq", "detail"), r, strict=True)) for r in rows
        ]


def check_block(b: Block, stream_rate_hz: float | None, *, now_ns: int, where: str) -> None:
    """Raise the :class:`InputError` :meth:`Streams.append` would raise for this block on its
    own (samples, sample rate against the stream's, a block from the future), without touching
    the store: a caller on another thread than the writer can refuse a block before it is
    queued for storing. Duplicates and resends are judged by ``append`` alone."""
    values = _check_values(b.values, where)
    rate = float(b.sample_rate_hz)
    if not (np.isfinite(rate) and rate > 0):
        raise InputError(
            f"{where}: sample rate must be positive, got {rate}", column="sample_rate_hz"
        )
    if stream_rate_hz is not None and abs(rate - stream_rate_hz) > 1e-9 * stream_rate_hz:
        raise InputError(
            f"{where}: sample rate {rate:g} Hz, but stream {b.asset_id}/{b.channel_id!r} "
            f"is stored at {stream_rate_hz:g} Hz",
            column="sample_rate_hz",
        )
    _check_not_future(to_ns(b.start) + round(len(values) * NS / rate), now_ns, where)


def _check_not_future(t1: int, now_ns: int, where: str) -> None:
    if t1 > now_ns + MAX_CLOCK_SKEW_S * NS:
        ahead = (t1 - now_ns) / NS
        raise InputError(
            f"{where}: ends {ahead:.1f} s after the store's clock "
            f"(more than {MAX_CLOCK_SKEW_S:g} s in the future); check the sender's clock",
            column="start",
        )


def _check_values(values: object, where: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{where}: samples must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{where}: samples must be real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)
