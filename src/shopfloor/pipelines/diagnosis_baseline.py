"""Where a diagnosis's healthy baseline comes from, and how an asset keeps one.

``shopfloor diagnose TARGET --baseline B`` names the healthy period B explicitly:

* a recording id in the store (its channel of the same name, else its channel on the bearing);
* a CSV/Parquet file of one channel, sampled like the target (``--fs``, ``--column``);
* an asset's stored stream over a period: ``ASSET@START..END`` (ISO 8601 times, UTC when no
  zone is given), read from the store's live streams on the target's channel.

Without ``--baseline`` an asset uses, in order: the baseline saved for the asset and channel
(``shopfloor baseline save``, kept in the store's model registry and deployed on the target
``baseline:<asset>:<channel>``), else a recording of the same asset labelled healthy that has
the channel (what CWRU's ``97`` is for its rig). Without either, nothing changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor.acquisition.signal_file import PARQUET_SUFFIXES, TEXT_SUFFIXES, read_signal_column
from shopfloor.assessment.baseline_diagnosis import AssetBaseline, learn_baseline
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.core.labels import FaultLocation
from shopfloor.core.store import Store
from shopfloor.manipulation.bearing_features import BearingFeatureConfig

__all__ = [
    "BaselineContext",
    "baseline_target",
    "resolve_baseline",
    "save_baseline",
    "stored_baseline",
]


def baseline_target(asset_id: str, channel: str) -> str:
    """The registry deployment target of an asset channel's baseline."""
    return f"baseline:{asset_id}:{channel}"


@dataclass
class BaselineContext:
    """What the target being diagnosed tells about the baseline to use.

    asset_id, channel: the target's asset (None for a file without ``--asset``) and channel.
    fs_hz, rpm: the target's sample rate and given speed (a baseline file is read at fs_hz).
    geometry: the monitored bearing (lines are compared when known).
    exclude: a recording id never to use as its own baseline (the target).
    """

    asset_id: str | None
    channel: str | None
    fs_hz: float
    rpm: float | None
    geometry: BearingGeometry | None
    column: str | None = None
    window_s: float = 1.0
    config: BearingFeatureConfig | None = None
    exclude: str | None = None


def _learn(
    x: Any, fs: float, ctx: BaselineContext, source: str, rpm: float | None
) -> AssetBaseline:
    return learn_baseline(
        np.asarray(x, dtype=np.float64),
        fs,
        source=source,
        rpm=rpm if rpm is not None else ctx.rpm,
        geometry=ctx.geometry,
        window_s=ctx.window_s,
        config=ctx.config,
    )


def _parse_time(text: str, spec: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--baseline {spec!r}: {text!r} is not an ISO 8601 time (e.g. 2024-05-01T08:00)"
        ) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _from_period(spec: str, store: Store | None, ctx: BaselineContext) -> AssetBaseline:
    asset_id, _, period = spec.partition("@")
    start_text, sep, end_text = period.partition("..")
    if not sep:
        raise InputError(f"--baseline {spec!r}: a period is ASSET@START..END")
    start, end = _parse_time(start_text, spec), _parse_time(end_text, spec)
    if end <= start:
        raise InputError(f"--baseline {spec!r}: the period ends before it starts")
    if store is None:
        raise InputError(f"--baseline {spec!r}: the store is empty (no streams recorded)")
    if ctx.channel is None:
        raise InputError(f"--baseline {spec!r}: name the channel (--channel)")
    try:
        piece = store.read(asset_id, ctx.channel, start, end)
    except KeyError:
        raise InputError(
            f"--baseline {spec!r}: no stream {asset_id}/{ctx.channel} in the store"
        ) from None
    values = piece.values
    if values.size == 0:
        raise InputError(f"--baseline {spec!r}: no samples of {ctx.channel} in that period")
    return _learn(values, piece.sample_rate_hz, ctx, spec, None)


def _from_recording(spec: str, store: Store, ctx: BaselineContext) -> AssetBaseline:
    rec = store.recording(spec)
    asset = store.asset(rec.asset_id)
    channel = ctx.channel if ctx.channel in rec.channel_ids else None
    if channel is None:
        comps = [c.id for c in asset.components if c.bearing is not None]
        channel = next(
            (c.id for c in asset.channels if c.component_id in comps and c.id in rec.channel_ids),
            None,
        )
    if channel is None:
        raise InputError(
            f"--baseline {spec!r}: recording has no channel {ctx.channel!r} "
            f"(it has {list(rec.channel_ids)})"
        )
    fs = rec.time_base.sample_rate_hz
    if fs is None:
        raise InputError(f"--baseline {spec!r}: recording has no fixed sample rate")
    x = store.load(rec.id).channel(channel)
    return _learn(x, fs, ctx, f"{rec.id}/{channel}", rec.condition.shaft_speed_rpm)


def _from_file(path: Path, ctx: BaselineContext) -> AssetBaseline:
    read = read_signal_column(path, ctx.column)
    return _learn(read.values, ctx.fs_hz, ctx, f"{path} ({read.column})", None)


def stored_baseline(store: Store, asset_id: str, channel: str) -> tuple[AssetBaseline, str] | None:
    """The baseline saved for ``asset_id``/``channel`` (hash-checked), or None."""
    model_id = store.active_model(baseline_target(asset_id, channel))
    if model_id is None:
        return None
    meta = next(m for m in store.models() if m["id"] == model_id)
    config = meta["feature_config"] or {}
    # the registry's hash check (catalog sha256) guards the file, as for every stored model
    model = store.load_model(model_id, trusted=True)
    baseline = AssetBaseline(
        model,
        {str(k): float(v) for k, v in (config.get("lines") or {}).items()},
        str(config.get("source", "")),
        config.get("rpm"),
    )
    return baseline, f"{config.get('source', model_id)} (saved baseline {model_id})"


def _healthy_recording(store: Store, ctx: BaselineContext) -> tuple[AssetBaseline, str] | None:
    if ctx.asset_id is None or ctx.channel is None:
        return None
    for other in store.recordings(asset_id=ctx.asset_id):
        fault = other.fault()
        healthy = fault is not None and fault.location == FaultLocation.NONE
        if other.id == ctx.exclude or not healthy or ctx.channel not in other.channel_ids:
            continue
        if other.time_base.sample_rate_hz is None:
            continue
        return _from_recording(other.id, store, ctx), other.id
    return None


def _learned_from(baseline: AssetBaseline, recording_id: str | None) -> bool:
    """Whether ``baseline`` was learned from ``recording_id`` (its source reads ``id/channel``)."""
    return recording_id is not None and baseline.source.split("/", 1)[0] == recording_id


def resolve_baseline(
    spec: str | None, store: Store | None, ctx: BaselineContext
) -> tuple[AssetBaseline, str] | None:
    """The baseline ``spec`` names, else the asset's stored one, else None.

    Returns the baseline and the id shown to the user. Every problem with ``spec`` is an
    :class:`InputError` naming ``--baseline``.
    """
    if spec is None:
        if store is None or ctx.asset_id is None or ctx.channel is None:
            return None
        saved = stored_baseline(store, ctx.asset_id, ctx.channel)
        if saved is not None and _learned_from(saved[0], ctx.exclude):
            # a recording compared with a baseline learned from itself always looks unchanged:
            # that comparison says nothing, so the asset's other healthy recording (or none)
            saved = None
        return saved or _healthy_recording(store, ctx)
    if ctx.exclude is not None and spec == ctx.exclude:
        raise InputError(
            f"--baseline {spec!r} is the recording being diagnosed: compare it with an earlier, "
            "healthy period of the asset instead"
        )
    try:
        path = Path(spec)
        if path.suffix.lower() in (*PARQUET_SUFFIXES, *TEXT_SUFFIXES) or path.is_file():
            if not path.is_file():
                raise InputError(f"no such file {path}")
            return _from_file(path, ctx), str(path)
        if "@" in spec:
            return _from_period(spec, store, ctx), spec
        if store is None:
            raise InputError("neither a file nor a recording (the store is empty)")
        try:
            return _from_recording(spec, store, ctx), spec
        except KeyError:
            raise InputError(
                "neither a file, ASSET@START..END nor a recording in the store"
            ) from None
    except InputError as exc:
        message = str(exc)
        if "--baseline" not in message:
            raise InputError(f"--baseline {spec!r}: {message}") from None
        raise


def save_baseline(
    store: Store, baseline: AssetBaseline, asset_id: str, channel: str, *, who: str
) -> str:
    """Keep ``baseline`` with the asset: register it and deploy it on the asset's channel.

    Returns the registered model id. An earlier baseline of the channel stays in the history
    (``store.rollback_model(baseline_target(...))`` goes back to it).
    """
    from shopfloor.core import persistence

    staging = store.home / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"baseline-{os.getpid()}-{asset_id}-{channel}.sfmodel"
    try:
        persistence.save(baseline.model, path)
        model_id = store.register_model(
            path,
            name=f"healthy baseline {asset_id}/{channel}",
            created_by=who,
            feature_config={
                "kind": "healthy_baseline",
                "asset_id": asset_id,
                "channel": channel,
                "source": baseline.source,
                "rpm": baseline.rpm,
                "lines": baseline.lines,
                "sample_rate_hz": baseline.fs_hz,
                "snapshot_samples": baseline.snapshot_samples,
            },
            training_data=baseline.source,
            metrics={
                "snapshots": float(baseline.model.n_baseline_),
                "false_alarm_rate_per_snapshot": float(baseline.model.alpha),
            },
        )
    finally:
        path.unlink(missing_ok=True)
    store.activate_model(
        baseline_target(asset_id, channel), model_id, who=who, note=baseline.source
    )
    return model_id
