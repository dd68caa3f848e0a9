"""What raw data a plant keeps: the retention policy and the intervals it protects.

Continuous raw vibration of 200 channels at 25.6 kHz is about 1.7 TB a day (float32), which no
plant keeps. Like the condition-monitoring systems plants already run, the defaults keep:

* a ring buffer of the newest ``ring_minutes`` of raw samples of every channel: enough for a
  detector to raise an event and for the event's raw window to be kept;
* a raw snapshot of ``snapshot_s`` seconds every ``snapshot_every_s`` (epoch-aligned, so all
  channels of the plant are snapshotted at the same instants and can be compared);
* the raw samples from ``event_before_s`` before to ``event_after_s`` after every event of the
  asset (all its channels: the others give context);
* features, events and everything in the catalog, always.

Defaults: 10 min ring, 1 s every 10 min, 60 s before and after each event. The 10-minute
snapshot interval is the usual periodic-acquisition interval of online CMS; 1 s at 25.6 kHz
gives 1 Hz resolution over the whole band, enough for bearing defect orders; 60 s around an
event covers several slow-speed revolutions and the run-up to a trip.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

NS = 1_000_000_000


class RetentionPolicy(BaseModel):
    """Raw-data retention of the stream segments (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ring_minutes: float = Field(default=10.0, gt=0)
    snapshot_every_s: float = Field(default=600.0, gt=0)
    snapshot_s: float = Field(default=1.0, ge=0)
    event_before_s: float = Field(default=60.0, ge=0)
    event_after_s: float = Field(default=60.0, ge=0)

    def snapshot_windows(self, lo_ns: int, hi_ns: int) -> list[tuple[int, int]]:
        """Snapshot intervals ``[t, t + snapshot_s)`` that overlap ``[lo, hi)``, in ns."""
        if self.snapshot_s <= 0:
            return []
        every = round(self.snapshot_every_s * NS)
        length = round(self.snapshot_s * NS)
        first = (lo_ns - length) // every + 1
        return [
            (k * every, k * every + length)
            for k in range(first, hi_ns // every + 1)
            if k * every < hi_ns and k * every + length > lo_ns
        ]

    def raw_seconds_per_day(self, events_per_day: float) -> float:
        """Raw seconds kept per channel and day (excluding the constant ring buffer)."""
        snapshots = 86_400 / self.snapshot_every_s * self.snapshot_s
        return snapshots + events_per_day * (self.event_before_s + self.event_after_s)


def merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open intervals, sorted."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out
