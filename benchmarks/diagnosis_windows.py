"""Window tables for diagnosis benchmarks, built from a prepared dataset in the store.

Nothing here is specific to one dataset: the monitored bearing is a component id, its channel
is the one mounted on that component, the bearing geometry, shaft speed and sample rate come
from the data model, and labels are the recordings' fault labels.

Healthy recordings are split in time into an early block (training only) and a late block
(testing only) before any window is cut, so no window of the healthy test block has ever been
seen in training; all other recordings are assigned whole to one side by the protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np
import pandas as pd
from scipy.signal import resample_poly

from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.labels import FaultLocation
from shopfloor.core.recording import TimeBaseKind
from shopfloor.core.store import Store

CLASSES_4 = [
    FaultClass.NORMAL.value,
    FaultClass.INNER_RACE.value,
    FaultClass.OUTER_RACE.value,
    FaultClass.ROLLING_ELEMENT.value,
]


@dataclass
class Segment:
    """A stretch of one recording's monitored channel at the analysis rate."""

    recording_id: str
    signal: np.ndarray
    rpm: float
    label: str
    load: float | None
    size_mm: float | None
    role: str  # "any", "train_only" (healthy early block) or "test_only" (healthy late block)


@dataclass
class Corpus:
    """Every usable segment of a dataset plus what is needed to analyse it."""

    segments: list[Segment]
    fs: float
    geometry: BearingGeometry
    notes: list[str]


def load_corpus(
    store: Store, dataset: str, component: str, *, healthy_train_fraction: float
) -> Corpus:
    """Segments of the channel on ``component`` for every labelled recording with geometry.

    Recordings are brought to the most common sample rate among them with an anti-aliasing
    polyphase resampler (scipy.signal.resample_poly: Kaiser-windowed FIR low-pass).
    """
    assets = {a.id: a for a in store.assets(dataset)}
    chosen = []
    notes = []
    for rec in store.recordings(dataset=dataset):
        asset = assets[rec.asset_id]
        comps = {c.id: c for c in asset.components}
        if component not in comps or comps[component].bearing is None:
            notes.append(f"{rec.id}: skipped, no geometry for {component!r} on {asset.id}")
            continue
        fault = rec.fault()
        if fault is None or rec.time_base.kind != TimeBaseKind.UNIFORM:
            continue
        label = FaultClass.from_location(fault.location).value
        if label not in CLASSES_4:
            continue
        if fault.location != FaultLocation.NONE and fault.component_id != component:
            continue
        channel = next((c.id for c in asset.channels if c.component_id == component), None)
        if channel is None or channel not in rec.channel_ids:
            continue
        chosen.append((rec, asset, channel, label, fault))
    rates = [float(r.time_base.sample_rate_hz or 0) for r, *_ in chosen]
    fs = max(set(rates), key=rates.count)
    geometries = {
        str(comp.bearing) for _, a, *_ in chosen for comp in a.components if comp.id == component
    }
    if len(geometries) != 1:
        raise ValueError(f"recordings disagree on the geometry of {component!r}")
    geometry = next(c.bearing for c in chosen[0][1].components if c.id == component)
    assert geometry is not None
    segments = []
    for rec, _, channel, label, fault in chosen:
        x = store.load(rec.id).channel(channel)
        rate = float(rec.time_base.sample_rate_hz or fs)
        if rate != fs:
            g = gcd(int(rate), int(fs))
            x = resample_poly(x, int(fs) // g, int(rate) // g)
            notes.append(f"{rec.id}: resampled {rate:g} Hz -> {fs:g} Hz (anti-aliasing FIR)")
        rpm = rec.condition.shaft_speed_rpm
        if rpm is None:
            notes.append(f"{rec.id}: skipped, no shaft speed")
            continue
        common = dict(
            recording_id=rec.id,
            rpm=rpm,
            label=label,
            load=rec.condition.load,
            size_mm=fault.size_mm,
        )
        if label == FaultClass.NORMAL.value:
            cut = int(healthy_train_fraction * x.size)
            segments.append(Segment(signal=x[:cut], role="train_only", **common))  # type: ignore[arg-type]
            segments.append(Segment(signal=x[cut:], role="test_only", **common))  # type: ignore[arg-type]
            notes.append(
                f"{rec.id} (healthy): first {healthy_train_fraction:.0%} ({cut / fs:.2f} s) for "
                f"training only, last {1 - healthy_train_fraction:.0%} "
                f"({(x.size - cut) / fs:.2f} s) for testing only; windows never cross the cut"
            )
        else:
            segments.append(Segment(signal=x, role="any", **common))  # type: ignore[arg-type]
    return Corpus(segments, fs, geometry, notes)


def cut_windows(
    corpus: Corpus, length: int, hop: int | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Windows of ``length`` samples (step ``hop``, default non-overlapping) and their metadata.

    Metadata columns: segment, recording_id, label, load, size_mm, rpm, role, start (sample).
    """
    hop = hop or length
    blocks, rows = [], []
    for k, seg in enumerate(corpus.segments):
        if seg.signal.size < length:
            continue
        view = np.lib.stride_tricks.sliding_window_view(seg.signal, length)[::hop]
        blocks.append(np.ascontiguousarray(view))
        for i in range(view.shape[0]):
            rows.append(
                (k, seg.recording_id, seg.label, seg.load, seg.size_mm, seg.rpm, seg.role, i * hop)
            )
    meta = pd.DataFrame(
        rows,
        columns=["segment", "recording_id", "label", "load", "size_mm", "rpm", "role", "start"],
    )
    return np.vstack(blocks), meta
