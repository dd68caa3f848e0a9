"""A watched folder as a live source: CSV/Parquet files a plant system drops, read once each.

A data collector, historian or PLC gateway writes one file per capture or export into a folder;
the watcher polls it (no inotify: it works on network shares and every OS), waits until a file
is complete, reads it with the same machinery as ``shopfloor import`` (a mapping file for a
table; delimiter and decimal-comma detection for a one-signal file), and hands its samples to
the pipeline as :class:`~shopfloor.acquisition.live.connector.Record` s, exactly as MQTT would.
The watch file (YAML)::

    folder: /srv/drops             # relative paths are relative to this file
    poll_s: 1.0                    # how often the folder is listed, s
    completion: stable             # stable | marker | rename (see below)
    settle_s: 2.0                  # stable: unchanged (size and mtime) this long, s
    on_error: move                 # move bad files to <folder>/rejected/, or just record them
    drops:
      - pattern: "P101_*.csv"      # glob, relative to the folder
        mapping: p101.yaml         # a mapping file of `shopfloor import` (asset, channels, time)
      - pattern: "vib_*.csv"       # one signal column, sample rate from the fleet file
        asset: motor-01
        channel: de_accel
        start: name                # first sample time from the file name ...
        name_time: "vib_%Y%m%d_%H%M%S"
        timezone: Europe/Berlin    # ... written in plant local time

**When is a file complete?** ``completion`` says (files are written while we look):

* ``stable`` (default): its size and modification time did not change for ``settle_s`` over
  at least two listings. Works with any writer; a writer that pauses longer than ``settle_s``
  mid-file defeats it, so prefer one of the next two when the writer can do it.
* ``marker``: the writer creates ``<file><marker_suffix>`` (``a.csv.done``) after closing the
  file; only then is it read.
* ``rename``: the writer writes under a temporary name and renames the file when done (an
  atomic step on one file system); every matching file is complete on sight.

Names starting with ``.`` or ending with ``.tmp``, ``.part``, ``.partial``, ``.crdownload`` or
``~`` never match, so a writer using such temporary names works with any rule.

**Exactly once, across restarts.** A persistent journal in the data directory
(:mod:`.folder_journal`) records each file by path, size, modification time and SHA-256. A file
is *claimed* (with the sequence numbers of its blocks reserved) before its records are handed
out and *done* when every record is acknowledged, i.e. stored. After a crash a claimed file is
read again with the same sequence numbers, so the store and the pipeline's ledger recognise
what they already hold. A file with the content of one already done is a duplicate (recorded,
not read); a done file rewritten in place is recorded as changed and not read again (write each
drop as a new file).

**Bad files never stop the watcher**: a file that cannot be read (bad cell, wrong sample rate,
too short, not CSV) is moved to ``rejected/`` with a ``.reason`` file beside it (or left in
place with ``on_error: record``), recorded in the journal, and handed to the pipeline as a dead
letter whose one-line reason names the file and line.

**Time.** A table with a time column gives the samples their times. A file without one (a fixed
sample rate) starts at the time in its name (``start: name``), or by default ends at its
modification time (``start: mtime``: the capture ended when the file was last written).
Waveform channels (a ``sample_rate_hz`` in the fleet file) are cut into blocks of ``block_s``
(the pipeline's window: one block, one window, so no window mixes two files); samples after the
last whole block are not sent and are counted in the journal. Scalar channels give one record
per row. Consecutive files continue a channel's sequence; a file that does not start where the
previous one ended marks its first block as not contiguous (a new capture, not a clock jump).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import time
import zoneinfo
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shopfloor.acquisition.live.connector import DeadLetter, Record, _no_ack
from shopfloor.acquisition.live.fleet_config import FleetConfig, Route
from shopfloor.acquisition.live.folder_config import (
    FolderWatch,
    ResolvedDrop,
    load_watch,
    watch_from_dict,
)
from shopfloor.acquisition.live.folder_journal import ChannelState, Claim, FileId, FileJournal
from shopfloor.core.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
NS = 1_000_000_000
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", "~")
RATE_TOLERANCE = 1e-3
"""Relative difference allowed between a file's sample rate and the fleet file's (timestamps
written to the millisecond do not give the rate to more digits)."""


class _FileData:
    """What one file holds, per fleet channel: samples and their times."""

    def __init__(
        self, values: dict[str, FloatArray], rate_hz: float | None, start_ns: int, ns: Any
    ) -> None:
        self.values = values
        self.rate_hz = rate_hz
        self.start_ns = start_ns
        self.times_ns: IntArray | None = ns


class _RejectError(Exception):
    """A file that cannot be used; the message is the one-line reason."""


def _one_line(exc: BaseException, path: Path) -> str:
    problems = getattr(exc, "problems", None)
    if problems:  # a TableError: the first problem, with its line, and how many more
        first = problems[0]
        where = f"{path}, line {first.line}" if first.line is not None else str(path)
        if first.column is not None:
            where += f", column {first.column!r}"
        more = len(problems) - 1
        return f"{where}: {first.message}" + (f" (and {more} more problems)" if more else "")
    text = " ".join(str(exc).split())
    return text if str(path) in text else f"{path}: {text}"


class FolderTransport:
    """Polls a folder and hands out the records of each complete file once.

    Parameters
    ----------
    watch: the validated watch file.
    fleet: the assets and channels the files' columns map to.
    state_dir: where the journal lives (inside the data directory).
    base: folder that relative paths in ``watch`` are relative to.
    block_s: block length for waveform channels, s (the pipeline's window).
    clock: wall clock, s (tests may pass their own).
    """

    def __init__(
        self,
        watch: FolderWatch,
        fleet: FleetConfig,
        state_dir: Path,
        *,
        base: Path = Path("."),
        block_s: float = 1.0,
        where: str = "<watch>",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not block_s > 0:
            raise InputError(f"block_s must be positive, got {block_s}")
        self.watch = watch
        self.block_s = block_s
        self.clock = clock
        folder = Path(watch.folder)
        self.folder = folder if folder.is_absolute() else base / folder
        self.rejected = self.folder / watch.rejected_folder
        self.drops = [ResolvedDrop(i, d, base, fleet, where) for i, d in enumerate(watch.drops)]
        self.state_dir = state_dir
        self.journal: FileJournal | None = None
        self._seen: dict[str, tuple[int, int, float]] = {}
        self._wake = asyncio.Event()
        self._closing = False
        self.counts = {
            "files_done": 0,
            "files_rejected": 0,
            "files_duplicate": 0,
            "files_changed": 0,
            "files_pending": 0,
            "samples_not_sent": 0,
        }
        self.last_error: str | None = None
        self.last_poll: float | None = None

    # ------------------------------------------------------------------ interface
    async def open(self) -> None:
        if not self.folder.is_dir():
            raise InputError("watched folder does not exist", source=self.folder)
        self._closing = False
        self._wake = asyncio.Event()
        self.journal = FileJournal(self.state_dir)

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    def health(self) -> dict[str, Any]:
        return {
            "transport": "folder",
            "folder": str(self.folder),
            "connected": self.journal is not None,
            "last_poll": self.last_poll,
            "last_error": self.last_error,
            **self.counts,
        }

    async def messages(self) -> AsyncIterator[Record | DeadLetter]:
        journal = self._journal()
        for claim in list(journal.claims.values()):  # left unfinished by the last run
            async for item in self._again(claim):
                yield item
        while not self._closing:
            self.last_poll = self.clock()
            for path, drop, ident in self._ready():
                if self._closing:
                    return
                async for item in self._process(path, drop, ident):
                    yield item
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.watch.poll_s)

    # ------------------------------------------------------------------ listing
    def _journal(self) -> FileJournal:
        if self.journal is None:
            raise RuntimeError("FolderTransport used before open()")
        return self.journal

    def _candidates(self) -> list[tuple[Path, ResolvedDrop]]:
        out: dict[Path, ResolvedDrop] = {}
        for drop in self.drops:
            for path in self.folder.glob(drop.spec.pattern):
                name = path.name
                if (
                    path in out
                    or name.startswith(".")
                    or name.endswith(TEMP_SUFFIXES)
                    or name.endswith(self.watch.marker_suffix)
                    or self.rejected in path.parents
                    or not path.is_file()
                ):
                    continue
                out[path] = drop
        return list(out.items())

    def _ready(self) -> list[tuple[Path, ResolvedDrop, FileId]]:
        """Complete files not yet decided, oldest first."""
        journal = self._journal()
        now = self.clock()
        ready: list[tuple[int, str, Path, ResolvedDrop, FileId]] = []
        for path, drop in self._candidates():
            try:
                st = path.stat()
            except OSError:  # removed between listing and stat
                continue
            key = str(path.resolve())
            ident: FileId = (key, st.st_size, st.st_mtime_ns)
            if ident in journal.decided or ident in journal.claims:
                continue
            if self.watch.completion == "marker":
                if not Path(f"{path}{self.watch.marker_suffix}").exists():
                    continue
            elif self.watch.completion == "stable":
                first = self._seen.get(key)
                if first is None or first[:2] != (st.st_size, st.st_mtime_ns):
                    self._seen[key] = (st.st_size, st.st_mtime_ns, now)
                    continue
                if now - first[2] < self.watch.settle_s or now - st.st_mtime_ns / NS < (
                    self.watch.settle_s
                ):
                    continue
            self._seen.pop(key, None)
            ready.append((st.st_mtime_ns, key, path, drop, ident))
        ready.sort(key=lambda r: (r[0], r[1]))
        return [(p, d, i) for _, _, p, d, i in ready]

    # ------------------------------------------------------------------ one file
    async def _process(
        self, path: Path, drop: ResolvedDrop, ident: FileId
    ) -> AsyncIterator[Record | DeadLetter]:
        journal = self._journal()
        try:
            sha = await asyncio.to_thread(_sha256, path)
        except OSError as exc:
            self.last_error = f"{path}: {exc}"
            return  # vanished or unreadable now: looked at again next poll
        key = ident[0]
        done_as = journal.done_paths.get(key)
        if done_as is not None and done_as != ident:
            journal.decide(ident, "changed", sha, reason="rewritten after it was processed")
            self.counts["files_changed"] += 1
            yield self._dead(
                path,
                ident,
                f"{path}: changed after it was processed; not read again "
                "(write each drop as a new file)",
            )
            return
        if sha in journal.done_hashes:
            journal.decide(ident, "duplicate", sha, of=journal.done_hashes[sha])
            self.counts["files_duplicate"] += 1
            return
        try:
            data = await asyncio.to_thread(self._read, path, drop, ident)
            plan = self._plan(path, drop, data)
        except _RejectError as exc:
            yield await self._reject(path, ident, sha, str(exc))
            return
        except Exception as exc:  # any reader failure is this file's, never the watcher's
            yield await self._reject(path, ident, sha, _one_line(exc, path))
            return
        seqs: dict[str, list[int]] = {}
        ends: dict[str, int] = {}
        for route_key, (route, n_blocks, _) in plan.items():
            if n_blocks:
                seqs[route_key] = [journal.reserve(route_key, n_blocks), n_blocks]
                assert route.sample_rate_hz is not None
                ends[route_key] = data.start_ns + round(
                    n_blocks * self._block_n(route) * NS / route.sample_rate_hz
                )
        claim = Claim(*ident, sha, seqs)
        contiguous = {
            k: _continues(journal.channels.get(k), data.start_ns, plan[k][0]) for k in seqs
        }
        journal.claim(claim, ends)
        for item in self._records(path, claim, data, plan, contiguous):
            yield item

    async def _again(self, claim: Claim) -> AsyncIterator[Record | DeadLetter]:
        """A file claimed by an earlier run and not finished: the same blocks again."""
        journal = self._journal()
        path = Path(claim.path)
        drop = next((d for p, d in self._candidates() if str(p.resolve()) == claim.path), None)
        why = None
        try:
            st = path.stat()
            same = (st.st_size, st.st_mtime_ns) == (claim.size, claim.mtime_ns)
            if drop is None or not same or await asyncio.to_thread(_sha256, path) != claim.sha256:
                why = "changed or no longer matched since it was claimed"
        except OSError:
            why = "gone since it was claimed"
        if why is None:
            assert drop is not None
            try:
                data = await asyncio.to_thread(self._read, path, drop, claim.ident)
                plan = self._plan(path, drop, data)
            except Exception as exc:
                why = f"no longer readable: {_one_line(exc, path)}"
            else:
                counts = {k: n for k, (_, n, _) in plan.items() if n}
                if counts != {k: v[1] for k, v in claim.seqs.items()}:
                    why = "cut into different blocks than when claimed (block_s changed?)"
        if why is not None:
            journal.decide(claim.ident, "abandoned", claim.sha256, reason=why)
            yield self._dead(path, claim.ident, f"{path}: claimed but {why}; not read again")
            return
        for item in self._records(path, claim, data, plan, {}):
            yield item

    def _block_n(self, route: Route) -> int:
        assert route.sample_rate_hz is not None
        return max(1, round(self.block_s * route.sample_rate_hz))

    def _read(self, path: Path, drop: ResolvedDrop, ident: FileId) -> _FileData:
        """Read the file (in a worker thread); errors are this file's."""
        if drop.mapping is not None:
            from shopfloor.acquisition.tabular import read_table
            from shopfloor.acquisition.timebase import _fixed_start, regular_rate

            mapping = drop.mapping
            values, ns = read_table(path, mapping)
            if ns is not None:
                rate, _ = regular_rate(ns)
                return _FileData(values, rate, int(ns[0]), ns)
            rate = mapping.time.sample_rate_hz
            fixed = _fixed_start(mapping, path)
            n = len(next(iter(values.values())))
            start = (
                round(fixed.timestamp() * NS)
                if fixed is not None
                else self._start(path, drop, ident, n, rate)
            )
            return _FileData(values, rate, start, None)
        from shopfloor.acquisition.signal_file import read_signal_column

        route = next(iter(drop.routes.values()))
        col = read_signal_column(path, drop.spec.column)
        rate = route.sample_rate_hz
        start = self._start(path, drop, ident, col.values.size, rate)
        return _FileData({route.channel_id: col.values}, rate, start, None)

    def _start(
        self, path: Path, drop: ResolvedDrop, ident: FileId, n: int, rate: float | None
    ) -> int:
        """First sample time, ns, of a file without a time column."""
        spec = drop.spec
        if spec.start == "name":
            assert spec.name_time is not None
            stem = path.name.split(".")[0]
            try:
                stamp = datetime.strptime(stem, spec.name_time)
            except ValueError:
                raise _RejectError(
                    f"{path}: file name does not match name_time {spec.name_time!r}"
                ) from None
            if stamp.tzinfo is None:
                assert spec.timezone is not None
                stamp = stamp.replace(tzinfo=zoneinfo.ZoneInfo(spec.timezone))
            return round(stamp.timestamp() * NS)
        duration_ns = round(n * NS / rate) if rate else 0
        return ident[2] - duration_ns

    def _plan(
        self, path: Path, drop: ResolvedDrop, data: _FileData
    ) -> dict[str, tuple[Route, int, FloatArray]]:
        """Per fleet channel: its route, whole blocks (0 for a scalar channel), samples."""
        plan: dict[str, tuple[Route, int, FloatArray]] = {}
        for column_id, values in data.values.items():
            route = drop.routes[column_id]
            key = f"{route.asset_id}/{route.channel_id}"
            fs = route.sample_rate_hz
            if fs is None:
                if data.times_ns is None and data.rate_hz is None:
                    raise _RejectError(f"{path}: no time column and no sample rate for {key}")
                plan[key] = (route, 0, values)
                continue
            if data.rate_hz is None:
                raise _RejectError(
                    f"{path}: timestamps unevenly spaced; {key} is a waveform channel "
                    f"({fs:g} Hz in the fleet file)"
                )
            if not math.isclose(data.rate_hz, fs, rel_tol=RATE_TOLERANCE):
                raise _RejectError(
                    f"{path}: sample rate {data.rate_hz:g} Hz, the fleet file says {fs:g} Hz "
                    f"for {key}"
                )
            n_blocks = values.size // self._block_n(route)
            if n_blocks == 0:
                raise _RejectError(
                    f"{path}: {values.size} samples of {key}, fewer than one block of "
                    f"{self._block_n(route)} ({self.block_s:g} s at {fs:g} Hz)"
                )
            plan[key] = (route, n_blocks, values)
        return plan

    def _records(
        self,
        path: Path,
        claim: Claim,
        data: _FileData,
        plan: dict[str, tuple[Route, int, FloatArray]],
        contiguous: dict[str, bool],
    ) -> list[Record]:
        journal = self._journal()
        received = time.time_ns()
        out: list[Record] = []
        not_sent = 0
        for key, (route, n_blocks, values) in plan.items():
            if n_blocks:
                assert route.sample_rate_hz is not None
                n = self._block_n(route)
                first = claim.seqs[key][0]
                not_sent += values.size - n_blocks * n
                for i in range(n_blocks):
                    start = data.start_ns + round(i * n * NS / route.sample_rate_hz)
                    out.append(
                        Record(
                            route.topic,
                            route.asset_id,
                            route.channel_id,
                            "block",
                            first + i,
                            start,
                            route.sample_rate_hz,
                            values[i * n : (i + 1) * n],
                            received,
                            contiguous=i > 0 or contiguous.get(key, True),
                        )
                    )
                continue
            if data.times_ns is not None:
                times = data.times_ns
            else:
                assert data.rate_hz is not None
                steps = np.arange(values.size) * (NS / data.rate_hz)
                times = data.start_ns + np.round(steps).astype(np.int64)
            for t, v in zip(times.tolist(), values.tolist(), strict=True):
                if math.isfinite(v):  # a gap a mapping allows (allow_missing) is no reading
                    out.append(
                        Record(
                            route.topic,
                            route.asset_id,
                            route.channel_id,
                            "scalar",
                            -1,
                            int(t),
                            None,
                            np.array([v]),
                            received,
                        )
                    )
        left = [len(out)]

        def acker() -> Callable[[], Any]:
            acked = False

            async def ack() -> None:
                nonlocal acked
                if acked or self.journal is None:
                    return
                acked = True
                left[0] -= 1
                if left[0] == 0:
                    journal.decide(
                        claim.ident,
                        "done",
                        claim.sha256,
                        records=len(out),
                        samples_not_sent=not_sent,
                    )
                    self.counts["files_done"] += 1
                    self.counts["files_pending"] -= 1
                    self.counts["samples_not_sent"] += not_sent

            return ack

        for rec in out:
            rec.ack = acker()
        self.counts["files_pending"] += 1
        if not out:  # nothing to store (every row a gap): done at once
            journal.decide(claim.ident, "done", claim.sha256, records=0, samples_not_sent=0)
            self.counts["files_pending"] -= 1
            self.counts["files_done"] += 1
        return out

    # ------------------------------------------------------------------ bad files
    async def _reject(self, path: Path, ident: FileId, sha: str, reason: str) -> DeadLetter:
        moved_to = None
        if self.watch.on_error == "move":
            try:
                moved_to = await asyncio.to_thread(self._move_aside, path, reason)
            except OSError as exc:  # cannot move (permissions): recorded where it is
                self.last_error = f"{path}: could not move aside ({exc})"
        self._journal().decide(ident, "rejected", sha, reason=reason, moved_to=moved_to)
        self.counts["files_rejected"] += 1
        self.last_error = reason
        return self._dead(path, ident, reason)

    def _move_aside(self, path: Path, reason: str) -> str:
        self.rejected.mkdir(parents=True, exist_ok=True)
        dest = self.rejected / path.name
        k = 1
        while dest.exists():
            dest = self.rejected / f"{path.stem}.{k}{path.suffix}"
            k += 1
        os.replace(path, dest)
        marker = Path(f"{path}{self.watch.marker_suffix}")
        if marker.exists():
            os.replace(marker, Path(f"{dest}{self.watch.marker_suffix}"))
        Path(f"{dest}.reason").write_text(reason + "\n", encoding="utf-8")
        return str(dest)

    def _dead(self, path: Path, ident: FileId, reason: str) -> DeadLetter:
        return DeadLetter(f"file:{path}", reason, b"", ident[1], time.time_ns(), _no_ack)


def _continues(state: ChannelState | None, start_ns: int, route: Route) -> bool:
    """Whether a file's first block follows the channel's last block (within one sample)."""
    if state is None or state.last_end_ns is None or route.sample_rate_hz is None:
        return True  # the channel's first block: nothing to be contiguous with
    return abs(start_ns - state.last_end_ns) <= NS / route.sample_rate_hz


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_folder(
    watch: str | Path | dict[str, Any],
    fleet: FleetConfig,
    state_dir: Path,
    *,
    base: Path = Path("."),
    block_s: float = 1.0,
) -> FolderTransport:
    """A folder transport from a watch file path (relative to ``base``) or an inline watch."""
    if isinstance(watch, dict):
        return FolderTransport(watch_from_dict(watch), fleet, state_dir, base=base, block_s=block_s)
    path = Path(watch)
    path = path if path.is_absolute() else base / path
    parsed = load_watch(path)
    return FolderTransport(
        parsed, fleet, state_dir, base=path.parent, block_s=block_s, where=str(path)
    )
