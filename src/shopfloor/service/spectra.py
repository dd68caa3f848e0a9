"""Spectra of stored signals for the API: calls into ``manipulation`` (no signal processing here).

* :func:`recording_spectrum`: an imported recording's channel as a Welch power spectral density
  or a squared-envelope spectrum (the ``cpw`` band the bearing features use), with the bearing's
  defect frequencies at the recording's shaft speed (else the nameplate speed).
"""

from __future__ import annotations

from typing import Any, Literal

from shopfloor.core.errors import InputError
from shopfloor.core.store import Store

MAX_POINTS = 4000  # points per returned spectrum: enough for a plot, bounded for the client


def _markers(store: Store, asset_id: str, channel_id: str, rpm: float | None) -> dict[str, float]:
    from shopfloor.manipulation.bearing_frequencies import defect_frequencies

    if not store.has_asset(asset_id):
        return {}
    asset = store.asset(asset_id)
    channel = next((c for c in asset.channels if c.id == channel_id), None)
    component = next(
        (c for c in asset.components if channel is not None and c.id == channel.component_id),
        None,
    )
    speed = rpm or asset.nameplate.rated_speed_rpm
    if component is None or component.bearing is None or not speed:
        return {}
    return {
        k: round(v, 2)
        for k, v in defect_frequencies(component.bearing, float(speed)).items()
        if k in ("bpfo", "bpfi", "bsf2", "ftf")
    }


def recording_spectrum(
    store: Store,
    recording_id: str,
    channel_id: str | None,
    kind: Literal["psd", "envelope"],
    seconds: float,
    max_hz: float,
) -> dict[str, Any]:
    """The spectrum of the first ``seconds`` of one channel of a stored recording.

    Parameters
    ----------
    channel_id: default the recording's first channel.
    kind: ``psd`` (Welch, Hann, 1 Hz-ish resolution: segment = fs samples rounded to a power
        of two, at most the excerpt) in U²/Hz; ``envelope`` (squared envelope of the ``cpw``
        band, pre-whitened) in U² peak.
    seconds: length of the excerpt, s.
    max_hz: highest frequency returned, Hz.
    """
    import numpy as np

    from shopfloor.manipulation.bearing_features import DEFAULT_BANDS
    from shopfloor.manipulation.envelope import envelope_spectrum
    from shopfloor.manipulation.spectra import welch_psd

    rec = store.recording(recording_id)
    channel = channel_id or rec.channel_ids[0]
    if channel not in rec.channel_ids:
        raise InputError(
            f"recording {recording_id!r} has no channel {channel!r} "
            f"(it has {', '.join(rec.channel_ids)})",
            column="channel",
        )
    fs = rec.time_base.sample_rate_hz
    if rec.time_base.index_column() is not None or not fs:
        raise InputError(
            f"recording {recording_id!r} is not uniformly sampled ({rec.time_base.kind}); "
            "a spectrum needs a sample rate",
            column="recording_id",
        )
    x = store.load(recording_id, columns=[channel]).channel(channel)
    x = x[: max(1, round(seconds * fs))].astype(np.float64)
    x = x[np.isfinite(x)]
    if x.size < 256:
        raise InputError(
            f"recording {recording_id!r}/{channel}: {x.size} finite samples; a spectrum needs 256",
            column="recording_id",
        )
    if kind == "psd":
        segment = min(x.size, 1 << max(8, int(np.log2(fs))))
        freqs, values = welch_psd(x[None, :], fs, segment=segment)
        unit = "U²/Hz"
    else:
        cpw = DEFAULT_BANDS[0]
        freqs, values = envelope_spectrum(
            x[None, :], fs, cpw.limits_hz(fs), prewhiten=cpw.prewhiten
        )
        unit = "U² (squared envelope, peak)"
    keep = np.flatnonzero(freqs <= max_hz)[:MAX_POINTS]
    return {
        "recording_id": recording_id,
        "asset_id": rec.asset_id,
        "channel": channel,
        "kind": kind,
        "sample_rate_hz": fs,
        "seconds": x.size / fs,
        "resolution_hz": float(freqs[1] - freqs[0]) if freqs.size > 1 else None,
        "freqs_hz": [round(float(f), 3) for f in freqs[keep]],
        "values": [float(v) for v in values[0, keep]],
        "unit": unit.replace("U", f"({_unit(store, rec.asset_id, channel)})"),
        "shaft_speed_rpm": rec.condition.shaft_speed_rpm,
        "markers_hz": _markers(store, rec.asset_id, channel, rec.condition.shaft_speed_rpm),
    }


def _unit(store: Store, asset_id: str, channel_id: str) -> str:
    if not store.has_asset(asset_id):
        return "?"
    channel = next((c for c in store.asset(asset_id).channels if c.id == channel_id), None)
    return channel.unit if channel is not None else "?"
