"""Running the live runtime over the in-memory transport, bounded in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from shopfloor.acquisition.live.connector import Connector, MemoryTransport
from shopfloor.core.store import Store
from shopfloor.pipelines.live.runtime import LiveRuntime
from shopfloor.pipelines.live.spec import LoadedSpec

Feed = Callable[[MemoryTransport], Awaitable[None]]


async def run_live(
    loaded: LoadedSpec,
    home: Path,
    feed: Feed,
    *,
    transport: MemoryTransport | None = None,
    settle_s: float = 0.0,
    timeout_s: float = 60.0,
    **kwargs: Any,
) -> tuple[LiveRuntime, MemoryTransport]:
    """Start the runtime, feed it, wait until every message is acknowledged, stop."""
    tr = transport or MemoryTransport()
    with Store.open(home) as store:
        rt = LiveRuntime(loaded, store, **kwargs)
        stop = asyncio.Event()
        task = asyncio.create_task(rt.run(Connector(tr, loaded.fleet), stop=stop))
        while not tr.is_open:
            await asyncio.sleep(0.01)
        await feed(tr)
        end = time.monotonic() + timeout_s
        while (tr.health()["unacked"] or tr.health()["queued"]) and time.monotonic() < end:
            await asyncio.sleep(0.02)
        await asyncio.sleep(settle_s)
        stop.set()
        await asyncio.wait_for(task, timeout_s)
        rt.close()
    return rt, tr
