"""``shopfloor diagnose``: find the signal, its speed, sample rate and bearing, then diagnose.

A target is either a recording id in the store (everything comes from the data model) or a
CSV/Parquet file of one vibration channel (sample rate, speed and bearing given by the user, or
the bearing taken from an asset in the store).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shopfloor.assessment.recording_diagnosis import RecordingDiagnosis, diagnose_signal
from shopfloor.core.assets import Asset, BearingGeometry, ComponentKind
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store


@dataclass
class DiagnoseRequest:
    """What the user gave on the command line (None: take it from the data model)."""

    target: str
    channel: str | None = None
    component: str | None = None
    column: str | None = None
    unit: str | None = None
    fs_hz: float | None = None
    rpm: float | None = None
    bearing: str | None = None
    asset_id: str | None = None
    window_s: float = 1.0


def parse_bearing(text: str) -> BearingGeometry:
    """``"n=9,d=7.94mm,D=39.04mm,angle=0"``: elements, ball and pitch diameter, contact angle.

    Diameters accept units (``0.3126in``); a bare number is mm.

    >>> parse_bearing("n=9, d=0.3126 in, D=1.537 in").defect_orders()["bpfo"] > 3.58
    True
    """
    fields = {}
    for part in text.split(","):
        if "=" not in part:
            raise InputError(f"bearing {text!r}: expected key=value pairs such as n=9,d=7.94,D=39")
        key, value = (s.strip() for s in part.split("=", 1))
        fields[key] = value
    names = {
        "n": "n_elements",
        "d": "element_diameter_mm",
        "D": "pitch_diameter_mm",
        "angle": "contact_angle_deg",
    }
    unknown = set(fields) - set(names)
    if unknown:
        raise InputError(f"bearing {text!r}: unknown keys {sorted(unknown)}; use n, d, D, angle")
    values: dict[str, object] = {}
    for key, value in fields.items():
        if key == "n":
            values[names[key]] = int(value)
        elif re.fullmatch(r"[-+0-9.eE]+", value):
            values[names[key]] = float(value)
        else:
            values[names[key]] = value
    return BearingGeometry.model_validate(values)


def _bearing_of(asset: Asset, component: str | None) -> tuple[str, BearingGeometry | None]:
    bearings = [c for c in asset.components if c.kind == ComponentKind.ROLLING_BEARING]
    if component is not None:
        comp = asset.component(component)
        return comp.id, comp.bearing
    with_geometry = [c for c in bearings if c.bearing is not None]
    candidates = with_geometry or bearings
    if not candidates:
        raise InputError(f"asset {asset.id!r} has no rolling bearing component")
    chosen = candidates[0]
    return chosen.id, chosen.bearing


def diagnose_target(req: DiagnoseRequest, store: Store | None) -> tuple[RecordingDiagnosis, str]:
    """Diagnose a recording or a file; returns the result and a one-line description of it."""
    path = Path(req.target)
    if path.is_file():
        return _diagnose_file(req, path, store)
    if store is None:
        raise InputError(f"{req.target!r} is neither a file nor a recording in the store")
    try:
        rec = store.recording(req.target)
    except KeyError:
        raise InputError(
            f"{req.target!r} is neither a file nor a recording in the store {store.home}"
        ) from None
    asset = store.asset(rec.asset_id)
    component, geometry = _bearing_of(asset, req.component)
    channel = req.channel or next(
        (c.id for c in asset.channels if c.component_id == component and c.id in rec.channel_ids),
        None,
    )
    if channel is None:
        raise InputError(f"recording {rec.id!r} has no channel on {component!r}; pass --channel")
    fs = req.fs_hz or rec.time_base.sample_rate_hz
    rpm = req.rpm or rec.condition.shaft_speed_rpm
    if fs is None:
        raise InputError(f"recording {rec.id!r} has no fixed sample rate; pass --fs")
    if rpm is None:
        raise InputError(f"recording {rec.id!r} has no shaft speed; pass --rpm")
    geometry = parse_bearing(req.bearing) if req.bearing else geometry
    signal = store.load(rec.id).channel(channel)
    result = diagnose_signal(
        signal,
        fs,
        rpm,
        geometry,
        window_s=req.window_s,
        unit=asset.channel(channel).unit,
        rated_power_kw=asset.nameplate.rated_power_kw,
    )
    where = (
        f"recording {rec.id}, channel {channel} on {component} of {asset.id}, "
        f"{fs:g} Hz, {rpm:g} rpm"
    )
    return result, where


def _diagnose_file(
    req: DiagnoseRequest, path: Path, store: Store | None
) -> tuple[RecordingDiagnosis, str]:
    if req.fs_hz is None or req.rpm is None:
        raise InputError(f"{path}: a file needs --fs (Hz) and --rpm")
    if req.bearing:
        geometry: BearingGeometry | None = parse_bearing(req.bearing)
    elif req.asset_id and store is not None:
        _, geometry = _bearing_of(store.asset(req.asset_id), req.component)
    else:
        raise InputError(f"{path}: give the bearing (--bearing n=9,d=7.94,D=39.04) or --asset")
    if path.suffix.lower() == ".parquet":
        frame = pd.read_parquet(path)
    else:
        # the header decides the delimiter; pandas' sniffer guesses letters on 1-column files
        with path.open(encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
        sep = next((d for d in (";", "\t", ",") if d in header), ",")
        frame = pd.read_csv(path, sep=sep)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    column = req.column or (numeric[0] if len(numeric) == 1 else None)
    if column is None:
        raise InputError(f"{path}: {len(numeric)} numeric columns {numeric}; pass --column")
    if column not in frame.columns:
        raise InputError(f"{path}: no column {column!r}", column=column)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(
            f"{bad.size} missing or non-numeric values",
            source=path,
            line=int(bad[0]) + 2,
            column=str(column),
        )
    rated = None
    if req.asset_id and store is not None:
        rated = store.asset(req.asset_id).nameplate.rated_power_kw
    result = diagnose_signal(
        values,
        req.fs_hz,
        req.rpm,
        geometry,
        window_s=req.window_s,
        unit=req.unit,
        rated_power_kw=rated,
    )
    return result, f"file {path}, column {column}, {req.fs_hz:g} Hz, {req.rpm:g} rpm"
