"""The service: REST API, dashboard, live feed and metrics in one FastAPI application.

Build it with :func:`create_app`; ``shopfloor serve`` runs it under uvicorn. Only ``/health``
and ``/ready`` (and the login) answer without a token.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopfloor.core.errors import StoreError
from shopfloor.service import api, api_catalog, dashboard, views
from shopfloor.service.access import StoreAccess
from shopfloor.service.auth import OneTimeTokens, Role, TokenSigner, UserStore
from shopfloor.service.security import need
from shopfloor.service.settings import ServiceSettings

HERE = Path(__file__).parent


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shopfloor")
    except PackageNotFoundError:
        return "0.0.0+unknown"


__version__ = _version()


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not they say their length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read the body here, at most max_bytes of it, and
        # hand it on whole; the application never sees an oversized body.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            more = message.get("more_body", False)
            if seen > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: ServiceSettings, access: StoreAccess | None = None) -> FastAPI:
    """The application for ``settings`` (refuses a default secret: :class:`InputError`).

    ``access`` defaults to read/write access to ``settings.home`` from this process alone;
    pass one holding the live pipeline's store and runtime to serve a running plant.
    """
    settings.check_secret()
    app = FastAPI(
        title="shopfloor",
        version=__version__,
        description="Condition monitoring of rotating machines: assets, alerts, models.",
    )
    app.state.settings = settings
    app.state.access = access or StoreAccess(settings.home, write_wait_s=settings.write_wait_s)
    app.state.users = UserStore(settings.users_path)
    app.state.signer = TokenSigner(settings.secret.get_secret_value(), settings.token_ttl_s)
    app.state.one_time = OneTimeTokens()
    app.state.requests = Counter()
    app.state.live_clients = 0
    app.state.feed = FleetFeed(app.state.access, settings.poll_s)

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        app.state.requests[(request.method, path, response.status_code)] += 1
        return response

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """The process answers (open route)."""
        return {"status": "ok", "version": __version__}

    @app.get("/ready", tags=["health"])
    def ready() -> JSONResponse:
        """The store can be read (open route); 503 with the reason otherwise."""
        acc: StoreAccess = app.state.access
        try:
            with acc.read() as store:
                n = len(store.assets())
        except StoreError as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "assets": n})

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=PlainTextResponse,
        dependencies=[Depends(need(Role.VIEWER))],
    )
    async def metrics() -> PlainTextResponse:
        """Prometheus text format: requests by route and status, events, assets, live clients."""
        acc: StoreAccess = app.state.access
        lines = [
            "# HELP shopfloor_http_requests_total HTTP requests answered.",
            "# TYPE shopfloor_http_requests_total counter",
        ]
        for (method, path, code), n in sorted(app.state.requests.items()):
            lines.append(
                f'shopfloor_http_requests_total{{method="{method}",route="{path}",'
                f'status="{code}"}} {n}'
            )
        if acc.exists():

            def tally(store: Any) -> tuple[int, Counter[tuple[str, str]]]:
                c: Counter[tuple[str, str]] = Counter()
                for row in store.event_counts(("status", "severity")):
                    c[(row["status"], row["severity"])] = row["n"]
                return len(acc.assets(store)), c

            n_assets, by = await acc.reading(tally)
            lines += [
                "# HELP shopfloor_assets Assets in the store.",
                "# TYPE shopfloor_assets gauge",
                f"shopfloor_assets {n_assets}",
                "# HELP shopfloor_events Stored events by status and severity.",
                "# TYPE shopfloor_events gauge",
            ]
            lines += [
                f'shopfloor_events{{status="{s}",severity="{v}"}} {n}'
                for (s, v), n in sorted(by.items())
            ]
        lines += [
            "# HELP shopfloor_live_clients Dashboards following the live feed.",
            "# TYPE shopfloor_live_clients gauge",
            f"shopfloor_live_clients {app.state.live_clients}",
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    @app.get("/api/v1/stream", tags=["live"], dependencies=[Depends(need(Role.VIEWER))])
    async def stream(request: Request, once: bool = False) -> StreamingResponse:
        """Server-sent events: a ``fleet`` message (asset states, open alerts) on every change.

        ``once=true`` sends the current state and ends (for scripts and tests).
        """
        return StreamingResponse(
            _feed(request, app, once),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    app.include_router(api.router)
    app.include_router(api_catalog.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def fleet_message(store: Any, access: StoreAccess) -> dict[str, Any]:
    f = views.fleet(store, access)
    return {
        "assets": [
            {k: a[k] for k in ("id", "state", "open_alerts", "health")} for a in f["assets"]
        ],
        "counts": f["counts"],
        "open_total": f["open_total"],
        "open_events": [
            {
                "id": e.id,
                "asset_id": e.asset_id,
                "severity": e.severity.value,
                "status": e.status.value,
                "summary": e.summary,
                "start": e.start.isoformat(),
                "occurrences": e.occurrences,
            }
            for e in f["open_events"]
        ],
    }


class FleetFeed:
    """The live feed's current message, shared by every client that follows it.

    Each poll reads one number, the event history's cursor (:meth:`Store.event_cursor`);
    only when it moved (an event opened, repeated, acknowledged, commented or closed), or the
    in-process pipeline's latest results changed, is the fleet message rebuilt, once for
    all clients. Without this, 200 dashboards polling twice a second would each rebuild it.
    """

    def __init__(self, access: StoreAccess, poll_s: float) -> None:
        self.access = access
        self.poll_s = poll_s
        self._lock = asyncio.Lock()
        self._checked = -1.0
        self._key: Any = None
        self._text = ""

    def _live_key(self) -> Any:
        live = self.access.live
        if live is None:
            return None
        return json.dumps([(r.get("asset"), r.get("health")) for r in live.snapshot()], default=str)

    async def current(self) -> str:
        """The message as JSON text (re-read at most once per half poll interval)."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            if loop.time() - self._checked < self.poll_s / 2:
                return self._text
            cursor = await self.access.reading(lambda s: s.event_cursor())
            key = (cursor, self._live_key())
            if key != self._key or not self._text:
                msg = await self.access.reading(lambda s: fleet_message(s, self.access))
                msg["cursor"] = cursor
                self._text, self._key = json.dumps(msg), key
            self._checked = loop.time()
            return self._text


async def _feed(request: Request, app: FastAPI, once: bool) -> AsyncIterator[str]:
    acc: StoreAccess = app.state.access
    feed: FleetFeed = app.state.feed
    poll_s: float = app.state.settings.poll_s
    last = ""
    app.state.live_clients += 1
    try:
        yield "retry: 2000\n\n"
        while True:
            if acc.exists():
                msg = await feed.current()
                if msg != last:
                    last = msg
                    yield f"event: fleet\ndata: {msg}\n\n"
            if once or await request.is_disconnected():
                return
            await asyncio.sleep(poll_s)
    finally:
        app.state.live_clients -= 1
