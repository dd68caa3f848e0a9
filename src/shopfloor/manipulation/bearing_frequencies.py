"""Bearing characteristic frequencies and the evidence for them in a spectrum.

The defect frequencies follow from the bearing geometry (:class:`BearingGeometry`) and the
shaft speed: BPFO (outer race), BPFI (inner race), BSF (ball spin; a ball defect strikes the races
at 2×BSF) and FTF (cage). A real bearing slips by 1–2 %, so a peak is searched within a relative
tolerance around each harmonic; its height is compared with the local noise floor (the median of
the spectrum around it), which makes the evidence a dimensionless ratio independent of sensor
gain, units and load.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError

FloatArray = NDArray[np.float64]

DEFECTS = ("bpfo", "bpfi", "bsf2", "ftf")
"""Defect signatures in the envelope: outer race, inner race, rolling element (2×BSF), cage."""


def defect_orders(geometry: BearingGeometry) -> dict[str, float]:
    """Defect frequencies in orders of shaft speed, with ``bsf2`` = 2×BSF added.

    >>> g = BearingGeometry(n_elements=9, element_diameter_mm=7.94, pitch_diameter_mm=39.04)
    >>> {k: round(v, 3) for k, v in defect_orders(g).items()}
    {'bpfo': 3.585, 'bpfi': 5.415, 'bsf2': 4.713, 'ftf': 0.398, 'bsf': 2.357}
    """
    o = geometry.defect_orders()
    return {
        "bpfo": o["bpfo"],
        "bpfi": o["bpfi"],
        "bsf2": 2 * o["bsf"],
        "ftf": o["ftf"],
        "bsf": o["bsf"],
    }


def defect_frequencies(geometry: BearingGeometry, shaft_speed_rpm: float) -> dict[str, float]:
    """Defect frequencies in Hz at ``shaft_speed_rpm`` (rpm)."""
    if not np.isfinite(shaft_speed_rpm) or shaft_speed_rpm <= 0:
        raise InputError(f"shaft speed must be a positive number of rpm, got {shaft_speed_rpm}")
    shaft_hz = shaft_speed_rpm / 60.0
    return {k: v * shaft_hz for k, v in defect_orders(geometry).items()}


@dataclass(frozen=True)
class HarmonicEvidence:
    """Peaks found near the harmonics of one fundamental, per window.

    Attributes
    ----------
    frequency_hz: (n_windows, n_harmonics) frequency of the peak found near each harmonic, Hz.
    amplitude: (n_windows, n_harmonics) peak amplitude, in the spectrum's unit.
    floor: (n_windows, n_harmonics) local noise floor (median around the harmonic), same unit.
    """

    frequency_hz: FloatArray
    amplitude: FloatArray
    floor: FloatArray
    n_searched: FloatArray

    @property
    def ratio(self) -> FloatArray:
        """Peak over local floor, (n_windows, n_harmonics); 1 means nothing stands out."""
        return self.amplitude / np.maximum(self.floor, np.finfo(float).tiny)

    @property
    def ratio_db(self) -> FloatArray:
        return 20.0 * np.log10(np.maximum(self.ratio, 1e-12))

    @property
    def significance(self) -> FloatArray:
        """-log10 of the chance that noise alone gives a peak this high, per harmonic.

        Away from discrete components, spectrum magnitudes of broadband noise are close to
        Rayleigh distributed; with median m, P(A > a) = exp(-ln2 (a/m)^2). Searching k bins for
        the largest raises the chance k-fold, so a wide speed tolerance is not rewarded.
        2 means a 1 % chance, 3 a 0.1 % chance; 0 means nothing stands out.
        """
        r = self.ratio
        log10_p = (np.log(self.n_searched) - np.log(2.0) * r * r) / np.log(10.0)
        significance: FloatArray = np.maximum(-log10_p, 0.0)
        return significance


@dataclass(frozen=True)
class HarmonicSearch:
    """Several peak searches at once: search s looks near harmonic[s] × fundamental_hz[:, s].

    fundamental_hz: (n_windows, n_searches), Hz; harmonic: (n_searches,) multiples;
    floor_halfwidth: (n_searches,) half-width of the floor region, in fundamentals.
    """

    fundamental_hz: FloatArray
    harmonic: FloatArray
    floor_halfwidth: FloatArray


@dataclass(frozen=True)
class SearchPlan:
    """Where each search of a :class:`HarmonicSearch` looks, as bin lists ready to gather.

    peak_bins: (n_peak, n_windows, n_searches) bins of each peak region, in ascending order,
    padded with ``top`` (read as -inf); floor_bins: (n_windows, n_searches, n_floor) bins of each
    floor region, padded with ``top + 1`` (read as +inf); n_floor / n_peak: (n_windows,
    n_searches) how many bins each region has; top: one past the highest bin read; df: bin
    spacing, Hz. It depends on the speed, the geometry and the bin grid only, so one plan
    serves every band's spectrum of the same windows.
    """

    peak_bins: NDArray[np.int64]
    floor_bins: NDArray[np.int64]
    n_peak: NDArray[np.int64]
    n_floor: NDArray[np.int64]
    top: int
    df: float

    def rows(self, part: slice) -> SearchPlan:
        """The plan of some windows (the same bins and regions as in the whole plan)."""
        return SearchPlan(
            self.peak_bins[:, part],
            self.floor_bins[part],
            self.n_peak[part],
            self.n_floor[part],
            self.top,
            self.df,
        )


def _compact(
    idx: NDArray[np.int64], mask: NDArray[np.bool_], pad: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The masked bins of every (window, search) row, in their order, padded with ``pad``."""
    count = mask.sum(axis=-1)
    bins = np.full((*mask.shape[:-1], max(int(count.max()), 1)), pad, dtype=np.int64)
    w, s, o = np.nonzero(mask)  # row-major: each row's bins in ascending order
    slot = (np.cumsum(mask, axis=-1) - 1)[w, s, o]
    bins[w, s, slot] = idx[w, s, o]
    return bins, count


def plan_search(df: float, search: HarmonicSearch, tolerance: float, n_bins: int) -> SearchPlan:
    """Plan every search of ``search`` over spectra of ``n_bins`` bins spaced ``df`` Hz.

    The rules are those of :func:`harmonic_evidence`: the peak is the largest bin within
    ±max(``tolerance`` × centre, 1.5 bins) of the harmonic, the floor the median of the other
    bins within ±``floor_halfwidth`` fundamentals, and no search reaches further from its
    centre than its floor does for the window that needs the widest floor.
    """
    f0_all = np.asarray(search.fundamental_hz, dtype=np.float64)
    if np.any(~np.isfinite(f0_all)) or np.any(f0_all <= 0):
        raise InputError("fundamental frequency must be positive and finite")
    nyquist_bin = n_bins - 1
    reach_all = search.floor_halfwidth[None, :] * f0_all / df
    span = np.ceil(reach_all.max(axis=0)).astype(np.int64)  # per search, over all the windows
    # windows at the same speed search the same bins: plan each speed once
    f0, inverse = np.unique(f0_all, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    # (n_speeds, n_searches), in bins; products before the division, as the one-search form had
    centre = search.harmonic[None, :] * f0 / df
    half = np.maximum(tolerance * centre, 1.5)
    reach = search.floor_halfwidth[None, :] * f0 / df
    widest = int(span.max())
    offsets = np.arange(-widest, widest + 1)
    idx = np.rint(centre).astype(np.int64)[:, :, None] + offsets  # (n_win, n_s, n_off)
    valid = (idx >= 1) & (idx <= nyquist_bin) & (np.abs(offsets) <= span[:, None])
    dist = np.abs(idx - centre[:, :, None])
    in_peak = (dist <= half[:, :, None]) & valid
    in_floor = (dist > half[:, :, None]) & (dist <= reach[:, :, None]) & valid
    if not in_peak.any(axis=2).all():
        s = int(np.argwhere(~in_peak.any(axis=2))[0, 1])
        raise InputError(
            f"harmonic {search.harmonic[s]:g} of {float(f0[:, s].max()):.2f} Hz lies above the "
            f"spectrum's range ({nyquist_bin * df:.1f} Hz): sample rate too low or window too short"
        )
    top = int(np.max(np.where(in_peak | in_floor, idx, 0))) + 1
    peak_bins, n_peak = _compact(idx, in_peak, top)
    floor_bins, n_floor = _compact(idx, in_floor, top + 1)
    return SearchPlan(
        np.ascontiguousarray(np.moveaxis(peak_bins[inverse], -1, 0)),
        floor_bins[inverse],
        n_peak[inverse],
        n_floor[inverse],
        top,
        df,
    )


def _padded(plan: SearchPlan, spectra: FloatArray) -> FloatArray:
    """Spectra cut to the plan's bins plus two cells: -inf (pads peaks) and +inf (floors)."""
    spec = np.asarray(spectra, dtype=np.float64)
    if spec.shape[-1] < plan.top:
        raise ValueError(f"spectra have {spec.shape[-1]} bins, the plan reads {plan.top}")
    out = np.empty((*spec.shape[:-1], plan.top + 2))
    out[..., : plan.top] = spec[..., : plan.top]
    out[..., plan.top] = -np.inf
    out[..., plan.top + 1] = np.inf
    return out


def _gather(plan: SearchPlan, padded: FloatArray, bins: NDArray[np.int64], axis: int) -> FloatArray:
    n_win, width = padded.shape[-2:]
    rows = np.arange(n_win) * width
    flat = bins + (rows[:, None, None] if axis == 2 else rows[None, :, None])
    vals: FloatArray = padded.reshape(*padded.shape[:-2], n_win * width)[..., flat]
    return vals


def measure_peaks(plan: SearchPlan, spectra: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Peak amplitude and floor of every planned search, (..., n_windows, n_searches).

    ``spectra``: (..., n_windows, n_freqs), at least ``plan.top`` bins; leading axes (e.g. one
    per band) are measured with the same plan in one pass.
    """
    padded = _padded(plan, spectra)
    peaks = _gather(plan, padded, plan.peak_bins, axis=1)  # (..., n_peak, n_win, n_s)
    amplitude: FloatArray = np.max(peaks, axis=-3)
    floor = _floor_median(plan, _gather(plan, padded, plan.floor_bins, axis=2))
    return amplitude, floor


def _floor_median(plan: SearchPlan, vals: FloatArray) -> FloatArray:
    """Median of each floor region (the +inf padding sorts last); NaN for an empty region."""
    ordered = np.sort(vals, axis=-1)
    count = np.broadcast_to(plan.n_floor, ordered.shape[:-1])
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = np.maximum(count // 2, 0)[..., None]
    med = 0.5 * (
        np.take_along_axis(ordered, lo, axis=-1)[..., 0]
        + np.take_along_axis(ordered, hi, axis=-1)[..., 0]
    )
    out: FloatArray = np.where(count > 0, med, np.nan)
    return out


def search_peaks(
    freqs: FloatArray, spectrum: FloatArray, search: HarmonicSearch, tolerance: float
) -> HarmonicEvidence:
    """Every search of ``search`` in one vectorised pass (see :func:`plan_search`)."""
    spec = np.atleast_2d(np.asarray(spectrum, dtype=np.float64))
    plan = plan_search(float(freqs[1] - freqs[0]), search, tolerance, spec.shape[1])
    return evidence_of(plan, spec)


def evidence_of(plan: SearchPlan, spectrum: FloatArray) -> HarmonicEvidence:
    """:class:`HarmonicEvidence` of every planned search in (n_windows, n_freqs) spectra."""
    padded = _padded(plan, np.atleast_2d(spectrum))
    peaks = _gather(plan, padded, plan.peak_bins, axis=1)  # (n_peak, n_win, n_s)
    best = np.argmax(peaks, axis=0)[None]  # the first of equal peaks, as the bins ascend
    amplitude = np.take_along_axis(peaks, best, axis=0)[0]
    bins = np.take_along_axis(plan.peak_bins, best, axis=0)[0]
    frequency = (bins * plan.df).astype(np.float64)
    floor = _floor_median(plan, _gather(plan, padded, plan.floor_bins, axis=2))
    return HarmonicEvidence(frequency, amplitude, floor, plan.n_peak.astype(np.float64))


def harmonic_evidence(
    freqs: FloatArray,
    spectrum: FloatArray,
    fundamental_hz: float | FloatArray,
    *,
    n_harmonics: int = 3,
    tolerance: float = 0.02,
    floor_halfwidth: float = 0.5,
) -> HarmonicEvidence:
    """Peak near each harmonic of ``fundamental_hz`` against the local noise floor.

    Parameters
    ----------
    freqs: bin frequencies, Hz, shape (n_freqs,), evenly spaced.
    spectrum: amplitude spectra, shape (n_windows, n_freqs).
    fundamental_hz: fundamental, Hz; a scalar or one value per window (speed may differ).
    n_harmonics: harmonics 1..n_harmonics are searched.
    tolerance: relative search half-width around each harmonic (slip, speed error); at least
        1.5 bins.
    floor_halfwidth: the floor is the median over ±``floor_halfwidth`` × fundamental around the
        harmonic, excluding the search band.
    """
    spec = np.atleast_2d(np.asarray(spectrum, dtype=np.float64))
    f0 = np.broadcast_to(np.asarray(fundamental_hz, dtype=np.float64), (spec.shape[0],))
    search = HarmonicSearch(
        np.repeat(f0[:, None], n_harmonics, axis=1),
        np.arange(1, n_harmonics + 1, dtype=np.float64),
        np.full(n_harmonics, float(floor_halfwidth)),
    )
    return search_peaks(freqs, spec, search, tolerance)


def shared_harmonics(
    orders: dict[str, float],
    signature: str,
    n_harmonics: int,
    tolerance: float,
    *,
    others: tuple[str, ...] = ("bpfo", "bpfi", "bsf2"),
    shaft_orders: int = 4,
) -> NDArray[np.bool_]:
    """Which harmonics of ``signature`` another signature or a shaft harmonic could explain.

    A line within the search tolerance of, say, BPFO 3× and BPFI 2× (3 × 3.585 vs 2 × 5.415 on
    an SKF 6205) is evidence for neither: counting it would let one defect vote for another.
    Low shaft harmonics (1× to ``shaft_orders``×: unbalance, misalignment, looseness) are
    nearly always present, so lines on them are shared too; they are exact (no slip), so only the
    defect's own search window counts for them.

    Returns a boolean array of length ``n_harmonics`` (True: shared, do not count).

    >>> from shopfloor.core.assets import BearingGeometry
    >>> g = BearingGeometry(n_elements=9, element_diameter_mm=7.94, pitch_diameter_mm=39.04)
    >>> shared_harmonics(defect_orders(g), "bpfi", 3, 0.02).tolist()
    [False, True, False]
    """
    own = orders[signature] * np.arange(1, n_harmonics + 1)
    defects = np.asarray(
        [orders[o] * k for o in others if o != signature for k in range(1, n_harmonics + 2)],
        dtype=np.float64,
    )
    shaft = np.arange(1, shaft_orders + 1, dtype=np.float64)
    # two slipping lines: their search windows overlap when the gap is below both half-widths
    by_defect = np.abs(own[:, None] - defects[None, :]) <= tolerance * (own[:, None] + defects)
    by_shaft = np.abs(own[:, None] - shaft[None, :]) <= tolerance * own[:, None]
    return np.asarray(by_defect.any(axis=1) | by_shaft.any(axis=1))
