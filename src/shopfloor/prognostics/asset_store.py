"""Remaining life of a store asset: its history since the last replacement, kept estimates, models.

* :func:`asset_history` reads an asset's recordings as one unit sequence and cuts it at the
  latest recorded replacement of the component predicted for (``Store.record_replacement``):
  a new bearing starts a new life, so rows of the old one would only bias the estimate. An
  explicit ``replaced_at`` (in the history's own time axis) overrides the store's dates.
* :func:`predict_asset` runs a fitted :class:`~shopfloor.core.prognostics.RULPredictor` on
  that history and states in the record's notes which life it measured from.
* :func:`save_remaining_life` keeps a :class:`~shopfloor.core.prognostics.RemainingLife` as a
  ``prediction`` event (the record is the evidence; component and registered model id are the
  event's own columns), and :func:`latest_remaining_life` reads the newest one back.
* :func:`register_rul_model` records a saved model in the store's model registry, and
  :func:`registered_model_id` finds a model file there by its sha256 so a load is checked
  against the catalog's hash.

Placing rows against a replacement date needs a wall clock per row: a ``timestamp`` column
holding datetimes, or seconds since ``TimeBase.start``. A recording counted in cycles has no
clock per row; it is placed as a whole by its ``TimeBase.start`` (a recording started before
the replacement belongs to the old life). A recording with no clock at all cannot be placed,
which is an :class:`~shopfloor.core.errors.InputError` asking for ``replaced_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopfloor.core.errors import InputError
from shopfloor.core.events import EventKind
from shopfloor.core.prognostics import RemainingLife, RULPredictor
from shopfloor.core.recording import Recording, TimeBaseKind
from shopfloor.core.store.io import file_sha256

if TYPE_CHECKING:
    from shopfloor.core.store import Store

__all__ = [
    "AssetHistory",
    "asset_history",
    "latest_remaining_life",
    "predict_asset",
    "register_rul_model",
    "registered_model_id",
    "save_remaining_life",
]


@dataclass(frozen=True)
class AssetHistory:
    """An asset's rows for one component's current life.

    Attributes
    ----------
    asset_id, component: what is predicted for ("" component: the whole asset).
    frame: one unit (``unit`` = 1), a ``time`` column and one column per channel. ``time`` is
        in seconds since the start of the life when rows carry a wall clock, else in cycles.
    clocked: whether ``time`` comes from a wall clock (seconds) rather than a cycle count.
    life_start: the replacement the life starts at (None: the whole history is used).
    notes: what was cut and why, in words (copied into the estimate's notes).
    """

    asset_id: str
    component: str
    frame: pd.DataFrame
    clocked: bool
    life_start: datetime | None
    notes: tuple[str, ...]


def _utc(when: datetime) -> datetime:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _row_clock(rec: Recording, samples: pd.DataFrame) -> pd.Series | None:
    """Wall-clock time (UTC) of each row, or None when the rows carry none."""
    if rec.time_base.kind != TimeBaseKind.TIMESTAMPS or "timestamp" not in samples:
        return None
    stamps = samples["timestamp"]
    if pd.api.types.is_datetime64_any_dtype(stamps):
        return pd.Series(pd.to_datetime(stamps, utc=True), index=samples.index)
    if rec.time_base.start is None:
        return None
    # seconds since the recording's first row, whose wall clock is TimeBase.start
    offsets = pd.to_timedelta(stamps.to_numpy(dtype=np.float64), unit="s")
    return pd.Series(pd.Timestamp(_utc(rec.time_base.start)) + offsets, index=samples.index)


def _pick_component(store: Store, asset_id: str, component: str | None) -> str:
    asset = store.asset(asset_id)
    ids = [c.id for c in asset.components]
    if component is not None:
        if component not in ids:
            raise InputError(
                f"asset {asset_id!r} has no component {component!r} "
                f"(it has: {', '.join(ids) or 'none'})",
                column="component",
            )
        return component
    if len(ids) == 1:
        return ids[0]
    replaced = sorted({r["component_id"] for r in store.replacements(asset_id)})
    if replaced:
        raise InputError(
            f"asset {asset_id!r} has replacements recorded for {', '.join(replaced)}; "
            f"say which component to predict for (one of: {', '.join(ids)})",
            column="component",
        )
    return ""


def asset_history(
    store: Store,
    asset_id: str,
    *,
    component: str | None = None,
    replaced_at: float | None = None,
) -> AssetHistory:
    """The asset's rows since the latest replacement of ``component``, as one unit sequence.

    Parameters
    ----------
    store:
        An open store (a reader is enough).
    asset_id:
        The asset.
    component:
        Component predicted for. None: the asset's only component, or the whole asset when it
        has several and none was ever replaced (several with replacements: an error, since the
        life to measure is ambiguous).
    replaced_at:
        Explicit reset in the history's time axis (cycles or seconds): overrides the store's
        replacement dates; rows before it are dropped and time restarts at 0 there.
    """
    if not store.has_asset(asset_id):
        raise InputError(f"{asset_id!r} is neither a file nor an asset in {store.home}")
    comp = _pick_component(store, asset_id, component)
    notes: list[str] = []
    life_start = None
    if replaced_at is None and comp:
        life_start = store.last_replacement(asset_id, comp)
    parts: list[tuple[datetime | None, pd.DataFrame, pd.Series | None]] = []
    for rec in store.recordings(asset_id=asset_id):
        samples = store.load(rec.id).samples
        clock = _row_clock(rec, samples)
        time_col = next((c for c in ("cycle", "timestamp", "time") if c in samples), None)
        if time_col is None:
            continue
        channels = [c for c in rec.channel_ids if c in samples and c != time_col]
        part = samples[channels].copy()
        part.insert(0, "time", samples[time_col].to_numpy(dtype=np.float64) if clock is None else 0)
        start = _utc(rec.time_base.start) if rec.time_base.start is not None else None
        parts.append((start, part, clock))
    if not parts:
        raise InputError(f"asset {asset_id!r} has no recording with a cycle or time column")
    clocked = all(c is not None for _, _, c in parts)
    if not clocked and any(c is not None for _, _, c in parts):
        raise InputError(
            f"asset {asset_id!r} mixes recordings counted in cycles with time-stamped ones; "
            "one remaining-life time axis cannot hold both"
        )
    if life_start is not None:
        parts, dropped = _cut_at(parts, life_start, asset_id)
        notes.append(
            f"life of {comp} from its replacement at {life_start.isoformat()} "
            f"(recorded in the store); {dropped} earlier rows left out"
        )
    if clocked:
        origin = life_start or min(c.iloc[0] for _, _, c in parts if c is not None and len(c))
        for _, part, clock in parts:
            assert clock is not None
            part["time"] = (clock - pd.Timestamp(origin)).dt.total_seconds().to_numpy()
    frame = pd.concat([p for _, p, _ in parts], ignore_index=True)
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    if life_start is not None and not clocked and not frame.empty:
        # cycles restart with the new component: the first cycle of its life is 1
        frame["time"] = frame["time"] - frame["time"].iloc[0] + 1.0
    if replaced_at is not None:
        kept = frame[frame["time"] >= replaced_at].copy()
        if kept.empty:
            raise InputError(f"replaced at {replaced_at:g}: no rows at or after the replacement")
        kept["time"] = kept["time"] - replaced_at
        notes.append(
            f"life reset at {replaced_at:g} given explicitly; the store's replacement "
            f"history was not used; {len(frame) - len(kept)} earlier rows left out"
        )
        frame = kept.reset_index(drop=True)
    if frame.empty:
        raise InputError(
            f"asset {asset_id!r}: no rows since {comp} was replaced at "
            f"{life_start.isoformat() if life_start else '?'}; nothing to predict from yet"
        )
    frame.insert(0, "unit", 1.0)
    return AssetHistory(asset_id, comp, frame, clocked, life_start, tuple(notes))


def _cut_at(
    parts: list[tuple[datetime | None, pd.DataFrame, pd.Series | None]],
    at: datetime,
    asset_id: str,
) -> tuple[list[tuple[datetime | None, pd.DataFrame, pd.Series | None]], int]:
    kept: list[tuple[datetime | None, pd.DataFrame, pd.Series | None]] = []
    dropped = 0
    stamp = pd.Timestamp(at)
    for start, part, clock in parts:
        if clock is not None:
            mask = (clock >= stamp).to_numpy()
            dropped += int((~mask).sum())
            if mask.any():
                kept.append((start, part[mask].copy(), clock[mask]))
            continue
        if start is None:
            raise InputError(
                f"asset {asset_id!r}: a recording counted in cycles has no start time, so it "
                f"cannot be placed against the replacement at {at.isoformat()}; give the "
                "reset in cycles explicitly (replaced_at / --replaced-at)"
            )
        if start >= at:
            kept.append((start, part, None))
        else:
            dropped += len(part)
    return kept, dropped


def predict_asset(
    store: Store,
    asset_id: str,
    model: RULPredictor,
    alpha: float = 0.1,
    *,
    component: str | None = None,
    replaced_at: float | None = None,
    time_unit: str | None = None,
) -> RemainingLife:
    """The asset's remaining life now, measured from the latest replacement (see module doc).

    ``time_unit`` defaults to "s" for wall-clock histories and "cycles" otherwise.
    """
    history = asset_history(store, asset_id, component=component, replaced_at=replaced_at)
    unit = time_unit or ("s" if history.clocked else "cycles")
    (life,) = model.remaining_life(
        history.frame,
        alpha,
        component=history.component,
        time_unit=unit,
        asset_names={1.0: asset_id},
    )
    return replace(life, notes=(*history.notes, *life.notes))


def save_remaining_life(
    store: Store, life: RemainingLife, *, source: str = "", model_id: str | None = None
) -> str:
    """Keep an estimate as a prediction event; returns the event id (``store`` writable)."""
    event = life.to_event(source).model_copy(
        update={"component_id": life.component or None, "model_id": model_id}
    )
    (event_id,) = store.add_events([event])
    return event_id


def latest_remaining_life(
    store: Store, asset_id: str, *, component: str | None = None
) -> RemainingLife | None:
    """The newest kept estimate for the asset (and component, if given), or None."""
    for event in reversed(store.events(asset_id=asset_id)):
        if event.kind != EventKind.PREDICTION or "point" not in event.evidence:
            continue
        life = RemainingLife.from_event(event)
        if component is None or life.component == component:
            return life
    return None


def register_rul_model(
    store: Store,
    path: Path,
    model: RULPredictor,
    *,
    created_by: str,
    training_data: Path | str | None = None,
) -> str:
    """Register a model file saved by :func:`shopfloor.core.persistence.save`; returns its id.

    The feature configuration is the model's parameters and input channels; the training data
    reference is the file with its sha256; the metrics are what the model measured on units
    it was not trained on (its conformal calibration), plus its training size.
    """
    config = {
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "params": {k: v for k, v in model.get_params().items() if _plain(v)},
        "channels": list(model.channels_),
    }
    reference = None
    if training_data is not None:
        data = Path(training_data)
        reference = f"{data.resolve()} sha256:{file_sha256(data)}" if data.is_file() else str(data)
    return store.register_model(
        path,
        name=f"rul/{type(model).__name__}",
        created_by=created_by,
        feature_config=config,
        training_data=reference,
        metrics=_calibration_metrics(model),
    )


def registered_model_id(store: Store, path: Path) -> str | None:
    """The registry id of a model file with exactly these bytes, or None."""
    sha = file_sha256(path)
    for m in store.models():
        if m["sha256"] == sha:
            return str(m["id"])
    return None


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _calibration_metrics(model: RULPredictor) -> dict[str, float]:
    out: dict[str, float] = {}
    scores = getattr(model, "calibration_", None) or getattr(model, "conformal_", None)
    if scores is not None:
        # out-of-fold absolute error scale by predicted RUL, and how many units measured it
        out["calibration_units"] = float(scores.n_units)
        out["calibration_abs_error_mean"] = float(np.mean(scores.scale))
    folds = getattr(model, "calibration_folds_", None)
    if folds:
        units = np.unique(np.concatenate([np.concatenate([tr, ca]) for tr, ca in folds]))
        out["train_units"] = float(units.size)
    return out
