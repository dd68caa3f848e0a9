"""What the pages and the API show, assembled from the store (counting and grouping only).

Nothing here judges a machine: health comes from the events the pipeline raised and the
latest results it reports; this module puts them side by side.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from shopfloor.core.events import Event, EventStatus, Resolution, Severity
from shopfloor.core.severity_scale import worst
from shopfloor.core.store import Store
from shopfloor.service import trends
from shopfloor.service.access import LiveStatus, StoreAccess

# Colour class per state, worst last; "ok" when an asset has no open alert.
STATES = ("ok", "info", "warning", "alarm", "critical")


def asset_state(open_events: list[Event]) -> str:
    """Worst severity of an asset's open (or acknowledged, not closed) events, else ``ok``."""
    if not open_events:
        return "ok"
    sev = open_events[0].severity
    for e in open_events[1:]:
        sev = worst(sev, e.severity)
    return sev.value


NOT_CLOSED = (EventStatus.OPEN, EventStatus.ACKNOWLEDGED)
FLEET_EVENTS = 200  # open alerts listed on the fleet page and in each live message


def not_closed(store: Store, asset_id: str | None = None, limit: int | None = None) -> list[Event]:
    """Open and acknowledged events, worst first then oldest first (at most ``limit``)."""
    return store.events(asset_id=asset_id, status=NOT_CLOSED, worst_first=True, limit=limit)


def open_by_asset(store: Store) -> dict[str, tuple[str, int]]:
    """Per asset with an open or acknowledged event: its worst severity and how many
    (counted in SQL: no event is loaded)."""
    out: dict[str, tuple[str, int]] = {}
    for row in store.event_counts(("asset_id", "severity"), status=NOT_CLOSED):
        asset, sev, n = str(row["asset_id"]), Severity(row["severity"]), int(row["n"])
        if asset in out:
            prev, m = out[asset]
            out[asset] = (worst(Severity(prev), sev).value, m + n)
        else:
            out[asset] = (sev.value, n)
    return out


def fleet(store: Store, access: StoreAccess, max_events: int = FLEET_EVENTS) -> dict[str, Any]:
    """Every asset with its state, open alert count and latest live results, and the
    ``max_events`` worst open alerts (``open_total`` says how many there are)."""
    live: LiveStatus | None = access.live
    by_asset = access.by_cursor("open_by_asset", store, open_by_asset)
    latest = (
        {str(r["asset"]): r for r in live.snapshot()}
        if live is not None
        else trends.latest_by_asset(store)  # the pipeline runs in another process
    )
    assets = []
    for a in access.assets(store):
        state, n = by_asset.get(a.id, ("ok", 0))
        row = latest.get(a.id, {})
        assets.append(
            {
                "id": a.id,
                "name": a.name or a.id,
                "kind": a.kind.value,
                "state": state,
                "open_alerts": n,
                "health": row.get("health"),
                "grade": row.get("grade"),
                "rms": row.get("rms"),
            }
        )
    counts = Counter(a["state"] for a in assets)
    return {
        "assets": assets,
        "counts": dict(counts),
        "open_events": not_closed(store, limit=max_events) if max_events else [],
        "open_total": sum(n for _, n in by_asset.values()),
    }


def _precision(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    tally: dict[Any, Counter[str]] = defaultdict(Counter)
    for r in rows:
        if r["resolution"] is not None:
            tally[r[key] or "unknown"][str(r["resolution"])] += int(r["n"])
    out = []
    for value, c in sorted(tally.items()):
        confirmed, false = c[Resolution.CONFIRMED.value], c[Resolution.FALSE_ALARM.value]
        total = confirmed + false
        out.append(
            {
                key: value,
                "closed": total,
                "confirmed": confirmed,
                "false_alarm": false,
                "precision": confirmed / total if total else None,
            }
        )
    return out


def precision_by_source(store: Store) -> list[dict[str, Any]]:
    """Per detector (event source): closed alerts, confirmed, false alarms, precision."""
    rows = store.event_counts(("source", "resolution"), status=EventStatus.CLOSED)
    return _precision(rows, "source")


def precision_by_model(store: Store) -> list[dict[str, Any]]:
    """Per model version (the ``model_id`` events carry): closed alerts and their precision,
    so a retrained version can be compared with the one before it."""
    rows = store.event_counts(("model_id", "resolution"), status=EventStatus.CLOSED)
    return [r for r in _precision(rows, "model_id") if r["model_id"] != "unknown"]


def precision_by_month(store: Store) -> list[dict[str, Any]]:
    """Per detector and month of the alert's start: precision of closed alerts over time."""
    rows = store.event_counts(("source", "month", "resolution"), status=EventStatus.CLOSED)
    merged = [{**r, "source_month": (r["source"] or "unknown", r["month"])} for r in rows]
    out = _precision(merged, "source_month")
    for r in out:
        r["source"], r["month"] = r.pop("source_month")
    return out


def model_versions(store: Store, access: StoreAccess) -> dict[str, Any]:
    """The models page: every registered model with its parent (a re-baselined version
    records the one it came from), the assets it serves, the precision of the alerts it
    raised, and the replay comparison a re-baseline measured; precision per detector and
    per detector and month."""
    by_model = {str(p["model_id"]): p for p in precision_by_model(store)}
    serving: dict[str, list[str]] = defaultdict(list)
    for a in access.assets(store):
        active = store.active_model(a.id)
        if active is not None:
            serving[active].append(a.id)
    models = []
    for m in store.models():
        config = m.get("feature_config") or {}
        metrics = m.get("metrics") or {}
        models.append(
            {
                **m,
                "parent": config.get("parent_model_id"),
                "is_monitor": "threshold" in config and "channels" in config,
                "serving": serving.get(str(m["id"]), []),
                "precision": by_model.get(str(m["id"])),
                "replay": {
                    k: metrics[k]
                    for k in sorted(metrics)
                    if k.startswith(("new_", "parent_")) and "periods" in k
                },
            }
        )
    return {
        "models": models,
        "precision": precision_by_source(store),
        "by_month": precision_by_month(store),
    }


def quality(store: Store) -> dict[str, Any]:
    """Data-quality records of the streams and the open data-quality events."""
    seen: dict[str, Event] = {}
    for e in [
        *store.events(status=NOT_CLOSED, with_evidence="data_quality"),
        *store.events(status=NOT_CLOSED, kind="data_quality"),
    ]:
        seen[e.id] = e
    events = sorted(seen.values(), key=lambda e: e.start)
    return {
        "records": store.quality_records(),
        "events": events,
        "by_kind": dict(
            Counter(str(e.evidence.get("data_quality", e.evidence.get("check"))) for e in events)
        ),
        "dead_letters": dead_letters(store),
    }


def dead_letters(store: Store, latest: int = 20) -> dict[str, Any]:
    """How many messages never became records, and the newest few with their reasons.

    Only what a person needs to find the sender (source, topic, reason, size); the payload
    bytes stay in the store.
    """
    rows = store.dead_letters(limit=latest, newest_first=True)
    return {
        "count": store.dead_letter_count(),
        "latest": [
            {
                "id": d.id,
                "source": d.source,
                "topic": d.topic,
                "reason": d.reason,
                "received": datetime.fromtimestamp(d.received_ns / 1e9, UTC).isoformat(),
                "payload_bytes": d.payload_bytes,
                "pipeline": d.pipeline,
            }
            for d in rows
        ],
    }


def severity_rank(sev: Severity) -> int:
    return STATES.index(sev.value)


def envelope(
    store: Store, asset_id: str, seconds: float = 1.0, max_hz: float = 500.0
) -> dict[str, Any] | None:
    """Squared-envelope spectrum of the newest ``seconds`` of the asset's first vibration
    stream (pre-whitened, the ``cpw`` band bearing features use), up to ``max_hz``, with the
    defect frequencies of the bearing on that channel at the nameplate speed.

    None when the asset has no stored vibration stream yet.
    """
    import numpy as np

    from shopfloor.manipulation.bearing_features import DEFAULT_BANDS
    from shopfloor.manipulation.bearing_frequencies import defect_frequencies
    from shopfloor.manipulation.envelope import envelope_spectrum

    asset = store.asset(asset_id)
    streams = {str(s["channel_id"]) for s in store.streams() if s["asset_id"] == asset_id}
    channel = next((c for c in asset.channels if c.sample_rate_hz and c.id in streams), None)
    if channel is None or channel.sample_rate_hz is None:
        return None
    piece = store.read_last(asset_id, channel.id, seconds)
    x = piece.values.astype(np.float64)
    fs = float(channel.sample_rate_hz)
    if x.size < 1024:
        return None
    cpw = DEFAULT_BANDS[0]
    freqs, amp = envelope_spectrum(x[None, :], fs, cpw.limits_hz(fs), prewhiten=cpw.prewhiten)
    keep = freqs <= max_hz
    markers: dict[str, float] = {}
    component = next((c for c in asset.components if c.id == channel.component_id), None)
    rpm = asset.nameplate.rated_speed_rpm
    if component is not None and component.bearing is not None and rpm:
        markers = {
            k: round(v, 2)
            for k, v in defect_frequencies(component.bearing, float(rpm)).items()
            if k in ("bpfo", "bpfi", "bsf2", "ftf")
        }
    return {
        "channel": channel.id,
        "seconds": x.size / fs,
        "freqs_hz": [round(float(f), 2) for f in freqs[keep]],
        "amplitude": [float(a) for a in amp[0, keep]],
        "markers_hz": markers,
        "unit": f"({channel.unit})^2",
    }
