"""Events: what leaves detection, assessment and prognostics.

An event is a record (asset, start, end, severity, evidence), never a bare flag, so that a
person can check why it was raised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from pydantic import Field, model_validator

from shopfloor.core.assets import Model


class EventKind(StrEnum):
    ANOMALY = "anomaly"
    DIAGNOSIS = "diagnosis"
    PREDICTION = "prediction"
    ALERT = "alert"
    #: A finding about the data, not the machine (gap, stuck or vanished channel, clock jump).
    DATA_QUALITY = "data_quality"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ALARM = "alarm"
    CRITICAL = "critical"


class EventStatus(StrEnum):
    """Where an event is in its lifecycle: open -> acknowledged -> closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Resolution(StrEnum):
    """How a closed event was judged: the operator feedback training can use."""

    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"


class Event(Model):
    """One detection, diagnosis, prediction or alert, with the evidence behind it."""

    id: str = Field(default_factory=lambda: uuid4().hex)
    asset_id: str
    kind: EventKind
    start: datetime
    end: datetime | None = None
    severity: Severity = Severity.INFO
    summary: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    source: str | None = Field(default=None, description="component that raised it")
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # Lifecycle and provenance (all optional, so events made before them stay valid).
    status: EventStatus = EventStatus.OPEN
    resolution: Resolution | None = None
    dedup_key: str | None = Field(
        default=None, description="events with the same key while one is open are one event"
    )
    model_id: str | None = Field(default=None, description="registered model that raised it")
    component_id: str | None = None
    channel_id: str | None = None
    occurrences: int = Field(default=1, ge=1)
    last_seen: datetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"event ends ({self.end}) before it starts ({self.start})")
        return self
