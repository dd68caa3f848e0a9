"""Where alerts go: a log, a webhook, the store (for the dashboard).

A sink that fails (a webhook that is down) is counted and retried with back-off, but never stops
the pipeline: the store keeps every alert regardless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from shopfloor.advisory.alerts import Alert
from shopfloor.core.events import Event, EventKind, Severity
from shopfloor.core.store import Store

log = logging.getLogger("shopfloor.alerts")


class AlertSink(Protocol):
    name: str

    async def send(self, alert: Alert) -> None: ...

    async def close(self) -> None: ...


def alert_event(alert: Alert) -> Event:
    """The store's event for an alert (its de-duplication key folds repeats)."""
    return Event(
        asset_id=alert.asset_id,
        kind=EventKind.ALERT,
        start=datetime.fromtimestamp(alert.start_ns / 1e9, UTC),
        end=datetime.fromtimestamp(alert.end_ns / 1e9, UTC),
        severity=alert.severity,
        summary=alert.summary,
        evidence={**alert.evidence, "suggested_action": alert.suggested_action},
        source=alert.source,
        dedup_key=alert.dedup_key,
        channel_id=alert.channel_id,
    )


def quality_event(
    asset_id: str, channel_id: str, what: str, detail: str, at_ns: int, source: str
) -> Event:
    """A data-quality event (a channel that stopped, a clock jump): a warning with its reason."""
    when = datetime.fromtimestamp(at_ns / 1e9, UTC)
    return Event(
        asset_id=asset_id,
        kind=EventKind.ALERT,
        start=when,
        severity=Severity.WARNING,
        summary=f"{asset_id}/{channel_id}: data quality: {detail}",
        evidence={"data_quality": what, "detail": detail},
        source=source,
        dedup_key=f"quality/{asset_id}/{channel_id}/{what}",
        channel_id=channel_id,
    )


class LogSink:
    name = "log"

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.echo = echo
        self.sent = 0

    async def send(self, alert: Alert) -> None:
        line = f"ALERT {alert.severity.value}: {alert.summary}; {alert.suggested_action}"
        log.info(line)
        if self.echo is not None:
            self.echo(line)
        self.sent += 1

    async def close(self) -> None:
        return None


StoreWork = Callable[[Store, Any], None]


class StoreSink:
    """Alerts into the store's events, through the runtime's store writer (``via``), which
    runs the write on the thread that owns the store's writes."""

    name = "store"

    def __init__(self, via: Callable[[StoreWork], None]) -> None:
        self.via = via
        self.sent = 0

    async def send(self, alert: Alert) -> None:
        event = alert_event(alert)

        def write(store: Store, _pending: Any) -> None:
            store.add_events([event], who="shopfloor run")

        self.via(write)
        self.sent += 1

    async def close(self) -> None:
        return None


class WebhookSink:
    """POST each alert as JSON; retried with exponential back-off, in the background.

    Parameters
    ----------
    url: the receiver (e.g. a chat or CMMS gateway).
    timeout_s: per attempt, s.
    retries: attempts after the first.
    """

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 2.0, retries: int = 3) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.retries = retries
        self.sent = 0
        self.failed = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def _post(self, body: bytes) -> None:
        req = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            resp.read()

    async def _deliver(self, body: bytes) -> None:
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                await asyncio.to_thread(self._post, body)
                self.sent += 1
                return
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                if attempt == self.retries:
                    self.failed += 1
                    log.error("webhook %s failed after %d attempts: %s", self.url, attempt + 1, exc)
                    return
                await asyncio.sleep(delay)
                delay *= 2

    async def send(self, alert: Alert) -> None:
        body = json.dumps(alert.to_dict(), default=str).encode()
        task = asyncio.create_task(self._deliver(body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.timeout_s * (self.retries + 2))


def build_sinks(
    specs: list[Any],
    echo: Callable[[str], None] | None,
    via: Callable[[StoreWork], None],
) -> list[Any]:
    """Sinks named by a spec's ``sinks`` list (registry by name, not if/elif over protocols).

    ``via`` runs a store write where the store's writes are made (the runtime's writer).
    """
    makers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "log": lambda p: LogSink(echo),
        "store": lambda p: StoreSink(via),
        "webhook": lambda p: WebhookSink(**p),
    }
    return [makers[s.use](dict(s.with_)) for s in specs]
