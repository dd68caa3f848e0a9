"""What the pages and the API show, assembled from the store (counting and grouping only).

Nothing here judges a machine: health comes from the events the pipeline raised and the
latest results it reports; this module puts them side by side.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from shopfloor.core.events import Event, EventStatus, Resolution, Severity
from shopfloor.core.severity_scale import worst
from shopfloor.core.store import Store
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


def not_closed(store: Store, asset_id: str | None = None) -> list[Event]:
    return [
        e
        for s in (EventStatus.OPEN, EventStatus.ACKNOWLEDGED)
        for e in store.events(asset_id=asset_id, status=s)
    ]


def fleet(store: Store, access: StoreAccess) -> dict[str, Any]:
    """Every asset with its state, open alert count and latest live results."""
    live: LiveStatus | None = access.live
    events = not_closed(store)
    by_asset: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_asset[e.asset_id].append(e)
    latest = {str(r["asset"]): r for r in (live.snapshot() if live is not None else [])}
    assets = []
    for a in access.assets(store):
        evs = by_asset.get(a.id, [])
        row = latest.get(a.id, {})
        assets.append(
            {
                "id": a.id,
                "name": a.name or a.id,
                "kind": a.kind.value,
                "state": asset_state(evs),
                "open_alerts": len(evs),
                "health": row.get("health"),
                "grade": row.get("grade"),
                "rms": row.get("rms"),
            }
        )
    counts = Counter(a["state"] for a in assets)
    events.sort(key=lambda e: (-STATES.index(e.severity.value), e.start))
    return {"assets": assets, "counts": dict(counts), "open_events": events}


def precision_by_source(store: Store) -> list[dict[str, Any]]:
    """Per detector (event source): closed alerts, confirmed, false alarms, precision."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for e in store.events(status=EventStatus.CLOSED):
        if e.resolution is not None:
            tally[e.source or "unknown"][e.resolution.value] += 1
    rows = []
    for source, c in sorted(tally.items()):
        confirmed, false = c[Resolution.CONFIRMED.value], c[Resolution.FALSE_ALARM.value]
        total = confirmed + false
        rows.append(
            {
                "source": source,
                "closed": total,
                "confirmed": confirmed,
                "false_alarm": false,
                "precision": confirmed / total if total else None,
            }
        )
    return rows


def quality(store: Store) -> dict[str, Any]:
    """Data-quality records of the streams and the open data-quality events."""
    events = [e for e in not_closed(store) if "data_quality" in e.evidence]
    return {
        "records": store.quality_records(),
        "events": events,
        "by_kind": dict(Counter(str(e.evidence["data_quality"]) for e in events)),
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
