"""``shopfloor demo``: prepare a dataset and print a health summary of every recording.

The summary is deliberately simple and transparent (it is the starting point that later
diagnosis and prognostics replace): per recording, the median over 1 s windows of RMS,
kurtosis and crest factor of each vibration channel, brought to one common sample rate with an
anti-aliasing resampler, compared with the healthy reference recordings of the same dataset
(or, when none is labelled healthy, with the median of all recordings).

Rule, fixed in advance and not tuned on any dataset: a healthy rolling-element bearing gives
near-Gaussian vibration (kurtosis about 3); impacts from a local defect raise kurtosis and crest
factor; general wear raises RMS. ``alarm`` when kurtosis > 6 or RMS > 3x reference, ``watch``
when kurtosis > 4 or RMS > 2x reference, else ``ok``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from math import gcd

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.signal import resample_poly

from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.assessment.recording_diagnosis import diagnose_signal
from shopfloor.core.assets import Asset
from shopfloor.core.errors import DatasetNotFoundError, InputError
from shopfloor.core.labels import FaultLocation
from shopfloor.core.recording import RecordingData, TimeBaseKind
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.core.units import Quantity
from shopfloor.datasets import get_dataset
from shopfloor.datasets.prepare import prepare
from shopfloor.manipulation.time_indicators import time_indicators
from shopfloor.pipelines.synthetic import store_synthetic_fleet

ProgressFactory = Callable[[str], Callable[[int, int, str], None]]

KURTOSIS_WATCH, KURTOSIS_ALARM = 4.0, 6.0
SHORT = {
    "none": "healthy",
    "inner_race": "inner race",
    "outer_race": "outer race",
    "rolling_element": "ball",
    "cage": "cage",
}
RMS_WATCH, RMS_ALARM = 2.0, 3.0


@dataclass
class RecordingHealth:
    recording_id: str
    asset_id: str
    label: str
    speed_rpm: float | None
    rms: float
    kurtosis: float
    crest: float
    rms_ratio: float
    status: str
    diagnosis: str = "-"


@dataclass
class HealthSummary:
    """What the demo found; :meth:`print` renders it for a person."""

    dataset: str
    source_note: str
    rows: list[RecordingHealth] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def flagged_fraction(self, healthy: bool) -> tuple[int, int]:
        """(flagged, total) among healthy (label 'none') or faulty recordings."""
        subset = [
            r
            for r in self.rows
            if (r.label == FaultLocation.NONE.value) == healthy and r.label != "unlabelled"
        ]
        return sum(r.status != "ok" for r in subset), len(subset)

    def diagnosis_agreement(self) -> tuple[int, int, int]:
        """(agreeing, labelled, unknown) counts of the physics verdict against the labels."""
        labelled = [r for r in self.rows if r.label != "unlabelled"]
        agree = sum(
            r.diagnosis.split(",")[0] == SHORT.get(r.label)
            or (r.label == FaultLocation.NONE.value and r.diagnosis == "normal")
            for r in labelled
        )
        unknown = sum(
            r.diagnosis in ("unknown", "cannot diagnose", "no geometry") for r in labelled
        )
        return agree, len(labelled), unknown

    def to_dict(self) -> dict[str, object]:
        """The summary as plain data (``shopfloor demo --json``)."""
        agree, labelled, unknown = self.diagnosis_agreement()
        return {
            "dataset": self.dataset,
            "source": self.source_note,
            "recordings": [asdict(r) for r in self.rows],
            "diagnosis_agreement": {"agree": agree, "labelled": labelled, "unknown": unknown},
            "notes": list(self.notes),
        }

    def print(self, console: Console) -> None:
        console.print(f"[bold]Health summary of {self.dataset}[/] — {self.source_note}")
        table = Table(show_lines=False)
        for col in (
            "recording",
            "label",
            "rpm",
            "RMS",
            "x ref",
            "kurt.",
            "crest",
            "status",
            "diagnosis",
        ):
            if col in ("recording", "label", "diagnosis"):
                table.add_column(col, justify="left", ratio=1)  # text wraps on narrow terminals
            else:  # numbers never collapse to an ellipsis
                table.add_column(col, justify="right", no_wrap=True, min_width=max(len(col), 5))
        colour = {"ok": "green", "watch": "yellow", "alarm": "red"}
        for r in self.rows:
            table.add_row(
                r.recording_id,
                SHORT.get(r.label, r.label),
                f"{r.speed_rpm:.0f}" if r.speed_rpm else "-",
                f"{r.rms:.3f}",
                f"{r.rms_ratio:.1f}",
                f"{r.kurtosis:.1f}",
                f"{r.crest:.1f}",
                f"[{colour[r.status]}]{r.status}[/]",
                escape(r.diagnosis),
            )
        console.print(table)
        agree, judged, unknown = self.diagnosis_agreement()
        if judged:
            console.print(
                f"diagnosis (physics rules, no training) names the labelled fault on {agree} of "
                f"{judged} labelled recordings; 'unknown' or no geometry on {unknown}"
            )
        flagged, total = self.flagged_fraction(healthy=False)
        if total:
            console.print(f"faulty recordings flagged (watch or alarm): {flagged} of {total}")
        flagged_h, total_h = self.flagged_fraction(healthy=True)
        if total_h:
            console.print(f"healthy recordings flagged (false alarms): {flagged_h} of {total_h}")
        for note in self.notes:
            console.print(f"note: {note}", highlight=False)


def _vibration_matrix(
    data: RecordingData,
    channel_ids: list[str],
    rate: float,
    target_rate: float,
    window_s: float = 1.0,
) -> np.ndarray:
    """Resample to ``target_rate`` Hz and cut into non-overlapping windows (n_win, n)."""
    n = round(target_rate * window_s)
    windows = []
    for ch in channel_ids:
        x = data.channel(ch)
        if rate != target_rate:
            # polyphase resampling applies an anti-aliasing FIR filter before decimation
            g = gcd(int(rate), int(target_rate))
            x = resample_poly(x, int(target_rate) // g, int(rate) // g)
        usable = len(x) // n * n
        if usable:
            windows.append(x[:usable].reshape(-1, n))
    return np.vstack(windows) if windows else np.empty((0, n))


def _diagnose(data: RecordingData, asset: Asset, channel_id: str) -> str:
    """Physics verdict (no training) for the bearing the channel sits on, as a short text."""
    rec = data.recording
    component = asset.channel(channel_id).component_id
    geometry = asset.component(component).bearing if component else None
    rpm, fs = rec.condition.shaft_speed_rpm, rec.time_base.sample_rate_hz
    if geometry is None or rpm is None or fs is None:
        return "no geometry"
    try:
        result = diagnose_signal(data.channel(channel_id), fs, rpm, geometry)
    except InputError:
        return "cannot diagnose"
    d = result.diagnosis
    if d.label in (FaultClass.UNKNOWN, FaultClass.NORMAL):
        return d.label.value
    return f"{SHORT[d.label.value]}, {d.severity}"


def summarise(store: Store, dataset: str, source_note: str) -> HealthSummary:
    """Health summary of every vibration recording of ``dataset`` in ``store``."""
    summary = HealthSummary(dataset=dataset, source_note=source_note)
    assets = {a.id: a for a in store.assets(dataset)}
    recordings = [
        r
        for r in store.recordings(dataset=dataset)
        if r.time_base.kind == TimeBaseKind.UNIFORM and r.time_base.sample_rate_hz
    ]
    # The first acceleration channel of each recording (for a bearing rig: the drive end).
    vib = {
        r.id: [
            c
            for c in r.channel_ids
            if assets[r.asset_id].channel(c).quantity == Quantity.ACCELERATION
        ][:1]
        for r in recordings
    }
    recordings = [r for r in recordings if vib[r.id]]
    if not recordings:
        summary.notes.append(
            f"{dataset} has no uniformly sampled vibration recordings; nothing to summarise yet"
        )
        return summary
    target = min(float(r.time_base.sample_rate_hz or 0) for r in recordings)
    stats: list[tuple[str, str, str, float | None, float, float, float]] = []
    verdicts: dict[str, str] = {}
    for rec in recordings:
        data = store.load(rec.id)
        verdicts[rec.id] = _diagnose(data, assets[rec.asset_id], vib[rec.id][0])
        windows = _vibration_matrix(
            data, vib[rec.id], float(rec.time_base.sample_rate_hz or 0), target
        )
        if len(windows) == 0:
            continue
        ind = time_indicators(windows)
        fault = rec.fault()
        label = fault.location.value if fault is not None else "unlabelled"
        stats.append(
            (
                rec.id,
                rec.asset_id,
                label,
                rec.condition.shaft_speed_rpm,
                float(np.median(ind["rms"])),
                float(np.median(ind["kurtosis"])),
                float(np.median(ind["crest_factor"])),
            )
        )
    healthy = [s[4] for s in stats if s[2] == FaultLocation.NONE.value]
    reference = float(np.median(healthy)) if healthy else float(np.median([s[4] for s in stats]))
    if not healthy:
        summary.notes.append(
            "no recording is labelled healthy: RMS is compared with the median of all recordings"
        )
    for rec_id, asset_id, label, rpm, rms, kurt, crest in stats:
        ratio = rms / reference if reference > 0 else float("nan")
        if kurt > KURTOSIS_ALARM or ratio > RMS_ALARM:
            status = "alarm"
        elif kurt > KURTOSIS_WATCH or ratio > RMS_WATCH:
            status = "watch"
        else:
            status = "ok"
        summary.rows.append(
            RecordingHealth(
                rec_id, asset_id, label, rpm, rms, kurt, crest, ratio, status, verdicts[rec_id]
            )
        )
    summary.notes.append(
        f"indicators are medians over 1 s windows at {target:.0f} Hz; thresholds: kurtosis "
        f"{KURTOSIS_WATCH:g}/{KURTOSIS_ALARM:g}, RMS {RMS_WATCH:g}x/{RMS_ALARM:g}x reference"
    )
    return summary


def run_demo(
    settings: Settings, dataset: str, progress: ProgressFactory | None = None
) -> HealthSummary:
    """Prepare ``dataset`` (falling back to generated signals) and summarise its health."""
    get_dataset(dataset)  # an unknown name is an error, never a reason to fall back
    with Store.open(settings.home) as store:
        verify_cb = progress(f"Verifying {dataset}") if progress else None
        load_cb = progress(f"Loading {dataset}") if progress else None
        try:
            report = prepare(
                dataset, store, settings, verify_progress=verify_cb, load_progress=load_cb
            )
        except DatasetNotFoundError as exc:
            # No mirror and no network: say so plainly and show the same summary on generated
            # signals. A corrupted file (ChecksumError) is not a reason to fall back: it raises.
            name = store_synthetic_fleet(store)
            return summarise(
                store,
                name,
                f"GENERATED SIGNALS, not real data: {dataset} could not be prepared ({exc})",
            )
        note = (
            f"{report.n_recordings} recordings from {report.source}, "
            f"{report.bytes_on_disk / 1e6:.1f} MB in {settings.home}, {report.seconds:.1f} s"
        )
        return summarise(store, dataset, note)
