"""A fitted :class:`AnomalyMonitor` in the store's model registry.

The registry keeps, beside the model file and its sha256, how the model's inputs were made and
on what it learned, so an event can be traced to the exact detector that raised it
(``Event.model_id``):

* feature configuration: the channels in model order, the scaling learned from the healthy
  period (mean and standard deviation per channel, channel units), the scorer, the threshold
  (type, parameters, fitted value in score units), the alarm logic, the data-quality guard and
  the calibration rule;
* training data: the source and the healthy period (first and last timestamp, rows);
* metrics: figures measured on the healthy period itself (the fitted threshold, the fraction of
  healthy steps above it and the fraction that raised an alarm). They are in-sample, said so in
  their names, and no promise about new data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopfloor.core.base import check_is_fitted

if TYPE_CHECKING:
    from shopfloor.core.store import Store
    from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor

__all__ = ["feature_config", "healthy_metrics", "register_monitor", "training_reference"]


def _params(component: object) -> dict[str, Any]:
    get = getattr(component, "get_params", None)
    params = get(deep=False) if get is not None else {}
    return {
        k: (v if isinstance(v, str | int | float | bool | None) else repr(v))
        for k, v in params.items()
    }


def feature_config(monitor: AnomalyMonitor) -> dict[str, Any]:
    """How a fitted monitor turns a table into alarms: channels, scaling, thresholds."""
    check_is_fitted(monitor, "feature_config")
    scorer = monitor.scorer_
    config: dict[str, Any] = {
        "channels": list(monitor.channels_),
        "scorer": {"type": type(scorer).__name__, "params": _params(scorer)},
        "threshold": {
            "type": type(monitor.threshold_).__name__,
            "params": _params(monitor.threshold_),
            "value": float(monitor.threshold_.threshold_),
            "units": "anomaly score",
        },
        "alarm": {"type": type(monitor.alarm_).__name__, "params": _params(monitor.alarm_)},
        "guard": None
        if monitor.guard_ is None
        else {"type": type(monitor.guard_).__name__, "params": _params(monitor.guard_)},
        "calibration": monitor.calibration,
    }
    mean = getattr(scorer, "mean_", None)
    scale = getattr(scorer, "scale_", None)
    names = getattr(scorer, "channels_", monitor.channels_)
    if mean is not None and scale is not None:
        config["scaling"] = {
            "kind": "standardise (x - mean) / std, channel units",
            "mean": {str(c): float(m) for c, m in zip(names, mean, strict=True)},
            "std": {str(c): float(s) for c, s in zip(names, scale, strict=True)},
        }
    return config


def training_reference(source: str, healthy: pd.DataFrame) -> str:
    """The healthy period as one line: ``source start..end (n rows)``."""
    start, end = healthy.index[0], healthy.index[-1]
    return f"{source} {start.isoformat()}..{end.isoformat()} ({len(healthy)} rows)"


def healthy_metrics(monitor: AnomalyMonitor, healthy: pd.DataFrame) -> dict[str, float]:
    """In-sample figures on the healthy period the monitor was fitted on."""
    det = monitor.detect(healthy)
    scores = det.scores.to_numpy(dtype=np.float64)
    scored = scores[~np.isnan(scores)]
    above = float(np.mean(scored > det.threshold)) if scored.size else 0.0
    return {
        "threshold": float(det.threshold),
        "healthy_rows": float(len(healthy)),
        "healthy_fraction_above_threshold_in_sample": above,
        "healthy_fraction_in_alarm_in_sample": float(det.alarm.mean()) if len(det.alarm) else 0.0,
    }


def register_monitor(
    store: Store,
    path: Path,
    monitor: AnomalyMonitor,
    healthy: pd.DataFrame,
    *,
    source: str,
    created_by: str,
    name: str | None = None,
) -> str:
    """Register a monitor saved at ``path`` (by :func:`shopfloor.core.persistence.save`);
    returns the model id the store gave it (the first 16 hex digits of the file's sha256)."""
    return store.register_model(
        path,
        name=name or f"anomaly-monitor/{source}",
        created_by=created_by,
        feature_config=feature_config(monitor),
        training_data=training_reference(source, healthy),
        metrics=healthy_metrics(monitor, healthy),
    )
