"""``shopfloor diagnose``: find the signal, its speed, sample rate and bearing, then diagnose.

A target is either a recording id in the store (everything comes from the data model) or a
CSV/Parquet file of one vibration channel (sample rate, speed and bearing given by the user, or
the bearing taken from an asset in the store).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from shopfloor.acquisition.signal_file import (
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    read_signal_column,
)
from shopfloor.assessment.baseline_diagnosis import apply_baseline
from shopfloor.assessment.diagnoser import Diagnoser
from shopfloor.assessment.recording_diagnosis import RecordingDiagnosis, diagnose_signal
from shopfloor.core.assets import Asset, BearingGeometry, ComponentKind
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store
from shopfloor.manipulation.bearing_features import BearingFeatureConfig
from shopfloor.pipelines.diagnosis_baseline import BaselineContext, resolve_baseline


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
    model: str = "fused"
    """``fused`` (the shipped physics + learned model) or ``physics`` (the rules alone)."""
    speed_band: float = 0.10
    """Relative band around the given speed in which the speed is read from the signal."""
    baseline: str | None = None
    """``--baseline``: a healthy recording, file or ASSET@START..END to decide against (None:
    the asset's stored baseline, if any; see :mod:`shopfloor.pipelines.diagnosis_baseline`)."""

    def validate(self) -> None:
        """Refuse impossible numbers before any work: each error names its option."""
        for option, value in (
            ("--fs", self.fs_hz),
            ("--rpm", self.rpm),
            ("--window", self.window_s),
        ):
            if value is None:
                continue
            if not math.isfinite(value) or value <= 0:
                raise InputError(f"{option} must be a positive number, got {value:g}")
        if self.rpm is not None and self.rpm > 120_000:
            raise InputError(f"--rpm {self.rpm:g} is beyond any rotating machine (> 120,000 rpm)")
        if self.model not in MODELS:
            raise InputError(f"--model {self.model!r}: choose one of {', '.join(MODELS)}")
        if self.unit is not None:
            # the samples are accelerations (the ISO 10816 zone integrates them to velocity)
            from shopfloor.core.units import Quantity, check_unit

            try:
                check_unit(self.unit, Quantity.ACCELERATION)
            except InputError as exc:
                raise InputError(f"--unit {self.unit!r}: {exc.message}") from None


MODELS = ("fused", "physics")


def diagnoser_for(model: str) -> Diagnoser | None:
    """The diagnoser a ``--model`` choice names (None: the physics rules, fitted per signal)."""
    if model == "physics":
        return None
    from shopfloor.assessment.default_model import load_default_diagnoser

    return load_default_diagnoser()


def parse_bearing(text: str) -> BearingGeometry:
    """``"n=9,d=7.94mm,D=39.04mm,angle=0"``: elements, ball and pitch diameter, contact angle.

    Diameters accept units (``0.3126in``); a bare number is mm.

    >>> parse_bearing("n=9, d=0.3126 in, D=1.537 in").defect_orders()["bpfo"] > 3.58
    True
    """
    fields = {}
    for part in text.split(","):
        if "=" not in part:
            raise InputError(
                f"--bearing {text!r}: expected key=value pairs such as n=9,d=7.94,D=39"
            )
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
        raise InputError(f"--bearing {text!r}: unknown keys {sorted(unknown)}; use n, d, D, angle")
    missing = [k for k in ("n", "d", "D") if k not in fields]
    if missing:
        what = {"n": "number of rolling elements", "d": "ball diameter", "D": "pitch diameter"}
        raise InputError(
            f"--bearing {text!r}: missing " + ", ".join(f"{k} ({what[k]})" for k in missing)
        )
    values: dict[str, object] = {}
    for key, value in fields.items():
        if key == "n":
            try:
                n = float(value)
            except ValueError:
                n = math.nan
            if not math.isfinite(n) or n != int(n):
                raise InputError(
                    f"--bearing: n must be a whole number of rolling elements, got {value!r}"
                )
            values[names[key]] = int(n)
        elif re.fullmatch(r"[-+0-9.eE]+", value):
            values[names[key]] = float(value)
        else:
            values[names[key]] = value
    try:
        return BearingGeometry.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            # pydantic prefixes a validator's own message with "Value error, "
            f"{'.'.join(str(p) for p in e['loc']) or 'geometry'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InputError(f"--bearing {text!r}: {problems}") from None


def _bearing_of(asset: Asset, component: str | None) -> tuple[str, BearingGeometry | None]:
    bearings = [c for c in asset.components if c.kind == ComponentKind.ROLLING_BEARING]
    if component is not None:
        try:
            comp = asset.component(component)
        except KeyError:
            known = [c.id for c in asset.components]
            raise InputError(
                f"--component {component!r}: asset {asset.id!r} has no such component; "
                f"it has {known}"
            ) from None
        return comp.id, comp.bearing
    with_geometry = [c for c in bearings if c.bearing is not None]
    candidates = with_geometry or bearings
    if not candidates:
        raise InputError(f"asset {asset.id!r} has no rolling bearing component")
    chosen = candidates[0]
    return chosen.id, chosen.bearing


def stored_asset(store: Store | None, asset_id: str) -> Asset:
    """The asset, or an error naming the option and the assets that exist."""
    if store is None:
        raise InputError(f"--asset {asset_id!r}: the store is empty (nothing imported yet)")
    try:
        return store.asset(asset_id)
    except KeyError:
        known = [a.id for a in store.assets()]
        shown = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
        raise InputError(f"--asset {asset_id!r}: no such asset in the store ({shown})") from None


def diagnose_target(
    req: DiagnoseRequest,
    store: Store | None,
    *,
    diagnoser: Diagnoser | None = None,
    config: BearingFeatureConfig | None = None,
) -> tuple[RecordingDiagnosis, str]:
    """Diagnose a recording or a file; returns the result and a one-line description of it.

    ``diagnoser`` and ``config`` replace what ``req.model`` names and the default features (a
    pipeline spec's components, :mod:`shopfloor.pipelines.diagnosis_spec`).
    """
    req.validate()
    path = Path(req.target)
    if path.suffix.lower() in (*PARQUET_SUFFIXES, *TEXT_SUFFIXES) or path.exists():
        return _diagnose_file(req, path, store, diagnoser, config)
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
    if req.channel is not None and req.channel not in rec.channel_ids:
        raise InputError(
            f"--channel {req.channel!r}: recording {rec.id!r} has channels {list(rec.channel_ids)}"
        )
    channel = req.channel or next(
        (c.id for c in asset.channels if c.component_id == component and c.id in rec.channel_ids),
        None,
    )
    if channel is None:
        raise InputError(f"recording {rec.id!r} has no channel on {component!r}; pass --channel")
    # explicit values win over the data model (validate() has refused zeros and NaN)
    fs = req.fs_hz if req.fs_hz is not None else rec.time_base.sample_rate_hz
    rpm = req.rpm if req.rpm is not None else rec.condition.shaft_speed_rpm
    if fs is None:
        raise InputError(f"recording {rec.id!r} has no fixed sample rate; pass --fs")
    if rpm is None:
        raise InputError(f"recording {rec.id!r} has no shaft speed; pass --rpm")
    geometry = parse_bearing(req.bearing) if req.bearing else geometry
    ctx = BaselineContext(
        rec.asset_id, channel, fs, rpm, geometry, None, req.window_s, config, exclude=rec.id
    )
    baseline = resolve_baseline(req.baseline, store, ctx)  # a bad --baseline fails first
    signal = store.load(rec.id).channel(channel)
    result = diagnose_signal(
        signal,
        fs,
        rpm,
        geometry,
        diagnoser=diagnoser or diagnoser_for(req.model),
        window_s=req.window_s,
        config=config,
        unit=asset.channel(channel).unit,
        rated_power_kw=asset.nameplate.rated_power_kw,
        speed_band=req.speed_band,
    )
    if baseline is not None:
        apply_baseline(result, signal, fs, *baseline)
    result.warnings.extend(_ignored_for_a_recording(req, rec.id, rec.asset_id))
    stored_fs = rec.time_base.sample_rate_hz
    if req.fs_hz is not None and stored_fs is not None and req.fs_hz != stored_fs:
        # an explicit value wins, but a stored recording's rate is a fact: never silently
        result.warnings.append(
            f"--fs {req.fs_hz:g} Hz replaces the sample rate stored with {rec.id} "
            f"({stored_fs:g} Hz): every frequency in this diagnosis scales by "
            f"{req.fs_hz / stored_fs:.3g}"
        )
    where = (
        f"recording {rec.id}, channel {channel} on {component} of {asset.id}, "
        f"{fs:g} Hz, {rpm:g} rpm"
    )
    return result, where


def _ignored_for_a_recording(req: DiagnoseRequest, rec_id: str, asset_id: str) -> list[str]:
    """Options that only a file uses: said, never silently dropped (several targets of both
    kinds share one set of options, so they warn rather than refuse)."""
    ignored = []
    if req.column is not None:
        ignored.append(f"--column {req.column!r} is ignored: {rec_id} is a stored recording")
    if req.unit is not None:
        ignored.append(f"--unit {req.unit!r} is ignored: {rec_id}'s unit is stored with it")
    if req.asset_id is not None and req.asset_id != asset_id:
        ignored.append(f"--asset {req.asset_id!r} is ignored: {rec_id} belongs to {asset_id}")
    return ignored


def _diagnose_file(
    req: DiagnoseRequest,
    path: Path,
    store: Store | None,
    diagnoser: Diagnoser | None = None,
    config: BearingFeatureConfig | None = None,
) -> tuple[RecordingDiagnosis, str]:
    if req.fs_hz is None or req.rpm is None:
        missing = " and ".join(
            o for o, v in (("--fs (Hz)", req.fs_hz), ("--rpm", req.rpm)) if v is None
        )
        raise InputError(f"{path}: a file needs {missing}")
    if req.bearing:
        geometry: BearingGeometry | None = parse_bearing(req.bearing)
    elif req.asset_id:
        _, geometry = _bearing_of(stored_asset(store, req.asset_id), req.component)
    else:
        raise InputError(f"{path}: give the bearing (--bearing n=9,d=7.94,D=39.04) or --asset")
    ctx = BaselineContext(
        req.asset_id, req.channel, req.fs_hz, req.rpm, geometry, req.column, req.window_s, config
    )
    baseline = resolve_baseline(req.baseline, store, ctx)
    read = read_signal_column(path, req.column)
    values, column = read.values, read.column
    rated = None
    if req.asset_id:
        rated = stored_asset(store, req.asset_id).nameplate.rated_power_kw
    result = diagnose_signal(
        values,
        req.fs_hz,
        req.rpm,
        geometry,
        diagnoser=diagnoser or diagnoser_for(req.model),
        window_s=req.window_s,
        config=config,
        unit=req.unit,
        rated_power_kw=rated,
        speed_band=req.speed_band,
    )
    if baseline is not None:
        apply_baseline(result, values, req.fs_hz, *baseline)
    if not req.asset_id:
        result.warnings.extend(
            f"{option} {value!r} is ignored: it names a part of a stored asset, and this file "
            "has none (give --asset)"
            for option, value in (("--channel", req.channel), ("--component", req.component))
            if value is not None
        )
    note = f" ({read.note})" if read.note else ""
    return result, f"file {path}, column {column}{note}, {req.fs_hz:g} Hz, {req.rpm:g} rpm"
