"""Recordings: a block of samples from one asset's channels, with its time base and condition.

Metadata (:class:`Recording`) is a pydantic model kept in the store's database; samples travel
as a :class:`pandas.DataFrame` (one float column per channel id) and rest in Parquet.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from shopfloor.core.assets import Hertz, Model, Rpm
from shopfloor.core.labels import FaultLabel, Label, LifeLabel


class TimeBaseKind(StrEnum):
    UNIFORM = "uniform"  # fixed sample rate, one block
    BURSTS = "bursts"  # fixed sample rate inside bursts taken every burst_interval_s
    TIMESTAMPS = "timestamps"  # irregular, one timestamp per row (column 'timestamp')
    CYCLES = "cycles"  # one row per operating cycle (column 'cycle'), no wall clock


class TimeBase(Model):
    """How row positions map to time.

    ``sample_rate_hz`` in Hz for UNIFORM and BURSTS; ``burst_length`` samples per burst and
    ``burst_interval_s`` seconds between burst starts for BURSTS; ``start`` is the wall-clock
    time of the first sample when known.
    """

    kind: TimeBaseKind
    sample_rate_hz: Hertz | None = None
    start: datetime | None = None
    burst_length: int | None = Field(default=None, gt=0)
    burst_interval_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> TimeBase:
        needs_rate = self.kind in (TimeBaseKind.UNIFORM, TimeBaseKind.BURSTS)
        if needs_rate and self.sample_rate_hz is None:
            raise ValueError(f"time base {self.kind} needs sample_rate_hz")
        if self.kind == TimeBaseKind.BURSTS and (
            self.burst_length is None or self.burst_interval_s is None
        ):
            raise ValueError("time base bursts needs burst_length and burst_interval_s")
        return self

    def index_column(self) -> str | None:
        """Name of the extra column that carries time in the sample table, if any."""
        return {
            TimeBaseKind.TIMESTAMPS: "timestamp",
            TimeBaseKind.CYCLES: "cycle",
            TimeBaseKind.BURSTS: "burst",
        }.get(self.kind)


class OperatingCondition(Model):
    """Operating point during a recording: shaft speed in rpm, load in ``load_unit``."""

    shaft_speed_rpm: Rpm | None = None
    load: float | None = None
    load_unit: str | None = None
    settings: dict[str, float] = Field(default_factory=dict)


class Recording(Model):
    """Metadata of one recording. Samples live in :class:`RecordingData`."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    asset_id: str
    channel_ids: list[str] = Field(min_length=1)
    time_base: TimeBase
    n_samples: int = Field(ge=0)
    condition: OperatingCondition = Field(default_factory=OperatingCondition)
    labels: list[Label] = Field(default_factory=list)
    dataset: str | None = None
    source: str | None = Field(default=None, description="original file, for traceability")

    def fault(self) -> FaultLabel | None:
        return next((lab for lab in self.labels if isinstance(lab, FaultLabel)), None)

    def life(self) -> LifeLabel | None:
        return next((lab for lab in self.labels if isinstance(lab, LifeLabel)), None)

    @property
    def duration_s(self) -> float | None:
        tb = self.time_base
        if tb.kind == TimeBaseKind.UNIFORM and tb.sample_rate_hz:
            return self.n_samples / tb.sample_rate_hz
        if tb.kind == TimeBaseKind.BURSTS and tb.burst_length and tb.burst_interval_s:
            return self.n_samples / tb.burst_length * tb.burst_interval_s
        return None


class RecordingData:
    """A recording's metadata together with its samples.

    ``samples`` has one float64 column per id in ``recording.channel_ids`` and, for time
    bases other than UNIFORM, the index column named by :meth:`TimeBase.index_column`.
    """

    __slots__ = ("recording", "samples")

    def __init__(self, recording: Recording, samples: pd.DataFrame) -> None:
        missing = [c for c in recording.channel_ids if c not in samples.columns]
        if missing:
            raise ValueError(f"recording {recording.id!r}: samples lack channels {missing}")
        idx = recording.time_base.index_column()
        if idx is not None and idx not in samples.columns:
            raise ValueError(f"recording {recording.id!r}: samples lack the {idx!r} column")
        if len(samples) != recording.n_samples:
            raise ValueError(
                f"recording {recording.id!r}: n_samples={recording.n_samples} but "
                f"{len(samples)} rows"
            )
        self.recording = recording
        self.samples = samples

    def channel(self, channel_id: str) -> np.ndarray:
        """Samples of one channel as a float64 array (in the channel's unit)."""
        return self.samples[channel_id].to_numpy(dtype=np.float64)

    def __repr__(self) -> str:
        return f"RecordingData({self.recording.id!r}, {len(self.samples)} rows)"
