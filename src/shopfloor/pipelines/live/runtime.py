"""The live pipeline service: records in, windows assessed, everything stored, alerts out.

Order of work, which is what makes a crash lose and double-count nothing:

1. each block of a batch is checked as the store would check it on its own (samples, sample
   rate, not from the future); a block that fails is a dead letter with the store's reason;
2. the batch's raw blocks, dead letters, scalar readings and events go to the store writer
   (:mod:`.writer`), a thread that commits them in groups (one fsync for all batches that queued
   while the previous one was written); raw blocks are idempotent on (stream, sequence);
3. its blocks go to their channel's windows; complete windows are assessed by the spec's chain,
   gathered for at most 30 ms (at most 64 windows) so that windows of many
   channels ending together are assessed as one vectorised batch; alerts go to the sinks;
4. the window results go to the writer, all of one assessment in one commit (so the windows a
   channel has committed are always ``0 .. head``), idempotent on (pipeline, asset, channel,
   window);
5. each batch's messages are acknowledged to the transport (MQTT QoS 1) only once the writer has
   committed its blocks.

The writer's fsync overlaps the chain: a slow disk delays acknowledgements, not decisions. A crash
before 5 makes the broker deliver the messages again, and what the store already holds is
recognised; blocks stored but not yet assessed (acknowledged before their window's result was
committed) are read back from the store and windowed on restart (:meth:`LiveRuntime.prepare`), so
each window is assessed and recorded once. (An alert sent to the log or a webhook just before
such a crash may be sent again on restart; the store's copy is folded by its de-duplication key.)

Bad input never stops the service: an unknown topic, a garbage payload or a wrong sample rate
becomes a dead letter with its reason; a block the store refuses (from the future, contradicting
a stored block) becomes a dead letter with the store's reason; a clock jump and a channel that
stops become data-quality events; a component that fails on one window marks that window
``error`` with the reason and the next window runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopfloor.acquisition.live.connector import Connector, DeadLetter, Record
from shopfloor.advisory.alerts import Alert
from shopfloor.core.errors import InputError, ShopfloorError
from shopfloor.core.events import Event
from shopfloor.core.store import Block, DeadLetterRecord, ScalarReading, Store
from shopfloor.core.store.streams import check_block
from shopfloor.pipelines.live.components import stored_results
from shopfloor.pipelines.live.ledger import Ledger, Origin, Pending
from shopfloor.pipelines.live.registry import Window, run_chain
from shopfloor.pipelines.live.sinks import build_sinks, quality_event
from shopfloor.pipelines.live.spec import LoadedSpec
from shopfloor.pipelines.live.windows import ChannelWindows, ReadyWindow
from shopfloor.pipelines.live.writer import StoreWriter, WriteJob, WriteResult

Key = tuple[str, str]
NS = 1_000_000_000
MAX_BATCHES_IN_FLIGHT = 32
"""Batches assessed but not yet committed by the writer, at most: beyond it the loop waits for
the writer (back-pressure reaches the transport through the bounded queue)."""
MAX_DECISION_WAIT_S = 0.03
"""Longest a complete window waits for others to be assessed with it (s): the blocks of a few
hundred channels that end at the same instant arrive within a few ms of each other."""
MAX_WINDOWS_PER_DECISION = 64
"""Most windows assessed at once (as the backfill's batches: 64 x 25,600 x 8 B of samples)."""


@dataclass
class Counters:
    records: int = 0
    blocks_stored: int = 0
    blocks_duplicate: int = 0
    scalars: int = 0
    dead_letters: int = 0
    windows: int = 0
    windows_incomplete: int = 0
    windows_error: int = 0
    alerts: int = 0
    clock_jumps: int = 0
    channels_stopped: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ChannelStatus:
    last_seen_wall: float = 0.0
    last_seq: int | None = None
    last_end_ns: int | None = None
    stopped: bool = False
    value: float | None = None
    results: dict[str, Any] = field(default_factory=dict)


@dataclass
class _InFlight:
    future: Future[WriteResult]
    items: list[Record | DeadLetter]
    pending: Pending


class LiveRuntime:
    """Runs one pipeline spec against a live connector, writing to an open (writable) store.

    While :meth:`run` runs, only its writer thread uses ``store``; the caller must not.

    Parameters
    ----------
    loaded: the validated spec with its fleet.
    store: the store, opened writable by the caller.
    echo: called with each alert's log line (the CLI prints them).
    on_window: called with each assessed window (tests, the demo's status table).
    """

    def __init__(
        self,
        loaded: LoadedSpec,
        store: Store,
        *,
        echo: Callable[[str], None] | None = None,
        on_window: Callable[[Window], None] | None = None,
    ) -> None:
        self.loaded = loaded
        self.spec = loaded.spec
        self.fleet = loaded.fleet
        self.store = store
        self.ledger = Ledger(store, self.spec.name)
        self.components = loaded.components()
        self.writer: StoreWriter | None = None
        self.sinks = build_sinks(self.spec.sinks, echo, self._via_writer)
        self.on_window = on_window
        self.counters = Counters()
        self.windows: dict[Key, ChannelWindows] = {}
        self.state: dict[Key, dict[str, Any]] = {}
        self.status: dict[Key, ChannelStatus] = {}
        self.latencies_ms: deque[float] = deque(maxlen=100_000)
        """Per window: its last sample's time to its decision, ms (sender and network included)."""
        self.pipeline_ms: deque[float] = deque(maxlen=100_000)
        """Per window: receipt of the block that completed it to its decision, ms."""
        self.ingest_ms: deque[float] = deque(maxlen=100_000)
        """Per window: receipt of the block that completed it to the loop taking it, ms (the
        transport's hand-over and the queue; the rest of ``pipeline_ms`` is the chain)."""
        self.stored_ms: deque[float] = deque(maxlen=100_000)
        """Per window: its last sample's time to its result committed in the store, ms."""
        self.alerts: list[Alert] = []
        self.seconds = {
            "store_append": 0.0,
            "chain": 0.0,
            "chain_cpu": 0.0,
            "store_decisions": 0.0,
            "handle": 0.0,
        }
        """Wall seconds in each step: the loop's (``chain``, ``handle`` in all) and the store
        writer thread's (``store_append``, ``store_decisions``), which overlap the loop's;
        ``chain_cpu``: CPU seconds of the loop's thread in the chain (what a free core needs)."""
        self.decisions = 0
        """Assessments made (each over the windows gathered, see :meth:`decide`)."""
        self.batches = 0
        self.writer_stats: dict[str, Any] = {}
        """Store writer after a run: commits, batches they held, seconds appending/deciding."""
        self.health: dict[str, Any] = {}
        self._assets = {a.id: a for a in self.fleet.assets}
        self._rates: dict[Key, float] = {}
        self._inflight: asyncio.Queue[_InFlight | None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._failure: BaseException | None = None
        self._ready: list[tuple[Key, ReadyWindow]] = []
        self._completed_by: list[int] = []
        self._given_up: list[tuple[Key, int]] = []
        self._ready_since: float | None = None

    # ------------------------------------------------------------------ start-up
    def prepare(self) -> None:
        """Register the fleet in the store and resume every channel's windows from stored state."""
        for asset in self.fleet.core_assets():
            owner = self.store.asset_owner(asset.id) if self.store.has_asset(asset.id) else None
            if owner is None:
                self.store.put_asset(asset)
        streams = {(str(s["asset_id"]), str(s["channel_id"])): s for s in self.store.streams()}
        self._rates = {k: float(s["sample_rate_hz"]) for k, s in streams.items()}  # type: ignore[arg-type]
        for key, origin in self.ledger.origins.items():
            live_asset = self._assets.get(key[0])
            ch = (
                next((c for c in live_asset.channels if c.id == key[1]), None)
                if live_asset
                else None
            )
            if ch is None or ch.sample_rate_hz is None:
                continue
            cw = ChannelWindows(origin.origin_seq, origin.blocks_per_window, ch.sample_rate_hz)
            cw.next_index = self.ledger.next_window(*key)
            self.windows[key] = cw
            if cw.next_index > 0:
                history = _History(self.store, self.spec.name, key)
                state = self.state.setdefault(key, {})
                for comp in self.components:
                    comp.restore(state, history)
            stored = streams.get(key)
            if stored is None or stored["last_seq"] is None:
                continue
            first_seq = cw.origin_seq + cw.next_index * cw.blocks_per_window
            if _int(stored["last_seq"]) < first_seq:
                continue
            start_ns = self.ledger.last_end_ns(*key, cw.next_index - 1) or (
                # the newest decided window was given up (no end): count from the origin
                origin.start_ns + round((first_seq - origin.origin_seq) * origin.block_samples
                                        * NS / cw.sample_rate_hz)
            )  # fmt: skip
            self._replay_stored(key, cw, origin, first_seq, start_ns, _int(stored["last_end_ns"]))
        self.ledger.commit_now(self.store)

    def _replay_stored(
        self, key: Key, cw: ChannelWindows, origin: Origin, first_seq: int, lo: int, hi: int
    ) -> None:
        """Blocks stored before a crash but not yet windowed go back into their windows."""
        piece = self.store.read(key[0], key[1], lo, hi)
        values = piece.values.astype(np.float64)
        n = origin.block_samples
        step = NS / cw.sample_rate_hz
        ready: list[ReadyWindow] = []
        for i in range(values.size // n):
            t0 = lo + round(i * n * step)
            ready += cw.add(first_seq + i, t0, values[i * n : (i + 1) * n])
        self.status.setdefault(key, ChannelStatus()).last_seq = first_seq + values.size // n - 1
        self._assess([(key, w) for w in ready])

    # ------------------------------------------------------------------ the loop
    async def run(
        self,
        connector: Connector,
        *,
        duration_s: float | None = None,
        stop: asyncio.Event | None = None,
    ) -> Counters:
        """Run until ``duration_s`` passes, ``stop`` is set or the transport closes.

        Raises what the store raised (a full disk, say) after stopping cleanly: nothing that
        was not committed is acknowledged.
        """
        self.prepare()
        stop = stop or asyncio.Event()
        queue: asyncio.Queue[Record | DeadLetter | None] = asyncio.Queue(self.spec.queue_size)
        await connector.open()  # an unreachable broker fails here, before any thread starts
        self.writer = StoreWriter(self.store)
        self._inflight = asyncio.Queue()
        self._slots = asyncio.Semaphore(MAX_BATCHES_IN_FLIGHT)
        acker = asyncio.create_task(self._ack_committed(stop))

        async def read() -> None:
            try:
                async for item in connector.records():
                    await queue.put(item)  # waits when full: back-pressure to the transport
            finally:
                await queue.put(None)

        reader = asyncio.create_task(read())
        watchdog = asyncio.create_task(self._watch(stop))
        timer = None
        if duration_s is not None:
            timer = asyncio.get_running_loop().call_later(duration_s, stop.set)
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait(
                    {getter, stopper},
                    timeout=self._decision_due(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:  # windows gathered long enough: assess them, keep reading
                    getter.cancel()
                    await self.decide()
                    continue
                if getter not in done:
                    getter.cancel()
                    break
                first = getter.result()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self.spec.batch_max and not queue.empty():
                    item = queue.get_nowait()
                    if item is None:
                        stop.set()
                        break
                    batch.append(item)
                await self.handle(batch, more=not queue.empty())
                self.health = connector.health()
        finally:
            if timer is not None:
                timer.cancel()
            stopper.cancel()
            watchdog.cancel()
            if self._failure is None and (self._ready or self._given_up):
                await self.decide()
            for sink in self.sinks:
                await sink.close()
            # what was assessed is committed and acknowledged before the transport closes
            await self._inflight.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await acker
            self.writer.close()
            self.writer_stats = {
                "commits": self.writer.groups,
                "batches": self.writer.jobs,
                "append_s": round(self.writer.seconds["append"], 3),
                "decisions_s": round(self.writer.seconds["decisions"], 3),
            }
            self.seconds["store_append"] = self.writer.seconds["append"]
            self.seconds["store_decisions"] = self.writer.seconds["decisions"]
            self.writer = None
            await connector.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if self._failure is not None:
            raise self._failure
        return self.counters

    async def _ack_committed(self, stop: asyncio.Event) -> None:
        """Acknowledge each batch once the writer has committed it, in order."""
        assert self._inflight is not None
        assert self._slots is not None
        while (job := await self._inflight.get()) is not None:
            try:
                result = await asyncio.wrap_future(job.future)
            except BaseException as exc:  # the store failed: stop, acknowledge nothing more
                if self._failure is None:
                    self._failure = exc
                stop.set()
                self._slots.release()
                continue
            self.ledger.committed(job.pending)
            now = time.time_ns()
            self.stored_ms.extend(
                (now - w.end_ns) / 1e6 for w in job.pending.windows if w.status == "ok"
            )
            self.counters.blocks_stored += result.stored
            self.counters.blocks_duplicate += result.duplicates
            self.counters.dead_letters += len(result.refused)
            if self._failure is None:
                for item in job.items:
                    await item.ack()
            self._slots.release()

    def _via_writer(self, fn: Callable[[Store, Pending], None]) -> None:
        """Store work from the loop (events): on the writer thread while it runs."""
        if self.writer is None:
            fn(self.store, Pending())
        else:
            self.writer.call(fn)

    async def _watch(self, stop: asyncio.Event) -> None:
        """Raise a data-quality event for a waveform channel that has gone silent."""
        while not stop.is_set():
            await asyncio.sleep(min(1.0, self.spec.stale_after_s / 4))
            now = time.time()
            events = []
            for key, st in self.status.items():
                if st.last_seq is None or st.stopped or st.last_seen_wall == 0.0:
                    continue
                if now - st.last_seen_wall > self.spec.stale_after_s:
                    st.stopped = True
                    self.counters.channels_stopped += 1
                    detail = f"no data for {now - st.last_seen_wall:.0f} s (channel stopped)"
                    events.append(
                        quality_event(*key, "channel_stopped", detail, time.time_ns(), "runtime")
                    )
            if events:
                self._via_writer(_add_events(events))

    # ------------------------------------------------------------------ one batch
    async def handle(self, batch: list[Record | DeadLetter], *, more: bool = False) -> None:
        """Check and window a batch and hand its writes to the store writer (its messages are
        acknowledged once committed); then assess the complete windows, unless ``more`` records
        are already waiting and the windows can wait (see :meth:`_should_decide`)."""
        t_handle = time.perf_counter()
        dead: list[tuple[Record | DeadLetter, str]] = []
        blocks: list[Record] = []
        scalars: list[Record] = []
        for item in batch:
            self.counters.records += 1
            if isinstance(item, DeadLetter):
                dead.append((item, item.reason))
            elif item.kind == "block":
                blocks.append(item)
            else:
                scalars.append(item)
                self._scalar(item)
        accepted = self._check_blocks(blocks, dead)
        quality = []
        for rec in accepted:
            key = (rec.asset_id, rec.channel_id)
            st = self.status.setdefault(key, ChannelStatus())
            if st.stopped:
                st.stopped = False
            st.last_seen_wall = time.time()
            follows = st.last_seq is not None and rec.seq == st.last_seq + 1
            # a block its sender marks as a new capture (a dropped file) has an expected gap
            if follows and rec.contiguous and st.last_end_ns:
                jump_s = (rec.start_ns - st.last_end_ns) / NS
                if abs(jump_s) * (rec.sample_rate_hz or 1.0) > 1.0:
                    self.counters.clock_jumps += 1
                    detail = f"clock jump of {jump_s:+.3f} s at seq {rec.seq}"
                    quality.append(
                        quality_event(*key, "clock_jump", detail, rec.received_ns, "runtime")
                    )
            if st.last_seq is None or rec.seq > st.last_seq:
                st.last_seq, st.last_end_ns = rec.seq, rec.end_ns
            cw = self._channel_windows(key, rec)
            new = cw.add(rec.seq, rec.start_ns, rec.values)
            self._ready += [(key, w) for w in new]
            self._completed_by += [rec.received_ns] * len(new)
            if new:
                self.ingest_ms.append((time.time_ns() - rec.received_ns) / 1e6)
            while cw.incomplete:
                self._given_up.append((key, cw.incomplete.pop(0)))
        for item, reason in dead:
            self.counters.dead_letters += 1
            self.ledger.add_dead_letter(
                DeadLetterRecord(
                    source=self.spec.source.kind,
                    reason=reason,
                    received_ns=item.received_ns,
                    topic=item.topic,
                    payload=item.payload_head if isinstance(item, DeadLetter) else b"",
                    payload_bytes=item.payload_bytes if isinstance(item, DeadLetter) else None,
                    pipeline=self.spec.name,
                )
            )
        if (self._ready or self._given_up) and self._ready_since is None:
            self._ready_since = time.perf_counter()
        # the raw blocks go first, before the windows they complete are assessed, so the
        # writer's fsync overlaps the chain
        await self._submit(
            WriteJob(
                [_block(r) for r in accepted],
                self.ledger.take(),
                extra=_extra_writes(quality, scalars, self.spec.source.kind, self.spec.name),
                dead_source=self.spec.source.kind,
                topics=[r.topic for r in accepted],
            ),
            batch,
        )
        self.batches += 1
        self.seconds["handle"] += time.perf_counter() - t_handle
        if self._should_decide(more):
            await self.decide()

    def _should_decide(self, more: bool) -> bool:
        """Assess now, or gather the windows that are about to complete too?

        Windows of many channels complete together (their blocks end at the same instant but
        arrive one after another); assessed as one batch, their features are computed
        vectorised, at about a third of the cost of one by one, so the last of them is decided
        sooner. A window waits at most :data:`MAX_DECISION_WAIT_S` for others (the loop's read
        times out then, see :meth:`_decision_due`); at most :data:`MAX_WINDOWS_PER_DECISION`
        are gathered.
        """
        if not self._ready and not self._given_up:
            return False
        if len(self._ready) >= MAX_WINDOWS_PER_DECISION:
            return True
        return self._decision_due() == 0.0

    def _decision_due(self) -> float | None:
        """Seconds until the gathered windows must be assessed (None: nothing gathered)."""
        if self._ready_since is None:
            return None
        return max(0.0, MAX_DECISION_WAIT_S - (time.perf_counter() - self._ready_since))

    async def decide(self) -> None:
        """Assess the windows gathered so far and hand their results to the writer.

        Windows given up (blocks missing) are recorded in the same commit as the windows
        released before them, so the windows a channel has committed are always ``0 .. head``
        (what the ledger's resume relies on).
        """
        ready, completed_by, given_up = self._ready, self._completed_by, self._given_up
        self._ready, self._completed_by, self._given_up = [], [], []
        self._ready_since = None
        t_chain, c_chain = time.perf_counter(), time.thread_time()
        alerts = self._assess(ready) if ready else []
        for key, k in given_up:
            if self.ledger.add_window(*key, k, 0, 0, None, status="incomplete"):
                self.counters.windows_incomplete += 1
        self.seconds["chain"] += time.perf_counter() - t_chain
        self.seconds["chain_cpu"] += time.thread_time() - c_chain
        self.decisions += 1
        now = time.time_ns()
        self.pipeline_ms.extend((now - r) / 1e6 for r in completed_by)
        for alert in alerts:
            if alert is not None:
                self.counters.alerts += 1
                self.alerts.append(alert)
                for sink in self.sinks:
                    try:
                        await sink.send(alert)
                    except ShopfloorError as exc:  # a sink failing must not stop the loop
                        self.health[f"sink_{sink.name}_error"] = str(exc)
        await self._submit(WriteJob([], self.ledger.take()), [])

    async def _submit(self, job: WriteJob, items: list[Record | DeadLetter]) -> None:
        if self.writer is None or self._slots is None or self._inflight is None:
            raise RuntimeError("LiveRuntime.handle runs inside LiveRuntime.run")
        await self._slots.acquire()  # back-pressure: at most MAX_BATCHES_IN_FLIGHT uncommitted
        future = self.writer.submit(job)
        await self._inflight.put(_InFlight(future, items, job.pending))
        self.seconds["store_append"] = self.writer.seconds["append"]
        self.seconds["store_decisions"] = self.writer.seconds["decisions"]

    def _check_blocks(
        self, blocks: list[Record], dead: list[tuple[Record | DeadLetter, str]]
    ) -> list[Record]:
        """Blocks the store will take; the others become dead letters with the store's reason."""
        now_ns = time.time_ns()
        accepted = []
        for rec in blocks:
            key = (rec.asset_id, rec.channel_id)
            rate = rec.sample_rate_hz or 0.0
            block = _block(rec)
            where = f"block ({rec.asset_id}/{rec.channel_id} seq {rec.seq})"
            try:
                check_block(block, self._rates.get(key), now_ns=now_ns, where=where)
            except InputError as exc:
                dead.append((rec, f"refused by the store: {exc}"))
                continue
            self._rates.setdefault(key, rate)
            accepted.append(rec)
        return accepted

    def _scalar(self, rec: Record) -> None:
        self.counters.scalars += 1
        st = self.status.setdefault((rec.asset_id, rec.channel_id), ChannelStatus())
        st.value = float(rec.values[0])

    def _channel_windows(self, key: Key, rec: Record) -> ChannelWindows:
        cw = self.windows.get(key)
        if cw is not None:
            return cw
        assert rec.sample_rate_hz is not None
        window_n = round(self.spec.window_s * rec.sample_rate_hz)
        bpw = max(1, round(window_n / rec.values.size))
        origin = Origin(rec.seq, bpw, rec.start_ns, int(rec.values.size))
        self.ledger.set_origin(*key, origin)
        cw = self.windows[key] = ChannelWindows(rec.seq, bpw, rec.sample_rate_hz)
        return cw

    def _assess(self, ready: list[tuple[Key, ReadyWindow]]) -> list[Alert]:
        """Run the chain over complete windows (vectorised across channels), record each."""
        items = [(k, w) for k, w in ready if not self.ledger.has(*k, w.index)]
        windows = [
            Window(
                self._assets[key[0]],
                key[1],
                w.index,
                w.start_ns,
                w.end_ns,
                self.windows[key].sample_rate_hz,
                w.samples,
                self.state.setdefault(key, {}),
            )
            for key, w in items
        ]
        errors = run_chain(self.components, windows)
        alerts: list[Alert] = []
        now = time.time_ns()
        for i, ((key, w), window) in enumerate(zip(items, windows, strict=True)):
            status = "ok"
            if i in errors:
                status = "error"
                window.results["error"] = errors[i]
                self.counters.windows_error += 1
            self.ledger.add_window(
                *key, w.index, w.start_ns, w.end_ns, stored_results(window.results), status
            )
            self.counters.windows += 1
            self.latencies_ms.append((now - w.end_ns) / 1e6)
            self.status.setdefault(key, ChannelStatus()).results = window.results
            if self.on_window is not None:
                self.on_window(window)
            alert = window.results.get("alert")
            if isinstance(alert, Alert):
                alerts.append(alert)
        return alerts

    # ------------------------------------------------------------------ reporting
    def snapshot(self) -> list[dict[str, Any]]:
        """One row per asset: health, latest features, open alerts (for the status table)."""
        rows = []
        for asset in self.fleet.assets:
            row: dict[str, Any] = {"asset": asset.id, "windows": 0}
            for ch in asset.channels:
                st = self.status.get((asset.id, ch.id))
                if st is None:
                    continue
                if ch.sample_rate_hz is None:
                    row[ch.id] = st.value
                    continue
                d = st.results.get("diagnosis") or {}
                t = st.results.get("time") or {}
                a = st.results.get("anomaly") or {}
                r = st.results.get("rul") or {}
                row.update(
                    health=d.get("label", "-"),
                    grade=d.get("severity", "-"),
                    rms=t.get("rms"),
                    kurtosis=t.get("kurtosis"),
                    anomaly=a.get("margin"),
                    anomaly_alarm=a.get("alarm"),
                    rul_s=r.get("remaining_s"),
                    rul_lower_s=r.get("lower_s"),
                    rul_upper_s=r.get("upper_s"),
                    stopped=st.stopped,
                )
                row["windows"] += self.ledger.windows_decided.get((asset.id, ch.id), 0)
            row["alerts"] = sum(1 for a in self.alerts if a.asset_id == asset.id)
            rows.append(row)
        return rows

    def close(self) -> None:
        """Commit what a direct :meth:`handle` left pending (:meth:`run` commits its own)."""
        if self.writer is None and not self.store.read_only:
            self.ledger.commit_now(self.store)


class _History:
    """A channel's stored window results, for :meth:`Component.restore` (start-up only)."""

    def __init__(self, store: Store, pipeline: str, key: Key) -> None:
        self.store, self.pipeline, self.key = store, pipeline, key

    def first(self, n: int) -> list[tuple[dict[str, Any], int]]:
        rows = self.store.window_results(
            pipeline=self.pipeline, asset_id=self.key[0], channel_id=self.key[1], status="ok",
            since=1, limit=n,
        )  # fmt: skip
        return [(r.results or {}, r.end_ns) for r in rows]

    def trend(self, field: str) -> tuple[Any, Any, Any]:
        t = self.store.window_trend(*self.key, field, pipeline=self.pipeline)
        return t.window, t.t_ns, t.values

    def first_start_ns(self) -> int | None:
        rows = self.store.window_results(
            pipeline=self.pipeline, asset_id=self.key[0], channel_id=self.key[1], status="ok",
            since=1, limit=1,
        )  # fmt: skip
        return rows[0].start_ns if rows else None


def _block(r: Record) -> Block:
    return Block(r.asset_id, r.channel_id, r.seq, r.start_ns, r.sample_rate_hz or 0.0, r.values)


def _add_events(events: list[Event]) -> Callable[[Store, Pending], None]:
    def write(store: Store, pending: Pending) -> None:
        store.add_events(events, who="shopfloor run")

    return write


def _extra_writes(
    quality: list[Event], scalars: list[Record], source: str, pipeline: str
) -> Callable[[Store, Pending], None] | None:
    """Quality events and scalar readings of a batch, written by the store writer; a reading
    the store refuses becomes a dead letter with the store's reason."""
    if not quality and not scalars:
        return None
    readings = [
        ScalarReading(
            r.asset_id, r.channel_id, r.start_ns, float(r.values[0]), r.seq if r.seq >= 0 else None
        )
        for r in scalars
    ]

    def write(store: Store, pending: Pending) -> None:
        if quality:
            store.add_events(quality, who="shopfloor run")
        if not readings:
            return
        try:
            store.append_scalars(readings)
            return
        except InputError:
            pass  # one bad reading refuses the call: store them one by one to find it
        for rec, reading in zip(scalars, readings, strict=True):
            try:
                store.append_scalars([reading])
            except InputError as exc:
                pending.dead.append(
                    DeadLetterRecord(
                        source=source,
                        reason=f"refused by the store: {exc}",
                        received_ns=rec.received_ns,
                        topic=rec.topic,
                        pipeline=pipeline,
                    )
                )

    return write


def _int(value: object) -> int:
    if not isinstance(value, int | float | str):
        raise TypeError(f"expected a number, got {value!r}")
    return int(value)
