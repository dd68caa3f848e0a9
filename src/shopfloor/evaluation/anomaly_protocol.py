"""The SKAB evaluation protocol for any registered multivariate dataset with point labels.

The protocol (waico/SKAB notebooks, ``core/utils.py``): every labelled recording is split in
time, the first ``train_rows`` rows (400 in SKAB; they precede every anomaly) to fit on and the
rest to score. Outlier metrics compare the 0/1 alarms with the ``anomaly`` labels of the test
rows; changepoint metrics compare the alarm's edges (``|diff|``, first row = first alarm) with
the ``changepoint`` labels under the NAB score with a 60 s window to the right of each true
changepoint. Nothing here knows SKAB's columns: a dataset qualifies when its recordings carry
an :class:`~shopfloor.core.labels.AnomalyInterval` label and a TIMESTAMPS or UNIFORM time base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopfloor.core.errors import DatasetNotFoundError, InputError
from shopfloor.core.labels import AnomalyInterval
from shopfloor.core.recording import RecordingData, TimeBaseKind
from shopfloor.datasets.registry import get_dataset, verify
from shopfloor.detection.events import to_datetime_index
from shopfloor.evaluation.skab_metrics import (
    changepoints_from_alarms,
    nab_score,
    outlier_metrics,
)

__all__ = ["LabelledRun", "Split", "evaluate_alarms", "load_labelled", "split_runs"]


@dataclass(frozen=True)
class LabelledRun:
    """One labelled recording: channel values on a DatetimeIndex, and its 0/1 labels."""

    name: str
    frame: pd.DataFrame
    anomaly: pd.Series
    changepoint: pd.Series


@dataclass(frozen=True)
class Split:
    """A run cut into the rows to fit on and the rows to score."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    anomaly: pd.Series
    changepoint: pd.Series


def _times(data: RecordingData) -> pd.DatetimeIndex:
    rec = data.recording
    origin = rec.time_base.start
    if rec.time_base.kind == TimeBaseKind.TIMESTAMPS:
        seconds = data.samples["timestamp"].to_numpy(dtype=np.float64)
    elif rec.time_base.kind == TimeBaseKind.UNIFORM and rec.time_base.sample_rate_hz:
        seconds = np.arange(len(data.samples)) / float(rec.time_base.sample_rate_hz)
    else:
        raise InputError(f"recording {rec.id}: time base {rec.time_base.kind} has no row times")
    if origin is None:
        raise InputError(f"recording {rec.id}: start time unknown, cannot place events")
    return to_datetime_index(pd.Index(seconds), origin)


def labelled_run(data: RecordingData) -> LabelledRun | None:
    """The run of a recording with an anomaly interval, or None if it has none."""
    rec = data.recording
    interval = next((lab for lab in rec.labels if isinstance(lab, AnomalyInterval)), None)
    if interval is None:
        return None
    index = _times(data)
    start, end, cps = interval.times(rec.time_base.start)  # type: ignore[arg-type]
    frame = data.samples[rec.channel_ids].set_axis(index, axis=0)
    stamps = index.to_pydatetime()
    anomaly = pd.Series(
        [1.0 if start <= t <= end else 0.0 for t in stamps], index=index, name="anomaly"
    )
    cp_set = set(cps)
    changepoint = pd.Series(
        [1.0 if t in cp_set else 0.0 for t in stamps], index=index, name="changepoint"
    )
    return LabelledRun(rec.id, frame, anomaly, changepoint)


def load_labelled(dataset: str, data_dir: Path) -> list[LabelledRun]:
    """Every labelled recording of a registered dataset, read from ``data_dir`` after its
    checksums are verified."""
    spec = get_dataset(dataset)
    if not data_dir.is_dir():
        raise DatasetNotFoundError(f"dataset {dataset!r}: {data_dir} is not a directory")
    verify(spec, data_dir)
    runs = []
    for item in spec.load(data_dir):
        if isinstance(item, RecordingData):
            run = labelled_run(item)
            if run is not None:
                runs.append(run)
    if not runs:
        raise InputError(f"dataset {dataset!r} has no recordings with anomaly intervals")
    return runs


def split_runs(runs: Sequence[LabelledRun], train_rows: int = 400) -> list[Split]:
    """First ``train_rows`` rows of each run to fit on, the rest to score (SKAB: 400)."""
    out = []
    for run in runs:
        if len(run.frame) <= train_rows:
            raise InputError(f"{run.name}: {len(run.frame)} rows, not more than {train_rows}")
        out.append(
            Split(
                run.name,
                run.frame.iloc[:train_rows],
                run.frame.iloc[train_rows:],
                run.anomaly.iloc[train_rows:],
                run.changepoint.iloc[train_rows:],
            )
        )
    return out


def evaluate_alarms(
    splits: Sequence[Split],
    detect: Callable[[pd.DataFrame, pd.DataFrame], pd.Series | tuple[pd.Series, pd.Series]],
    window_s: float = 60.0,
) -> dict[str, Any]:
    """Run ``detect(train, test)`` on each split and score it: outlier F1/FAR/MAR and
    changepoint NAB (profiles, missed, false positives).

    ``detect`` returns the 0/1 alarm series on ``test.index``; the predicted changepoints are
    then its edges (SKAB's rule). It may instead return ``(alarm, changepoints)`` for a
    detector that estimates changepoints itself.
    """
    alarms, cps = [], []
    for s in splits:
        found = detect(s.train, s.test)
        alarm, cp = found if isinstance(found, tuple) else (found, None)
        if not alarm.index.equals(s.test.index):
            raise InputError(f"{s.name}: the detector's alarms are not on the test rows")
        alarms.append(alarm.astype(np.float64))
        cps.append(changepoints_from_alarms(alarms[-1]) if cp is None else cp.astype(np.float64))
    outl = outlier_metrics([s.anomaly for s in splits], alarms)
    nab = nab_score([s.changepoint for s in splits], cps, window_s)
    return {
        **outl.rounded(),
        **nab.rounded(),
        "changepoint_false_positives": nab.false_positives,
        "changepoints_missed": nab.missed,
        "n_changepoints": nab.n_changepoints,
        "exact": {
            "f1": outl.f1,
            "far": outl.far,
            "mar": outl.mar,
            "nab_standard": nab.standard,
            "nab_low_fp": nab.low_fp,
            "nab_low_fn": nab.low_fn,
            "tp": outl.tp,
            "tn": outl.tn,
            "fp": outl.fp,
            "fn": outl.fn,
        },
    }
