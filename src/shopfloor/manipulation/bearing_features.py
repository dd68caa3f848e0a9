"""Physics-informed features of bearing vibration windows, in orders of shaft speed.

For every window: time-domain indicators of the raw and the cepstrum pre-whitened signal, and,
in each demodulation band, the squared-envelope evidence for each defect signature (BPFO, BPFI,
2×BSF, FTF, shaft 1×) and for the sidebands that confirm it (BPFI ± 1× for a rotating inner
race, 2×BSF ± FTF for a ball carried by the cage). Evidence is a peak-over-local-floor ratio in
dB, searched around harmonics whose positions come from the bearing geometry and the shaft speed,
so the features mean the same on any rig, sample rate or speed.

Default bands, as fractions of the sample rate fs (so they scale with the acquisition):

* ``cpw``: cepstrum pre-whitened signal, fs/40 to 0.42·fs. Needs no band choice.
* ``high``: raw signal, 0.17·fs to 0.42·fs (2–5 kHz at 12 kHz): where impacts excite the
  housing resonances of small machines; stops below the anti-alias roll-off.
* ``mid``: raw signal, fs/12 to 0.25·fs (1–3 kHz at 12 kHz).

A fixed band in Hz (e.g. one selected by the kurtogram on training data) can be added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_frequencies import (
    HarmonicEvidence,
    defect_orders,
    harmonic_evidence,
    shared_harmonics,
)
from shopfloor.manipulation.envelope import (
    FloatArray,
    as_windows,
    prewhiten_spectrum,
    spectrum_of,
    squared_envelope_spectrum,
)
from shopfloor.manipulation.spectral_shape import shape_columns, shape_names
from shopfloor.manipulation.time_indicators import time_indicators


@dataclass(frozen=True)
class DemodBand:
    """A demodulation band: limits as fractions of fs, or in Hz when ``in_hz``."""

    name: str
    low: float
    high: float
    prewhiten: bool = False
    in_hz: bool = False

    def limits_hz(self, fs: float) -> tuple[float, float]:
        if self.in_hz:
            return self.low, min(self.high, 0.5 * fs)
        return self.low * fs, self.high * fs


DEFAULT_BANDS = (
    DemodBand("cpw", 1 / 40, 0.42, prewhiten=True),
    DemodBand("high", 0.17, 0.42),
    DemodBand("mid", 1 / 12, 0.25),
)

SIGNATURES = ("bpfo", "bpfi", "bsf2", "ftf", "shaft")
CPW_TIME_BAND = (1 / 40, 0.42)
"""Band (fractions of fs) of the pre-whitened signal whose kurtosis and crest are reported."""
TIME_FEATURES = ("rms", "kurtosis", "crest_factor", "skewness", "impulse_factor", "shape_factor")


@dataclass(frozen=True)
class BearingFeatureConfig:
    """How features are computed. Every field is a physical or signal-processing choice.

    n_harmonics: harmonics of each defect frequency searched (1..n).
    tolerance: relative half-width of the search around each harmonic (slip, speed error).
    bands: demodulation bands.
    """

    n_harmonics: int = 3
    tolerance: float = 0.02
    bands: tuple[DemodBand, ...] = field(default=DEFAULT_BANDS)
    shape: bool = False
    """Add the spectral-shape columns of :mod:`~shopfloor.manipulation.spectral_shape`."""


def feature_names(config: BearingFeatureConfig | None = None) -> list[str]:
    """Column names :func:`bearing_features` returns for ``config``, in order."""
    cfg = config or BearingFeatureConfig()
    names = [f"time.{n}" for n in TIME_FEATURES] + ["cpw_time.kurtosis", "cpw_time.crest_factor"]
    for band in cfg.bands:
        for sig in SIGNATURES:
            names += [f"{band.name}.{sig}.{s}" for s in ("db", "h1_db", "sig", "n_found")]
        names += [f"{band.name}.bpfi.sb_db", f"{band.name}.bsf2.sb_db"]
    if cfg.shape:
        names += shape_names()
    return names


def _check_resolution(
    n: int, fs: float, orders: dict[str, float], shaft_hz: FloatArray, config: BearingFeatureConfig
) -> None:
    df = fs / n
    slowest = float(np.min(shaft_hz)) * min(orders["bpfo"], orders["bsf2"])
    if slowest / df < 4:
        raise InputError(
            f"window too short: {n} samples at {fs:g} Hz resolve {df:.2f} Hz, but the slowest "
            f"defect frequency ({slowest:.1f} Hz) needs a resolution of {slowest / 4:.2f} Hz or "
            f"finer: use at least {int(np.ceil(4 * fs / slowest))} samples"
        )
    fastest = float(np.max(shaft_hz)) * orders["bpfi"] * (config.n_harmonics + 1)
    narrowest = min(b.limits_hz(fs)[1] - b.limits_hz(fs)[0] for b in config.bands)
    if fastest > narrowest:
        raise InputError(
            f"sample rate {fs:g} Hz too low: harmonic {config.n_harmonics} of BPFI "
            f"(with one more for its sidebands) reaches {fastest:.0f} Hz, beyond the "
            f"{narrowest:.0f} Hz the narrowest demodulation band can show"
        )


def bearing_features(
    windows: ArrayLike,
    fs: float,
    shaft_speed_rpm: float | ArrayLike,
    geometry: BearingGeometry | None,
    config: BearingFeatureConfig | None = None,
    *,
    _keep: list[BandSpectra] | None = None,
) -> pd.DataFrame:
    """Physics features of vibration windows (one row per window).

    Parameters
    ----------
    windows: acceleration samples (any unit), shape (n_windows, n_samples).
    fs: sample rate, Hz.
    shaft_speed_rpm: shaft speed, rpm; a scalar or one value per window.
    geometry: bearing geometry; None is an InputError (no defect frequencies without it).
    config: feature settings; defaults to :class:`BearingFeatureConfig`.

    Returns
    -------
    DataFrame with columns ``time.<indicator>``, ``cpw_time.<indicator>`` (pre-whitened
    signal within :data:`CPW_TIME_BAND`) and
    ``<band>.<signature>.db`` (mean evidence over harmonics, dB),
    ``<band>.<signature>.h1_db`` (first harmonic, dB), ``<band>.<signature>.n_found``
    (harmonics at least 6 dB over the floor), ``<band>.bpfi.sb_db`` and ``<band>.bsf2.sb_db``
    (sidebands, dB). FTF columns are NaN when the window cannot resolve the cage frequency.
    """
    cfg = config or BearingFeatureConfig()
    keep = _keep
    if geometry is None:
        raise InputError("no bearing geometry: defect frequencies cannot be computed")
    x = as_windows(windows)
    n_win, n = x.shape
    rpm = np.broadcast_to(np.asarray(shaft_speed_rpm, dtype=np.float64), (n_win,))
    if not np.all(np.isfinite(rpm)) or np.any(rpm <= 0):
        raise InputError("shaft speed missing or not positive: defect frequencies unknown")
    shaft_hz = rpm / 60.0
    orders = defect_orders(geometry)
    _check_resolution(n, fs, orders, shaft_hz, cfg)
    # Blocks of windows keep every temporary in cache: large batches would otherwise spend
    # most of their time faulting in fresh pages for 80 MB intermediates.
    block = max(1, (1 << 19) // n)
    parts = [
        _features_block(x[i : i + block], fs, shaft_hz[i : i + block], orders, cfg, keep)
        for i in range(0, n_win, block)
    ]
    columns = feature_names(cfg)
    return pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in columns})


@dataclass
class BandSpectra:
    """Squared envelope spectra of every window in one demodulation band (kept for display).

    freqs: bin frequencies, Hz; ses: (n_windows, n_freqs) squared envelope spectra.
    """

    name: str
    band_hz: tuple[float, float]
    freqs: FloatArray
    ses: FloatArray


def bearing_analysis(
    windows: ArrayLike,
    fs: float,
    shaft_speed_rpm: float | ArrayLike,
    geometry: BearingGeometry | None,
    config: BearingFeatureConfig | None = None,
) -> tuple[pd.DataFrame, list[BandSpectra]]:
    """:func:`bearing_features` plus the envelope spectra they were read from (one computation).

    The spectra let a caller show, or average, exactly what the features and the verdict saw.
    """
    keep: list[BandSpectra] = []
    feats = bearing_features(windows, fs, shaft_speed_rpm, geometry, config, _keep=keep)
    merged: dict[str, BandSpectra] = {}
    for part in keep:  # blocks of windows -> one entry per band
        if part.name in merged:
            prev = merged[part.name]
            prev.ses = np.vstack([prev.ses, part.ses])
        else:
            merged[part.name] = part
    return feats, list(merged.values())


@dataclass(frozen=True)
class SeriesEvidence:
    """A defect signature's harmonic series in one band, with the harmonics that count.

    evidence: the peaks near each harmonic; counted: (n_windows, n_harmonics) True where the
    harmonic is the signature's own (see :func:`counted_harmonics`); sidebands: evidence at
    the first harmonic ± the modulating frequency (inner race: shaft; ball: cage), or empty.
    """

    signature: str
    evidence: HarmonicEvidence
    counted: NDArray[np.bool_]
    sidebands: tuple[HarmonicEvidence, ...] = ()

    @property
    def significance(self) -> FloatArray:
        """Per window, the counted harmonics' significance summed (combined -log10 chance)."""
        out: FloatArray = np.where(self.counted, self.evidence.significance, 0.0).sum(axis=1)
        return out


def counted_harmonics(
    orders: dict[str, float], signature: str, n_harmonics: int, tolerance: float
) -> NDArray[np.bool_]:
    """The one rule for shared harmonics, used by the features, the verdict and the display.

    A harmonic another defect signature or a low shaft harmonic could explain does not count
    (:func:`~shopfloor.manipulation.bearing_frequencies.shared_harmonics`); if every harmonic
    is shared, all count rather than none (the signature would otherwise be unobservable).
    """
    if signature not in ("bpfo", "bpfi", "bsf2"):
        return np.ones(n_harmonics, dtype=bool)
    shared = shared_harmonics(orders, signature, n_harmonics, tolerance)
    return np.ones(n_harmonics, dtype=bool) if shared.all() else ~shared


def signature_series(
    freqs: FloatArray,
    ses: FloatArray,
    fundamental_hz: float | FloatArray,
    signature: str,
    orders: dict[str, float],
    config: BearingFeatureConfig,
    modulation_hz: float | FloatArray | None = None,
) -> SeriesEvidence:
    """Evidence for one signature's harmonic series (and its sidebands) in envelope spectra."""
    ev = harmonic_evidence(
        freqs, ses, fundamental_hz, n_harmonics=config.n_harmonics, tolerance=config.tolerance
    )
    counted = np.broadcast_to(
        counted_harmonics(orders, signature, config.n_harmonics, config.tolerance), ev.ratio.shape
    )
    sidebands: tuple[HarmonicEvidence, ...] = ()
    if modulation_hz is not None:
        sidebands = tuple(
            harmonic_evidence(
                freqs,
                ses,
                np.asarray(fundamental_hz) + sign * np.asarray(modulation_hz),
                n_harmonics=1,
                tolerance=config.tolerance,
                floor_halfwidth=0.25,
            )
            for sign in (-1.0, 1.0)
        )
    return SeriesEvidence(signature, ev, np.asarray(counted), sidebands)


def _features_block(
    x: FloatArray,
    fs: float,
    shaft_hz: FloatArray,
    orders: dict[str, float],
    cfg: BearingFeatureConfig,
    keep: list[BandSpectra] | None = None,
) -> dict[str, FloatArray]:
    n_win, n = x.shape
    cols: dict[str, FloatArray] = {}
    ti = time_indicators(x)
    for name in TIME_FEATURES:
        cols[f"time.{name}"] = np.log(ti[name]) if name == "rms" else ti[name]
    raw_spec, _ = spectrum_of(x)
    white_spec = prewhiten_spectrum(raw_spec)
    # Kurtosis of the pre-whitened signal, within the cpw band only: whitening lifts the
    # anti-alias region near Nyquist to full weight, and digitiser glitches there would read as
    # bearing impacts (CWRU's healthy 48 kHz record: kurtosis 3.4 in band, up to 40 with it).
    low, high = CPW_TIME_BAND[0] * fs, CPW_TIME_BAND[1] * fs
    bins = np.arange(white_spec.shape[1]) * (fs / n)
    in_band = white_spec * ((bins >= low) & (bins <= high))
    white = np.asarray(sfft.irfft(in_band, n=n, axis=1, workers=1))
    # zero mean after band-limiting: kurtosis and crest factor need three passes
    white2 = white * white
    power = white2.mean(axis=1)
    cols["cpw_time.kurtosis"] = np.einsum("ij,ij->i", white2, white2) / n / (power * power)
    cols["cpw_time.crest_factor"] = np.abs(white).max(axis=1) / np.sqrt(power)

    fundamentals = {s: orders[s] * shaft_hz for s in ("bpfo", "bpfi", "bsf2", "ftf")}
    fundamentals["shaft"] = shaft_hz
    modulation = {"bpfi": fundamentals["shaft"], "bsf2": fundamentals["ftf"]}
    ftf_resolved = float(np.min(fundamentals["ftf"])) / (fs / n) >= 3
    for band in cfg.bands:
        limits = band.limits_hz(fs)
        freqs, ses = squared_envelope_spectrum(
            white_spec if band.prewhiten else raw_spec, n, fs, limits
        )
        if keep is not None:
            keep.append(BandSpectra(band.name, limits, freqs, ses))
        if cfg.shape and band.prewhiten:
            # the shape features reuse this pre-whitened envelope spectrum and the raw FFT
            cols.update(shape_columns(raw_spec, n, fs, freqs, ses, shaft_hz))
        for sig in SIGNATURES:
            key = f"{band.name}.{sig}"
            if sig == "ftf" and not ftf_resolved:
                for suffix in ("db", "h1_db", "sig", "n_found"):
                    cols[f"{key}.{suffix}"] = np.full(n_win, np.nan)
                continue
            # Sidebands: an inner-race defect rotates through the load zone once per
            # revolution, a ball is carried round at the cage speed: both modulate their
            # defect frequency.
            mod = modulation.get(sig) if (sig != "bsf2" or ftf_resolved) else None
            series = signature_series(freqs, ses, fundamentals[sig], sig, orders, cfg, mod)
            use = series.counted[0]
            db = series.evidence.ratio_db
            significance = series.evidence.significance[:, use]
            cols[f"{key}.db"] = db[:, use].mean(axis=1)
            cols[f"{key}.h1_db"] = db[:, 0]
            cols[f"{key}.sig"] = significance.sum(axis=1)
            cols[f"{key}.n_found"] = (significance >= 2.0).sum(axis=1).astype(np.float64)
            if sig in modulation:
                if series.sidebands:
                    sb = [e.ratio_db[:, 0] for e in series.sidebands]
                    cols[f"{key}.sb_db"] = 0.5 * (sb[0] + sb[1])
                else:
                    cols[f"{key}.sb_db"] = np.full(n_win, np.nan)
    return cols
