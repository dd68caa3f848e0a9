"""Serve the dashboard over a simulated plant: broker, simulator, pipeline and service in one
process (``shopfloor serve --simulate``), the way the browser test and a demo see it.

The live pipeline holds the store's writer; the service reads beside it and writes (alert
acknowledgements) through the pipeline's own store handle on the same event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from shopfloor.service.access import StoreAccess
from shopfloor.service.app import create_app
from shopfloor.service.auth import Role, User
from shopfloor.service.settings import ServiceSettings


async def serve(
    settings: ServiceSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    simulate_s: float | None = None,
    motors: int = 3,
    serve_s: float | None = None,
    on_started: Callable[[str, str | None], None] | None = None,
    echo: Callable[[str], None] | None = None,
    one_time_admin: bool = False,
) -> dict[str, Any]:
    """Run the service (and, with ``simulate_s``, the simulated plant for that long).

    ``serve_s``: stop after that many seconds (None: until cancelled).
    ``on_started(url, login_link)``: called once the service listens; ``login_link`` is a
    one-time admin login (:class:`~shopfloor.service.auth.OneTimeTokens`) when
    ``one_time_admin``, else None. Returns the demo summary when a plant was simulated, else
    an empty dict.
    """
    import uvicorn

    store_home = settings.home / "live-demo" if simulate_s is not None else settings.home
    access = StoreAccess(store_home, write_wait_s=settings.write_wait_s)
    app = create_app(settings, access)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    server_task = asyncio.create_task(server.serve())
    while not server.started:
        if server_task.done():
            server_task.result()  # raises why it could not start (port in use)
            raise OSError(f"the service did not start on {host}:{port}")
        await asyncio.sleep(0.05)
    url = f"http://{host}:{port}/"
    link = None
    if one_time_admin:
        token = app.state.one_time.issue(User("admin", Role.ADMIN))
        link = f"{url}login/once?token={token}"
    if on_started is not None:
        on_started(url, link)
    summary: dict[str, Any] = {}
    plant = (
        _PlantThread(_simulate(access, store_home, simulate_s, motors, echo))
        if simulate_s is not None
        else None
    )
    try:
        if plant is not None:
            # A stopped server (Ctrl-C) also stops the simulation.
            sim_task = asyncio.ensure_future(asyncio.wrap_future(plant.future))
            await asyncio.wait({server_task, sim_task}, return_when=asyncio.FIRST_COMPLETED)
            if sim_task.done():
                summary = sim_task.result()
        if not server_task.done():
            await asyncio.wait({server_task}, timeout=serve_s)
    finally:
        server.should_exit = True
        if plant is not None:
            plant.stop()
        await server_task
    return summary


class _PlantThread:
    """The simulated plant (broker, simulator, pipeline) on its own thread and event loop.

    On the service's loop, request handling (parsing, validation, JSON) delayed the
    pipeline's windows by seconds under load; on its own thread the pipeline is scheduled
    beside the service instead of behind it.
    """

    def __init__(self, work: Coroutine[Any, Any, dict[str, Any]]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="plant", daemon=True)
        self.thread.start()
        self.future = asyncio.run_coroutine_threadsafe(work, self.loop)

    def stop(self) -> None:
        if not self.future.done():
            self.future.cancel()
            with contextlib.suppress(concurrent.futures.CancelledError, Exception):
                self.future.result(timeout=15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=15)


async def _simulate(
    access: StoreAccess,
    home: Path,
    duration_s: float,
    motors: int,
    echo: Callable[[str], None] | None,
) -> dict[str, Any]:
    from shopfloor.pipelines.live.demo import run_live_demo

    def attach(runtime: Any, elapsed: float, stage: str) -> None:
        # Called on the plant's loop while the pipeline runs: from now on writes go through
        # its store writer and the latest health comes from it.
        access.writer = runtime.store
        access.live = runtime

    try:
        summary = await run_live_demo(
            home, duration_s=duration_s, n_motors=motors, on_status=attach, echo=echo
        )
    finally:
        access.writer = None
        access.live = None
    return summary.to_dict()
