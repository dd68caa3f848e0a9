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
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_frequencies import (
    HarmonicEvidence,
    HarmonicSearch,
    SearchPlan,
    defect_orders,
    harmonic_evidence,
    measure_peaks,
    plan_search,
    shared_harmonics,
)
from shopfloor.manipulation.envelope import (
    FloatArray,
    Workspace,
    as_windows,
    band_layout,
    prewhiten_spectrum,
    squared_envelope_spectrum,
)
from shopfloor.manipulation.spectral_shape import shape_columns, shape_names
from shopfloor.manipulation.time_indicators import impulsiveness_indicators


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
    parts: dict[str, list[BandSpectra]] = {}
    for part in keep:  # chunks of windows -> one entry per band, joined once
        parts.setdefault(part.name, []).append(part)
    merged = [
        BandSpectra(p[0].name, p[0].band_hz, p[0].freqs, np.concatenate([q.ses for q in p]))
        for p in parts.values()
    ]
    return feats, merged


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


@lru_cache(maxsize=64)
def _cpw_time_bins(n: int, fs: float) -> tuple[int, int]:
    """First and last bin of :data:`CPW_TIME_BAND` on the grid of an n-sample window."""
    bins = np.arange(n // 2 + 1) * (fs / n)
    inside = np.flatnonzero((bins >= CPW_TIME_BAND[0] * fs) & (bins <= CPW_TIME_BAND[1] * fs))
    return int(inside[0]), int(inside[-1])


@lru_cache(maxsize=64)
def _counted(
    orders: tuple[tuple[str, float], ...], signature: str, n_harmonics: int, tolerance: float
) -> NDArray[np.bool_]:
    out = counted_harmonics(dict(orders), signature, n_harmonics, tolerance)
    out.setflags(write=False)
    return out


def _searches(
    fundamentals: dict[str, FloatArray],
    modulation: dict[str, FloatArray],
    cfg: BearingFeatureConfig,
    signatures: list[str],
    with_sidebands: list[str],
) -> tuple[HarmonicSearch, dict[str, slice]]:
    """Every harmonic and sideband search of a block as one :class:`HarmonicSearch`.

    Returns the search and, per signature (``<sig>`` and ``<sig>.sb``), its columns.
    """
    f0_cols: list[FloatArray] = []
    harmonic: list[float] = []
    reach: list[float] = []
    where: dict[str, slice] = {}
    for sig in signatures:
        where[sig] = slice(len(harmonic), len(harmonic) + cfg.n_harmonics)
        for h in range(1, cfg.n_harmonics + 1):
            f0_cols.append(fundamentals[sig])
            harmonic.append(float(h))
            reach.append(0.5)
    for sig in with_sidebands:
        # first harmonic ± the modulating frequency, over a narrower floor (the lines are close)
        where[f"{sig}.sb"] = slice(len(harmonic), len(harmonic) + 2)
        for sign in (-1.0, 1.0):
            f0_cols.append(fundamentals[sig] + sign * modulation[sig])
            harmonic.append(1.0)
            reach.append(0.25)
    search = HarmonicSearch(np.column_stack(f0_cols), np.asarray(harmonic), np.asarray(reach))
    return search, where


CHUNK_BYTES = 1 << 18
MIN_CHUNK = 8
"""Windows go through the FFTs in chunks of about ``CHUNK_BYTES`` of input and at least
``MIN_CHUNK`` windows (16 windows of 2,048 samples, 8 of 12,000): with their scratch arrays they
stay in a 2 MiB L2 cache, and a chunk is still big enough for the per-call costs to vanish."""


def _features_block(
    x: FloatArray,
    fs: float,
    shaft_hz: FloatArray,
    orders: dict[str, float],
    cfg: BearingFeatureConfig,
    keep: list[BandSpectra] | None = None,
) -> dict[str, FloatArray]:
    """Features of one block of windows: spectra once, every band's search in one pass.

    What depends on the block as a whole (whether the cage frequency is resolved, how far a
    search may reach) is decided here, once; the spectra are then computed chunk by chunk.
    """
    n_win, n = x.shape
    fundamentals = {s: orders[s] * shaft_hz for s in ("bpfo", "bpfi", "bsf2", "ftf")}
    fundamentals["shaft"] = shaft_hz
    modulation = {"bpfi": fundamentals["shaft"], "bsf2": fundamentals["ftf"]}
    ftf_resolved = float(np.min(fundamentals["ftf"])) / (fs / n) >= 3
    # Sidebands: an inner-race defect rotates through the load zone once per revolution, a
    # ball is carried round at the cage speed: both modulate their defect frequency.
    searched = [s for s in SIGNATURES if s != "ftf" or ftf_resolved]
    with_sidebands = [s for s in modulation if s != "bsf2" or ftf_resolved]
    search, where = _searches(fundamentals, modulation, cfg, searched, with_sidebands)
    limits = [band.limits_hz(fs) for band in cfg.bands]
    n_bins = [_ses_bins(n, fs, lim) for lim in limits]
    # one plan (bins, peak and floor regions) serves every band when their spectra are long
    # enough for it, which is the usual case: then the bands are measured in one pass
    plan = plan_search(fs / n, search, cfg.tolerance, max(n_bins))
    plans = (
        [plan]
        if plan.top <= min(n_bins)
        else [plan_search(fs / n, search, cfg.tolerance, b) for b in n_bins]
    )
    step = max(MIN_CHUNK, CHUNK_BYTES // (8 * n))
    ws = Workspace()
    parts = []
    for i in range(0, n_win, step):
        part = slice(i, i + step)
        parts.append(
            _features_chunk(
                x[part], fs, shaft_hz[part], cfg, limits, [p.rows(part) for p in plans], keep, ws
            )
        )
    cols: dict[str, FloatArray] = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    amp = np.concatenate([p[1] for p in parts], axis=-2)
    floor = np.concatenate([p[2] for p in parts], axis=-2)
    n_searched = plans[0].n_peak.astype(np.float64)
    key_orders = tuple(sorted(orders.items()))
    for b, band in enumerate(cfg.bands):
        ev = HarmonicEvidence(np.empty(0), amp[b], floor[b], n_searched)
        db_all = ev.ratio_db
        sig_all = ev.significance
        for sig in SIGNATURES:
            key = f"{band.name}.{sig}"
            if sig not in where:
                for suffix in ("db", "h1_db", "sig", "n_found"):
                    cols[f"{key}.{suffix}"] = np.full(n_win, np.nan)
                continue
            use = _counted(key_orders, sig, cfg.n_harmonics, cfg.tolerance)
            db = db_all[:, where[sig]]
            significance = sig_all[:, where[sig]][:, use]
            cols[f"{key}.db"] = db[:, use].mean(axis=1)
            cols[f"{key}.h1_db"] = db[:, 0]
            cols[f"{key}.sig"] = significance.sum(axis=1)
            cols[f"{key}.n_found"] = (significance >= 2.0).sum(axis=1).astype(np.float64)
            if sig in modulation:
                if f"{sig}.sb" in where:
                    sb = db_all[:, where[f"{sig}.sb"]]
                    cols[f"{key}.sb_db"] = 0.5 * (sb[:, 0] + sb[:, 1])
                else:
                    cols[f"{key}.sb_db"] = np.full(n_win, np.nan)
    return cols


def _features_chunk(
    x: FloatArray,
    fs: float,
    shaft_hz: FloatArray,
    cfg: BearingFeatureConfig,
    limits: list[tuple[float, float]],
    plans: list[SearchPlan],
    keep: list[BandSpectra] | None,
    ws: Workspace,
) -> tuple[dict[str, FloatArray], FloatArray, FloatArray]:
    """Time features, spectra and the planned peaks of a few windows.

    Returns the columns computed here and the peak amplitudes and floors, each
    (n_bands, n_windows, n_searches).
    """
    n_win, n = x.shape
    n_freq = n // 2 + 1
    cols: dict[str, FloatArray] = {}
    dev = ws.get("dev", (n_win, n), np.float64)
    np.subtract(x, x.mean(axis=1)[:, None], out=dev)
    ti = impulsiveness_indicators(x, dev, ws.get("dev2", (n_win, n), np.float64))
    for name in TIME_FEATURES:
        cols[f"time.{name}"] = np.log(ti[name]) if name == "rms" else ti[name]
    # keep=...: the caller holds on to spectra, so they get arrays of their own
    raw_spec = ws.get("raw", (n_win, n_freq), np.complex128)
    np.fft.rfft(dev, axis=1, out=raw_spec)
    white_spec = prewhiten_spectrum(raw_spec, out=ws.get("white", (n_win, n_freq), np.complex128))
    # Kurtosis of the pre-whitened signal, within the cpw band only: whitening lifts the
    # anti-alias region near Nyquist to full weight, and digitiser glitches there would read as
    # bearing impacts (CWRU's healthy 48 kHz record: kurtosis 3.4 in band, up to 40 with it).
    lo, hi = _cpw_time_bins(n, fs)
    in_band = ws.get("in_band", (n_win, n_freq), np.complex128)
    in_band[:, :lo] = 0.0
    in_band[:, lo : hi + 1] = white_spec[:, lo : hi + 1]
    in_band[:, hi + 1 :] = 0.0
    white = ws.get("white_time", (n_win, n), np.float64)
    np.fft.irfft(in_band, n=n, axis=1, out=white)
    # zero mean after band-limiting: kurtosis and crest factor need three passes
    white2 = ws.get("dev2", (n_win, n), np.float64)
    np.multiply(white, white, out=white2)
    power = white2.mean(axis=1)
    cols["cpw_time.kurtosis"] = np.einsum("ij,ij->i", white2, white2) / n / (power * power)
    peak = np.maximum(white.max(axis=1), -white.min(axis=1))
    cols["cpw_time.crest_factor"] = peak / np.sqrt(power)

    shared = len(plans) == 1
    top = plans[0].top
    cut = None if (keep is not None or cfg.shape or not shared) else top
    ses_list: list[FloatArray] = []
    for band, lim in zip(cfg.bands, limits, strict=True):
        src = white_spec if band.prewhiten else raw_spec
        freqs, ses = squared_envelope_spectrum(src, n, fs, lim, max_bins=cut, workspace=ws)
        if keep is not None:
            keep.append(BandSpectra(band.name, lim, freqs, ses))
        if cfg.shape and band.prewhiten:
            # the shape features reuse this pre-whitened envelope spectrum and the raw FFT
            cols.update(shape_columns(raw_spec, n, fs, freqs, ses, shaft_hz))
        ses_list.append(ses)
    if shared:
        amp, floor = measure_peaks(plans[0], np.stack([s[:, :top] for s in ses_list]))
    else:
        measured = [measure_peaks(p, s) for p, s in zip(plans, ses_list, strict=True)]
        amp = np.stack([m[0] for m in measured])
        floor = np.stack([m[1] for m in measured])
    return cols, amp, floor


def _ses_bins(n: int, fs: float, limits: tuple[float, float]) -> int:
    """Bins of a band's squared envelope spectrum (half its base-band length, plus one)."""
    return band_layout(n, fs, limits[0], limits[1])[2] // 2 + 1
