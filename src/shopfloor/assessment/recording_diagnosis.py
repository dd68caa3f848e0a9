"""Diagnose a whole recording: window verdicts, one overall verdict, and its spectrum evidence.

Each window is diagnosed on its own; the recording's verdict is the most frequent window
verdict, with the share of windows that agree as its support. The evidence shown to a person
comes from the squared envelope spectrum averaged over all windows (averaging lowers the noise
floor, so weak harmonics become visible): expected and found frequency of each harmonic, its
height over the local floor, and the chance that noise alone explains it. (That chance assumes
the floor of a single spectrum; averaging makes the floor steadier, so it is conservative.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopfloor.assessment.diagnosis import (
    CLASS_OF_SIGNATURE,
    SIGNATURE_OF,
    Diagnosis,
    FaultClass,
    Peak,
    SignatureEvidence,
)
from shopfloor.assessment.physics_diagnoser import PhysicsRuleDiagnoser
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.base import Classifier
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_features import (
    DEFAULT_BANDS,
    BearingFeatureConfig,
    DemodBand,
    bearing_features,
)
from shopfloor.manipulation.bearing_frequencies import (
    defect_orders,
    harmonic_evidence,
    shared_harmonics,
)
from shopfloor.manipulation.envelope import (
    as_windows,
    prewhiten_spectrum,
    spectrum_of,
    squared_envelope_spectrum,
)
from shopfloor.manipulation.kurtogram import select_band
from shopfloor.manipulation.severity import (
    Foundation,
    machine_group,
    severity_zone,
    velocity_rms_mm_s,
)

FloatArray = NDArray[np.float64]


@dataclass
class BandSpectrum:
    """Window-averaged squared envelope spectrum of one demodulation band."""

    name: str
    band_hz: tuple[float, float]
    freqs: FloatArray
    amplitude: FloatArray


@dataclass
class RecordingDiagnosis:
    """The verdict for a recording, with everything needed to show and check it."""

    diagnosis: Diagnosis
    window_labels: list[str]
    support: float
    shaft_hz: float
    defect_hz: dict[str, float]
    evidence: list[SignatureEvidence]
    spectra: list[BandSpectrum] = field(default_factory=list)
    velocity_mm_s: float | None = None
    iso_zone: str | None = None
    iso_note: str = ""

    def best_band(self, signature: str) -> BandSpectrum:
        ev = max(
            (e for e in self.evidence if e.signature == signature), key=lambda e: e.significance
        )
        return next(s for s in self.spectra if s.name == ev.band)


def diagnose_signal(
    signal: NDArray[Any],
    fs: float,
    shaft_speed_rpm: float,
    geometry: BearingGeometry | None,
    *,
    diagnoser: Classifier | None = None,
    window_s: float = 1.0,
    config: BearingFeatureConfig | None = None,
    unit: str | None = None,
    rated_power_kw: float | None = None,
) -> RecordingDiagnosis:
    """Diagnose one vibration channel (acceleration, any unit) of a recording.

    Parameters
    ----------
    signal: samples of one channel.
    fs: sample rate, Hz.
    shaft_speed_rpm: shaft speed, rpm.
    geometry: the monitored bearing; None gives an InputError (no defect frequencies).
    diagnoser: a fitted classifier over physics features with a ``diagnose`` method; the
        training-free :class:`PhysicsRuleDiagnoser` by default.
    window_s: window length, s.
    unit: the signal's unit (e.g. ``"g"``); with it, the ISO 10816 velocity zone is added.
    rated_power_kw: nameplate power, kW, which selects the ISO machine group.
    """
    if geometry is None:
        raise InputError("no bearing geometry for the monitored bearing: cannot diagnose")
    cfg = config or BearingFeatureConfig()
    n = round(window_s * fs)
    x = as_windows(np.asarray(signal, dtype=np.float64).ravel(), min_length=1, name="signal")[0]
    if x.size < n:
        raise InputError(
            f"signal has {x.size} samples ({x.size / fs:.2f} s); the {window_s:g} s "
            f"window needs {n}: record longer or pass a shorter window"
        )
    windows = x[: x.size // n * n].reshape(-1, n)
    feats = bearing_features(windows, fs, shaft_speed_rpm, geometry, cfg)
    model = diagnoser or PhysicsRuleDiagnoser().fit(feats)
    per_window = model.diagnose(feats)
    labels = [d.label.value for d in per_window]
    top, count = Counter(labels).most_common(1)[0]
    representative = next(d for d in per_window if d.label.value == top)
    support = count / len(labels)

    shaft_hz = shaft_speed_rpm / 60.0
    orders = defect_orders(geometry)
    defect_hz = {k: v * shaft_hz for k, v in orders.items()}
    spectra, evidence = _averaged_evidence(windows, fs, shaft_hz, orders, cfg)
    verdict = Diagnosis(
        label=representative.label,
        confidence=float(np.mean([d.confidence for d in per_window if d.label.value == top])),
        severity=representative.severity,
        reason=f"{count} of {len(labels)} windows agree; {representative.reason}",
        evidence=[e for e in evidence if e.signature == SIGNATURE_OF.get(FaultClass(top), "")],
        probabilities=representative.probabilities,
    )
    result = RecordingDiagnosis(verdict, labels, support, shaft_hz, defect_hz, evidence, spectra)
    _add_iso_zone(result, windows, fs, unit, rated_power_kw)
    return result


def _add_iso_zone(
    result: RecordingDiagnosis,
    windows: FloatArray,
    fs: float,
    unit: str | None,
    rated_power_kw: float | None,
) -> None:
    """ISO 10816 zone where the data allow it; otherwise a note saying what is missing."""
    if unit is None:
        result.iso_note = "ISO 10816 zone: signal unit unknown"
        return
    try:
        velocity = float(np.median(velocity_rms_mm_s(windows, fs, unit=unit)))
        group = machine_group(rated_power_kw)
    except InputError as exc:
        result.iso_note = f"ISO 10816 zone not given: {exc}"
        return
    result.velocity_mm_s = velocity
    result.iso_zone = severity_zone(velocity, group, Foundation.RIGID)
    result.iso_note = (
        f"ISO 10816 velocity {velocity:.2f} mm/s RMS (10–1000 Hz), {group}, "
        f"rigid foundation: zone {result.iso_zone}"
    )


def _averaged_evidence(
    windows: FloatArray,
    fs: float,
    shaft_hz: float,
    orders: dict[str, float],
    cfg: BearingFeatureConfig,
) -> tuple[list[BandSpectrum], list[SignatureEvidence]]:
    raw, n = spectrum_of(windows)
    white = prewhiten_spectrum(raw)
    spectra, evidence = [], []
    # The kurtogram's band for this recording (median over its windows) is shown too: it is
    # where the impacts ring, which a person may want to compare with the fixed bands.
    choice = select_band(windows, fs)
    kurtogram = DemodBand(
        "kurtogram", float(np.median(choice.low_hz)), float(np.median(choice.high_hz)), in_hz=True
    )
    bands = [*(cfg.bands or DEFAULT_BANDS), kurtogram]
    for band in bands:
        limits = band.limits_hz(fs)
        freqs, ses = squared_envelope_spectrum(white if band.prewhiten else raw, n, fs, limits)
        mean = ses.mean(axis=0, keepdims=True)
        spectra.append(BandSpectrum(band.name, limits, freqs, mean[0]))
        for signature in CLASS_OF_SIGNATURE:
            f0 = orders[signature] * shaft_hz
            if f0 * (cfg.n_harmonics + 0.5) > freqs[-1] or f0 / (fs / n) < 3:
                continue
            ev = harmonic_evidence(
                freqs, mean, f0, n_harmonics=cfg.n_harmonics, tolerance=cfg.tolerance
            )
            shared = (
                shared_harmonics(orders, signature, cfg.n_harmonics, cfg.tolerance)
                if signature != "ftf"
                else np.zeros(cfg.n_harmonics, dtype=bool)
            )
            harmonics = [
                Peak(
                    f"{h + 1}×" + (" (shared)" if shared[h] else ""),
                    (h + 1) * f0,
                    float(ev.frequency_hz[0, h]),
                    float(ev.ratio_db[0, h]),
                    0.0 if shared[h] else float(ev.significance[0, h]),
                )
                for h in range(cfg.n_harmonics)
            ]
            sidebands = []
            if signature == "bpfi":  # an inner-race defect is modulated by shaft rotation
                for sign, name in ((-1, "1×−shaft"), (1, "1×+shaft")):
                    sb = harmonic_evidence(
                        freqs,
                        mean,
                        f0 + sign * shaft_hz,
                        n_harmonics=1,
                        tolerance=cfg.tolerance,
                        floor_halfwidth=0.25,
                    )
                    sidebands.append(
                        Peak(
                            name,
                            f0 + sign * shaft_hz,
                            float(sb.frequency_hz[0, 0]),
                            float(sb.ratio_db[0, 0]),
                            float(sb.significance[0, 0]),
                        )
                    )
            evidence.append(
                SignatureEvidence(
                    signature, band.name, limits, f0, orders[signature], harmonics, sidebands
                )
            )
    return spectra, evidence
