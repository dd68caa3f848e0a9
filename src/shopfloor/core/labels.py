"""Ground-truth labels attached to recordings: faults, run-to-failure lives, anomaly intervals.

Labels come from datasets (seeded faults, run-to-failure tests) and, later, from the plant
(maintenance findings, feedback on alerts). They are a discriminated union on ``kind``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from shopfloor.core.assets import Model


class FaultLocation(StrEnum):
    """Where a fault sits. ``NONE`` marks a healthy reference."""

    NONE = "none"
    INNER_RACE = "inner_race"
    OUTER_RACE = "outer_race"
    ROLLING_ELEMENT = "rolling_element"
    CAGE = "cage"
    SHAFT = "shaft"
    ROTOR = "rotor"
    STATOR = "stator"
    IMPELLER = "impeller"
    VALVE = "valve"
    PROCESS = "process"
    UNKNOWN = "unknown"


class FaultLabel(Model):
    """A known fault in a component, e.g. a 0.007 in EDM pit on the inner race.

    ``size_mm`` is the defect size in mm; ``severity`` a free grade where no size exists.
    """

    kind: Literal["fault"] = "fault"
    location: FaultLocation
    component_id: str | None = None
    fault_type: str | None = Field(default=None, description="e.g. 'EDM pit', 'unbalance'")
    size_mm: float | None = Field(default=None, ge=0)
    severity: str | None = None
    clock_position: str | None = Field(default=None, description="outer-race fault at '6:00' ...")


class LifeLabel(Model):
    """Run-to-failure life of the asset that a recording belongs to.

    ``life`` is the time from the first sample to failure, in ``unit`` (cycles or s).
    ``observed_until`` is how far the recording goes; for a run-to-failure record it equals
    ``life``; for a truncated test record the remaining useful life at its end is
    ``life - observed_until``.
    """

    kind: Literal["life"] = "life"
    unit: Literal["cycles", "s"]
    life: float = Field(gt=0)
    observed_until: float = Field(gt=0)
    failure_criterion: str | None = None

    @model_validator(mode="after")
    def _observed_within_life(self) -> LifeLabel:
        if self.observed_until > self.life:
            raise ValueError(f"observed_until {self.observed_until} exceeds life {self.life}")
        return self

    @property
    def rul_at_end(self) -> float:
        """Remaining useful life after the last observed sample, in ``unit``."""
        return self.life - self.observed_until


class AnomalyInterval(Model):
    """An interval during which the asset was abnormal, in seconds from the recording start."""

    kind: Literal["anomaly"] = "anomaly"
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    fault_type: str | None = None
    changepoints_s: list[float] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> AnomalyInterval:
        if self.end_s < self.start_s:
            raise ValueError(f"anomaly end {self.end_s} s before start {self.start_s} s")
        return self

    def times(self, origin: datetime) -> tuple[datetime, datetime, list[datetime]]:
        """Start, end and changepoints as wall-clock times, given the recording's start
        (``TimeBase.start``), so they compare with :class:`~shopfloor.core.events.Event`."""
        return (
            origin + timedelta(seconds=self.start_s),
            origin + timedelta(seconds=self.end_s),
            [origin + timedelta(seconds=s) for s in self.changepoints_s],
        )


Label = Annotated[FaultLabel | LifeLabel | AnomalyInterval, Field(discriminator="kind")]
