"""What ``shopfloor detect`` does, without the command line: read a multichannel table (a
file, or an asset's recordings in the store), fit an :class:`AnomalyMonitor` on a stated
healthy period, score the rest, and describe the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopfloor.core.errors import InputError
from shopfloor.detection.events import to_datetime_index
from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor, Detection

if TYPE_CHECKING:
    from shopfloor.core.store import Store

__all__ = ["Baseline", "DetectRun", "parse_baseline", "read_asset", "read_table", "run_detect"]

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".pq")


@dataclass(frozen=True)
class Baseline:
    """The healthy period: from ``start`` to ``end`` (inclusive), or the first ``hours``."""

    start: datetime | None = None
    end: datetime | None = None
    hours: float | None = None

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        index = pd.DatetimeIndex(frame.index)
        if self.hours is not None:
            cut = index[0] + pd.Timedelta(hours=self.hours)
            part: pd.DataFrame = frame[index < cut]
            what = f"the first {self.hours:g} h"
        else:
            assert self.start is not None
            assert self.end is not None
            inside = (index >= pd.Timestamp(self.start)) & (index <= pd.Timestamp(self.end))
            part = frame[inside]
            what = f"{self.start}..{self.end}"
        if len(part) < 10:
            raise InputError(
                f"--baseline {what} holds {len(part)} rows of data "
                f"({index[0]} to {index[-1]}); need at least 10"
            )
        return part


def parse_baseline(text: str | None, hours: float | None) -> Baseline:
    """``START..END`` (ISO 8601 times) or a number of hours; exactly one of them."""
    if (text is None) == (hours is None):
        raise InputError("state the healthy period: --baseline START..END or --baseline-hours N")
    if hours is not None:
        if not (hours > 0 and np.isfinite(hours)):
            raise InputError(f"--baseline-hours must be a positive number, got {hours}")
        return Baseline(hours=hours)
    assert text is not None
    parts = text.split("..")
    if len(parts) != 2:
        raise InputError(f"--baseline {text!r}: expected START..END, e.g. 2024-05-01..2024-05-02")
    try:
        start, end = (datetime.fromisoformat(p.strip()) for p in parts)
    except ValueError as exc:
        raise InputError(f"--baseline {text!r}: {exc}") from exc
    if end <= start:
        raise InputError(f"--baseline {text!r}: the end is not after the start")
    return Baseline(start=start, end=end)


def _time_column(frame: pd.DataFrame, name: str | None, source: Path) -> str:
    if name is not None:
        if name not in frame.columns:
            raise InputError(f"no column {name!r}; columns: {list(frame.columns)}", source=source)
        return name
    for col in frame.columns:
        if frame[col].dtype.kind == "M":
            return str(col)
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            parsed = pd.to_datetime(frame[col].head(50), errors="coerce", format="mixed")
            if parsed.notna().mean() > 0.9:
                return str(col)
    raise InputError("no timestamp column found; name it with --time-column", source=source)


def read_table(
    path: Path, *, time_column: str | None = None, exclude: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A multichannel table from CSV (separator sniffed) or Parquet, indexed by its timestamps,
    numeric channel columns only.

    Raises
    ------
    InputError
        Unreadable file, no timestamp column, a bad timestamp (naming its line), or no numeric
        channel.
    """
    if not path.is_file():
        raise InputError("no such file", source=path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(
            f"unsupported file type; use one of {', '.join(TABLE_SUFFIXES)}", source=path
        )
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep=None, engine="python")
    except Exception as exc:  # every reader error is the file's fault here
        raise InputError(
            f"cannot read the file: {' '.join(str(exc).split())}", source=path
        ) from exc
    if frame.empty:
        raise InputError("the file has no data rows", source=path)
    tcol = _time_column(frame, time_column, path)
    stamps = pd.to_datetime(frame[tcol], errors="coerce", format="mixed")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        line = int(bad[0]) + 2  # header is line 1
        raise InputError(
            f"not a time: {frame[tcol].iloc[bad[0]]!r}", source=path, line=line, column=tcol
        )
    channels = {}
    for col in frame.columns:
        if col == tcol or col in exclude:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().any():
            channels[str(col)] = values.astype(np.float64).to_numpy()
    if not channels:
        raise InputError("no numeric channel columns", source=path)
    return pd.DataFrame(channels, index=pd.DatetimeIndex(stamps, name="time"))


def read_asset(store: Store, asset_id: str) -> pd.DataFrame:
    """All recordings of a stored asset with timestamps, one table in time order."""
    recordings = [r for r in store.recordings(asset_id=asset_id) if r.time_base.start is not None]
    if not recordings:
        raise InputError(f"asset {asset_id!r} has no recordings with a start time in the store")
    frames = []
    for rec in sorted(recordings, key=lambda r: r.time_base.start or datetime.min):
        data = store.load(rec.id)
        col = rec.time_base.index_column()
        if col == "timestamp":
            seconds = data.samples["timestamp"].to_numpy(dtype=np.float64)
        elif rec.time_base.sample_rate_hz:
            seconds = np.arange(len(data.samples)) / float(rec.time_base.sample_rate_hz)
        else:
            continue
        index = to_datetime_index(pd.Index(seconds), rec.time_base.start)
        frames.append(data.samples[rec.channel_ids].set_axis(index, axis=0))
    if not frames:
        raise InputError(f"asset {asset_id!r}: no recording has row times")
    return pd.concat(frames).sort_index(kind="stable")


@dataclass
class DetectRun:
    """A fitted monitor, its baseline and what it found on the rest."""

    monitor: AnomalyMonitor
    baseline: pd.DataFrame
    scored: pd.DataFrame
    detection: Detection
    model_id: str | None = None


def run_detect(
    frame: pd.DataFrame,
    baseline: Baseline,
    *,
    asset_id: str,
    register: Callable[[AnomalyMonitor, pd.DataFrame], str | None] | None = None,
) -> DetectRun:
    """Fit on the baseline rows, score every row after them.

    ``register(monitor, healthy)`` runs between fitting and scoring and returns the fitted
    monitor's model id (or None), which every event then carries.
    """
    # Out-of-order or duplicate times are the guard's to reject or report, row named.
    healthy = baseline.select(frame)
    rest = frame[frame.index > healthy.index[-1]]
    if len(rest) == 0:
        raise InputError("nothing to score after the healthy period")
    monitor = AnomalyMonitor().fit(healthy)
    model_id = register(monitor, healthy) if register is not None else None
    detection = monitor.detect(rest, asset_id=asset_id, model_id=model_id)
    return DetectRun(monitor, healthy, rest, detection, model_id)


def event_rows(detection: Detection) -> list[dict[str, Any]]:
    """Events as plain dicts for tables and JSON (anomalies first, then data quality)."""
    out = []
    for e in [*detection.events, *detection.quality_events]:
        out.append(
            {
                "id": e.id,
                "kind": e.kind.value,
                "start": e.start,
                "end": e.end,
                "severity": e.severity.value,
                "summary": e.summary,
                "channels": e.evidence.get("channels", []),
                "evidence": e.evidence,
                "channel_id": e.channel_id,
                "model_id": e.model_id,
                "dedup_key": e.dedup_key,
            }
        )
    return out


def _num(mdates: Any, when: Any) -> float:
    # matplotlib.dates has no type hints; its day number is what axvspan takes on a date axis
    return float(mdates.date2num(when))


def plot_detection(run: DetectRun, path: Path, title: str) -> None:
    """PNG of the score against its threshold, anomaly events shaded red, masked data grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    det = run.detection
    fig, ax = plt.subplots(figsize=(11, 4), constrained_layout=True)
    ax.plot(det.scores.index, det.scores.to_numpy(), lw=0.8, color="#1f4e79", label="score")
    ax.axhline(det.threshold, color="#c00000", ls="--", lw=1, label="threshold")
    for e in det.events:
        end = e.end or det.scores.index[-1]
        ax.axvspan(_num(mdates, e.start), _num(mdates, end), color="#c00000", alpha=0.15)
    if det.mask is not None:
        masked = det.mask.any(axis=1).to_numpy()
        if masked.any():
            ax.fill_between(
                det.scores.index, 0, 1, where=masked, transform=ax.get_xaxis_transform(),
                color="grey", alpha=0.2, label="masked (data quality)",
            )  # fmt: skip
    finite = det.scores[np.isfinite(det.scores)]
    if len(finite) and finite.max() > 20 * det.threshold:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel("anomaly score")
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=110)
    plt.close(fig)
