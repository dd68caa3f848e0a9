"""How the service reaches the store: readers never wait; writes go through one writer.

Reads open the store read-only (they never wait for, or block, the pipeline that writes it).
Writes (acknowledge, close, activate a model) need the writer: when the service runs in the
same process as the live pipeline, each write runs on that pipeline's store writer thread (in
order with its own writes); otherwise it opens the store writable for the one write, waiting
``write_wait_s`` for another writer before answering 503 with the holder's name.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool

from shopfloor.core.assets import Asset
from shopfloor.core.errors import StoreError
from shopfloor.core.store import Store

T = TypeVar("T")


class LiveStatus(Protocol):
    """What a running pipeline tells the dashboard (the live runtime has this method)."""

    def snapshot(self) -> list[dict[str, Any]]: ...


class StoreAccess:
    """Read and write access to one data directory for the service.

    Parameters
    ----------
    home: the data directory.
    writer: the pipeline's writable store when it runs in this process (writes then happen
        on the event loop that runs the pipeline, never on a second connection).
    live: the running pipeline, for the latest health of every asset.
    write_wait_s: see :class:`~shopfloor.service.settings.ServiceSettings`.
    asset_cache_s: how long the list of assets is reused. Validating every asset document
        (units included) costs about 0.5 ms each, 250 ms for a 500-asset fleet, on every page
        and live-feed poll otherwise; assets change rarely (a new machine, a renamed one),
        while their health comes from events, which are always read fresh.
    read_threads: reads run at once in worker threads (see :meth:`reading`).
    """

    def __init__(
        self,
        home: Path,
        *,
        writer: Store | None = None,
        live: LiveStatus | None = None,
        write_wait_s: float = 2.0,
        asset_cache_s: float = 10.0,
        read_threads: int = 4,
    ) -> None:
        self.home = Path(home)
        self.writer = writer
        self.live = live
        self.write_wait_s = write_wait_s
        self.asset_cache_s = asset_cache_s
        self._lock = asyncio.Lock()
        self._assets: tuple[float, list[Asset]] | None = None
        self._assets_lock = threading.Lock()
        self._memo: dict[str, tuple[int, Any]] = {}
        self.read_threads = read_threads
        self._limiter: Any = None

    def assets(self, store: Store) -> list[Asset]:
        """The store's assets, reused for ``asset_cache_s`` seconds."""
        with self._assets_lock:
            now = time.monotonic()
            # An empty list is not kept: a store being set up gains its assets in a moment.
            if (
                self._assets is None
                or now - self._assets[0] > self.asset_cache_s
                or not self._assets[1]
            ):
                self._assets = (now, store.assets())
            return self._assets[1]

    def by_cursor(self, name: str, store: Store, compute: Callable[[Store], T]) -> T:
        """``compute(store)``, reused while the event history's cursor has not moved.

        Every change to an event appends a history row (:meth:`Store.event_cursor`), so a
        figure derived only from events (open alerts per asset) stays right until it moves.
        """
        cursor = store.event_cursor()
        with self._assets_lock:
            hit = self._memo.get(name)
            if hit is not None and hit[0] == cursor:
                return hit[1]  # type: ignore[no-any-return]
        value = compute(store)
        with self._assets_lock:
            self._memo[name] = (cursor, value)
        return value

    def exists(self) -> bool:
        return Store.exists(self.home)

    @contextmanager
    def read(self) -> Iterator[Store]:
        with Store.open(self.home, read_only=True) as store:
            yield store

    async def reading(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn`` on a read-only store in a worker thread (the event loop stays free).

        At most ``read_threads`` reads run at once; the rest wait on the event loop. Every
        Python thread competes for one interpreter lock, and forty reader threads (the
        default pool) starved the live pipeline's thread under load.
        """
        import anyio

        def call() -> T:
            with self.read() as store:
                return fn(store)

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.read_threads)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    async def writing(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn`` with the writable store (see the class docstring).

        With a live pipeline in this process, ``fn`` runs on its store writer thread, in
        order with the pipeline's own writes (the only thread that may use that store while
        the pipeline runs); an error in ``fn`` is this request's alone.
        """
        queue = getattr(self.live, "writer", None) if self.writer is not None else None
        if queue is not None:
            # No lock here: the writer thread runs jobs one at a time, in order, so the writes
            # that queue meanwhile ride in its next group instead of waiting on each other.
            done: Future[T] = Future()

            def job(store: Store, pending: Any) -> None:
                try:
                    done.set_result(fn(store))
                except BaseException as exc:  # never fail the pipeline's own jobs
                    done.set_exception(exc)

            queue.call(job)
            try:
                return await asyncio.wait_for(
                    asyncio.wrap_future(done), timeout=max(30.0, self.write_wait_s)
                )
            except TimeoutError:  # the pipeline stopped in between
                raise StoreError(
                    "the live pipeline's store writer did not answer; try again"
                ) from None
        # No pipeline here, or it is starting or stopping: open the store for this write
        # (waiting write_wait_s for whoever holds it, then 503 naming them). A pipeline of
        # this process that is stopping releases the store within seconds: wait for it.
        wait_s = self.write_wait_s if self.writer is None else max(self.write_wait_s, 15.0)
        async with self._lock:

            def call() -> T:
                with Store.open(self.home, wait_s=wait_s) as store:
                    return fn(store)

            return await run_in_threadpool(call)
