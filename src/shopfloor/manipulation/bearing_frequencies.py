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


def _masked_median(values: FloatArray, mask: NDArray[np.bool_]) -> FloatArray:
    """Median of ``values`` where ``mask``, along the last axis (NaN for an empty row).

    Sorting short rows beats ``np.nanmedian``, which goes through masked arrays.
    """
    ordered = np.sort(np.where(mask, values, np.inf), axis=-1)
    count = mask.sum(axis=-1)
    lo = np.maximum((count - 1) // 2, 0)
    hi = np.maximum(count // 2, 0)
    med = 0.5 * (
        np.take_along_axis(ordered, lo[..., None], axis=-1)[..., 0]
        + np.take_along_axis(ordered, hi[..., None], axis=-1)[..., 0]
    )
    out: FloatArray = np.where(count > 0, med, np.nan)
    return out


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
    """Where each search of a :class:`HarmonicSearch` looks: bins, peak and floor regions.

    idx: (n_windows, n_searches, n_offsets) bin indices; in_peak / in_floor: masks of the same
    shape; df: bin spacing, Hz. It depends on the speed, the geometry and the bin grid only, so
    one plan serves every band's spectrum of the same windows.
    """

    idx: NDArray[np.int64]
    in_peak: NDArray[np.bool_]
    in_floor: NDArray[np.bool_]
    df: float

    def rows(self, part: slice) -> SearchPlan:
        """The plan of some windows (the same bins and regions as in the whole plan)."""
        return SearchPlan(self.idx[part], self.in_peak[part], self.in_floor[part], self.df)

    @property
    def top_bin(self) -> int:
        """The highest bin any search reads (spectra may be cut just above it)."""
        return int(np.max(np.where(self.in_peak | self.in_floor, self.idx, 0)))


def plan_search(df: float, search: HarmonicSearch, tolerance: float, n_bins: int) -> SearchPlan:
    """Plan every search of ``search`` over spectra of ``n_bins`` bins spaced ``df`` Hz.

    The rules are those of :func:`harmonic_evidence`: the peak is the largest bin within
    ±max(``tolerance`` × centre, 1.5 bins) of the harmonic, the floor the median of the other
    bins within ±``floor_halfwidth`` fundamentals, and no search reaches further from its
    centre than its floor does for the window that needs the widest floor.
    """
    f0 = np.asarray(search.fundamental_hz, dtype=np.float64)
    if np.any(~np.isfinite(f0)) or np.any(f0 <= 0):
        raise InputError("fundamental frequency must be positive and finite")
    nyquist_bin = n_bins - 1
    # (n_win, n_searches), in bins; products before the division, as the one-search form had
    centre = search.harmonic[None, :] * f0 / df
    half = np.maximum(tolerance * centre, 1.5)
    reach = search.floor_halfwidth[None, :] * f0 / df
    span = np.ceil(reach.max(axis=0)).astype(np.int64)  # per search, over the windows
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
    return SearchPlan(idx, in_peak, in_floor, df)


def _gather(plan: SearchPlan, spec: FloatArray) -> FloatArray:
    n_win, width = spec.shape[-2:]
    flat = np.minimum(plan.idx, width - 1) + (np.arange(n_win) * width)[:, None, None]
    vals: FloatArray = spec.reshape(*spec.shape[:-2], n_win * width)[..., flat]
    return vals


def measure_peaks(plan: SearchPlan, spectra: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Peak amplitude and floor of every planned search, (..., n_windows, n_searches).

    ``spectra``: (..., n_windows, n_freqs), at least ``plan.top_bin + 1`` bins; leading axes
    (e.g. one per band) are measured with the same plan in one pass.
    """
    vals = _gather(plan, np.asarray(spectra, dtype=np.float64))
    amplitude: FloatArray = np.where(plan.in_peak, vals, -np.inf).max(axis=-1)
    floor = _masked_median(vals, np.broadcast_to(plan.in_floor, vals.shape))
    return amplitude, floor


def search_peaks(
    freqs: FloatArray, spectrum: FloatArray, search: HarmonicSearch, tolerance: float
) -> HarmonicEvidence:
    """Every search of ``search`` in one vectorised pass (see :func:`plan_search`)."""
    spec = np.atleast_2d(np.asarray(spectrum, dtype=np.float64))
    plan = plan_search(float(freqs[1] - freqs[0]), search, tolerance, spec.shape[1])
    return evidence_of(plan, spec)


def evidence_of(plan: SearchPlan, spectrum: FloatArray) -> HarmonicEvidence:
    """:class:`HarmonicEvidence` of every planned search in (n_windows, n_freqs) spectra."""
    spec = np.atleast_2d(np.asarray(spectrum, dtype=np.float64))
    vals = _gather(plan, spec)
    peak_vals = np.where(plan.in_peak, vals, -np.inf)
    best = np.argmax(peak_vals, axis=2)[:, :, None]
    amplitude = np.take_along_axis(peak_vals, best, axis=2)[:, :, 0]
    bins = np.take_along_axis(plan.idx, best, axis=2)[:, :, 0]
    frequency = (bins * plan.df).astype(np.float64)
    floor = _masked_median(vals, plan.in_floor)
    n_searched = plan.in_peak.sum(axis=2).astype(np.float64)
    return HarmonicEvidence(frequency, amplitude, floor, n_searched)


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
