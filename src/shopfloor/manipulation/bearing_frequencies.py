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
    """Row-wise median of ``values`` where ``mask`` (NaN for an empty row).

    Sorting short rows beats ``np.nanmedian``, which goes through masked arrays.
    """
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)
    count = mask.sum(axis=1)
    rows = np.arange(values.shape[0])
    lo = np.maximum((count - 1) // 2, 0)
    hi = np.maximum(count // 2, 0)
    med = 0.5 * (ordered[rows, lo] + ordered[rows, hi])
    return np.where(count > 0, med, np.nan)


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
    n_win = spec.shape[0]
    f0 = np.broadcast_to(np.asarray(fundamental_hz, dtype=np.float64), (n_win,))
    if np.any(~np.isfinite(f0)) or np.any(f0 <= 0):
        raise InputError("fundamental frequency must be positive and finite")
    df = float(freqs[1] - freqs[0])
    nyquist_bin = spec.shape[1] - 1
    rows = np.arange(n_win)[:, None]
    out_f = np.empty((n_win, n_harmonics))
    out_a = np.empty((n_win, n_harmonics))
    out_n = np.empty((n_win, n_harmonics))
    out_k = np.empty((n_win, n_harmonics))
    for h in range(1, n_harmonics + 1):  # a loop over harmonics, never over windows
        centre = h * f0 / df  # in bins
        half = np.maximum(tolerance * centre, 1.5)
        span = int(np.ceil(np.max(floor_halfwidth * f0 / df)))
        offsets = np.arange(-span, span + 1)
        idx = np.rint(centre)[:, None].astype(int) + offsets[None, :]
        valid = (idx >= 1) & (idx <= nyquist_bin)
        vals = np.where(valid, spec[rows, np.clip(idx, 0, nyquist_bin)], np.nan)
        dist = np.abs(idx - centre[:, None])
        in_peak = (dist <= half[:, None]) & valid
        in_floor = (dist > half[:, None]) & (dist <= (floor_halfwidth * f0 / df)[:, None]) & valid
        if not in_peak.any(axis=1).all():
            raise InputError(
                f"harmonic {h} of {float(f0.max()):.2f} Hz lies above the spectrum's range "
                f"({freqs[-1]:.1f} Hz): sample rate too low or window too short"
            )
        peak_vals = np.where(in_peak, vals, -np.inf)
        best = np.argmax(peak_vals, axis=1)
        out_a[:, h - 1] = peak_vals[np.arange(n_win), best]
        out_f[:, h - 1] = idx[np.arange(n_win), best] * df
        out_n[:, h - 1] = _masked_median(vals, in_floor)
        out_k[:, h - 1] = in_peak.sum(axis=1)
    return HarmonicEvidence(out_f, out_a, out_n, out_k)


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
