"""The live runtime's store writer: one thread that does every write, committing in groups.

Why a thread: a store append waits for the disk (the segment file is fsynced before the
catalog rows that point at it are committed). Done on the event loop, that wait stopped
everything else: no windows were assessed while the disk was busy, so each window waited for
every fsync ahead of it (in the previous benchmark the loop spent 20.6 of 30 s in appends).
Here the loop assesses windows while this thread stores the blocks they came from.

Why groups: while one append waits for its fsync, the next batches queue up; the thread then
stores all of them with one append (one fsync) and one commit of their window results and dead
letters. The fsync cost is shared by everything that arrived meanwhile, so a slow disk costs
throughput only when it is slower than the data.

What stays true: a job's future completes only after its blocks and its decisions are
committed, and the runtime acknowledges a message only after its job's future completed
(MQTT QoS 1: a crash before that makes the broker deliver it again). Jobs are committed in the
order submitted. The store's catalog connection is used by this thread alone while it runs;
the thread that opened the store must not use it until :meth:`StoreWriter.close` returned.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from shopfloor.core.errors import InputError
from shopfloor.core.store import Block, DeadLetterRecord, Store
from shopfloor.pipelines.live.ledger import Pending

MAX_GROUP_BLOCKS = 4096
"""Blocks stored by one append at most (4096 blocks of 0.1 s at 25.6 kHz: about 42 MB of
float32 samples in memory), so a long burst is written in bounded steps."""


@dataclass
class WriteResult:
    """What the store did with one job's blocks."""

    stored: int = 0
    duplicates: int = 0
    refused: dict[int, str] = field(default_factory=dict)
    """Position in the job's ``blocks`` -> the store's reason (the block was not stored)."""


@dataclass
class WriteJob:
    """One batch's writes: blocks, then decisions, then any other work (events)."""

    blocks: list[Block]
    pending: Pending
    extra: Callable[[Store, Pending], None] | None = None
    """Other work (events, scalar readings) run after the blocks, before the decisions are
    committed; it may add dead letters to the pending decisions."""
    future: Future[WriteResult] = field(default_factory=Future)
    dead_source: str = "store"
    topics: list[str | None] = field(default_factory=list)


class StoreWriter:
    """Runs the writes of :class:`~shopfloor.pipelines.live.runtime.LiveRuntime` on a thread.

    Attributes
    ----------
    seconds: wall seconds spent appending blocks and committing decisions.
    groups, jobs: commits made, and jobs they held (jobs / groups: the grouping achieved).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: queue.SimpleQueue[WriteJob | None] = queue.SimpleQueue()
        self.seconds = {"append": 0.0, "decisions": 0.0}
        self.groups = 0
        self.jobs = 0
        self._thread = threading.Thread(target=self._loop, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, job: WriteJob) -> Future[WriteResult]:
        self._jobs.put(job)
        return job.future

    def call(self, fn: Callable[[Store, Pending], None]) -> Future[WriteResult]:
        """Run ``fn(store, pending)`` on the writer thread, in order with the jobs."""
        return self.submit(WriteJob([], Pending(), extra=fn))

    def close(self) -> None:
        """Finish the jobs already submitted, then stop the thread."""
        self._jobs.put(None)
        self._thread.join()

    # ------------------------------------------------------------------ the thread
    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._jobs.get()
            if first is None:
                return
            group = [first]
            n_blocks = len(first.blocks)
            while n_blocks < MAX_GROUP_BLOCKS:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                group.append(job)
                n_blocks += len(job.blocks)
            self._commit(group)

    def _commit(self, group: list[WriteJob]) -> None:
        results = [WriteResult() for _ in group]
        try:
            t0 = time.perf_counter()
            self._append(group, results)
            t1 = time.perf_counter()
            for job, result in zip(group, results, strict=True):
                for i, reason in sorted(result.refused.items()):
                    job.pending.dead.append(
                        DeadLetterRecord(
                            source=job.dead_source,
                            reason=f"refused by the store: {reason}",
                            received_ns=time.time_ns(),
                            topic=job.topics[i] if i < len(job.topics) else None,
                            pipeline=job.pending.pipeline or None,
                        )
                    )
                if job.extra is not None:
                    job.extra(self.store, job.pending)
                if job.pending:
                    job.pending.commit(self.store)
            self.seconds["append"] += t1 - t0
            self.seconds["decisions"] += time.perf_counter() - t1
        except BaseException as exc:  # the runtime sees it on every job of the group
            for job in group:
                job.future.set_exception(exc)
            return
        self.groups += 1
        self.jobs += len(group)
        for job, result in zip(group, results, strict=True):
            job.future.set_result(result)

    def _append(self, group: list[WriteJob], results: list[WriteResult]) -> None:
        blocks = [b for job in group for b in job.blocks]
        if not blocks:
            return
        try:
            report = self.store.append(blocks)
        except InputError:
            pass  # one bad block refuses the call: store them one by one to find it
        else:
            results[0].stored, results[0].duplicates = report.stored, report.duplicates
            return
        for job, result in zip(group, results, strict=True):
            for i, block in enumerate(job.blocks):
                try:
                    one = self.store.append([block])
                except InputError as exc:
                    result.refused[i] = str(exc)
                    continue
                result.stored += one.stored
                result.duplicates += one.duplicates
