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


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ALARM = "alarm"
    CRITICAL = "critical"


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

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"event ends ({self.end}) before it starts ({self.start})")
        return self
