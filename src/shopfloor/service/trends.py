"""Live trends of an asset from the store's window results (written by the live pipeline,
read here from any process): RMS and kurtosis, the anomaly score against its threshold with
the contributing features, remaining useful life with its interval.

Times are the windows' end times. "The last ``since_s`` seconds" counts back from the newest
window, not from the wall clock, so a replayed or simulated plant shows its trend too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shopfloor.core.store import Store

# Plot name -> dotted field in the window results (see the live components).
FIELDS = {
    "rms": "time.rms",
    "kurtosis": "time.kurtosis",
    "anomaly_score": "anomaly.score",
    "anomaly_threshold": "anomaly.threshold",
    "rul_s": "rul.remaining_s",
    "rul_lower_s": "rul.lower_s",
    "rul_upper_s": "rul.upper_s",
    "health_index": "rul.health_index",
}


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat()


def _thin(t_ns: Any, values: Any, max_points: int) -> dict[str, list[Any]]:
    """At most ``max_points`` evenly spaced points (the newest always kept); times in ms."""
    import numpy as np

    n = int(t_ns.size)
    keep = np.arange(n) if n <= max_points else np.unique(np.linspace(0, n - 1, max_points).round())
    idx = keep.astype(np.int64)
    return {
        "t_ms": [int(t) // 1_000_000 for t in t_ns[idx]],
        "v": [float(v) for v in values[idx]],
    }


def latest_by_asset(store: Store, asset_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Per asset, the newest results of its first channel that has any (diagnosis label and
    grade, RMS, kurtosis, anomaly margin, remaining life), from the store."""
    out: dict[str, dict[str, Any]] = {}
    for r in store.latest_window_results(asset_id=asset_id):
        res = r.results or {}
        if r.asset_id in out or not res:
            continue
        diag = res.get("diagnosis") or {}
        time = res.get("time") or {}
        anomaly = res.get("anomaly") or {}
        rul = res.get("rul") or {}
        out[r.asset_id] = {
            "asset": r.asset_id,
            "channel": r.channel_id,
            "health": diag.get("label"),
            "grade": diag.get("severity"),
            "rms": time.get("rms"),
            "kurtosis": time.get("kurtosis"),
            "anomaly_margin": anomaly.get("margin"),
            "rul_s": rul.get("remaining_s"),
            "at": _iso(r.end_ns),
        }
    return out


def asset_trends(
    store: Store, asset_id: str, since_s: float = 600.0, max_points: int = 600
) -> dict[str, Any]:
    """Every channel of ``asset_id`` with window results: its series over the last
    ``since_s`` seconds of windows (see :data:`FIELDS`) and its newest anomaly, RUL and
    diagnosis results (contributing features included)."""
    store.asset(asset_id)  # KeyError (404) for an unknown asset
    latest = store.latest_window_results(asset_id=asset_id)
    channels = []
    for r in latest:
        since = r.end_ns - round(since_s * 1e9)
        series = {}
        for name, field in FIELDS.items():
            trend = store.window_trend(
                asset_id, r.channel_id, field, since=since, pipeline=r.pipeline
            )
            if trend.t_ns.size:
                series[name] = _thin(trend.t_ns, trend.values, max_points)
        res = r.results or {}
        channels.append(
            {
                "channel_id": r.channel_id,
                "pipeline": r.pipeline,
                "window": r.window,
                "end": _iso(r.end_ns),
                "series": series,
                "anomaly": res.get("anomaly"),
                "rul": res.get("rul"),
                "diagnosis": res.get("diagnosis"),
                "time": res.get("time"),
            }
        )
    return {"asset_id": asset_id, "since_s": since_s, "channels": channels}
