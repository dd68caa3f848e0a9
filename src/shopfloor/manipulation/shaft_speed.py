"""Shaft speed from the vibration itself: the 1× line and its harmonics, near a given speed.

A nameplate speed, slip or a VFD can put the given speed several per cent off; bearing defect
frequencies scale with it, so a 5 % error moves BPFO's third harmonic by more than the search
tolerance. Every rotating machine vibrates at 1× shaft speed and its harmonics (residual
unbalance, misalignment), so the speed can be read from the spectrum:

* the amplitude spectrum of the whole signal (Hann window, zero-padded 4×), log-whitened by
  its running median so each harmonic weighs alike whatever the machine's colouring;
* a harmonic comb: for each trial speed in ``given ± band`` (a grid finer than the comb's own
  resolution), the mean whitened level at harmonics 1..K, each taken as the highest bin within
  half a bin of k × trial;
* *clear* when the best trial stands out from the comb over the whole band by more than
  chance allows: its excess over the median, in robust standard deviations (MAD), beats the
  one-sided normal quantile for a 1 % family-wise level over the number of independent trials
  in the band (a Bonferroni bound, so a wider band needs a taller line).

Nothing is fitted to a dataset: the band (±10 %) is the issue's stated uncertainty of a
nameplate speed, K is the number of harmonics below 0.2·fs (at most 10), and the threshold is
the noise statistic above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from numpy.typing import ArrayLike
from scipy.ndimage import median_filter
from scipy.stats import norm

from shopfloor.core.errors import InputError

__all__ = ["SpeedEstimate", "estimate_shaft_speed"]

FAMILY_LEVEL = 0.01
"""Chance that noise alone gives a 'clear' speed anywhere in the band."""
MAX_HARMONICS = 10
ZERO_PAD = 4


@dataclass(frozen=True)
class SpeedEstimate:
    """The speed a diagnosis uses and where it came from.

    Attributes
    ----------
    rpm: the speed used, rpm.
    source: ``"signal"`` (estimated and clear) or ``"given"`` (estimate not clear).
    given_rpm: the speed the user or the data model gave, rpm.
    estimated_rpm: the comb's best speed, rpm, clear or not.
    z: the best trial's excess over the band, in robust standard deviations.
    z_needed: the excess a clear estimate needs (family-wise 1 %).
    band: relative half-width searched around ``given_rpm``.
    """

    rpm: float
    source: str
    given_rpm: float
    estimated_rpm: float
    z: float
    z_needed: float
    band: float

    @property
    def clear(self) -> bool:
        return self.source == "signal"

    @property
    def disagreement(self) -> float:
        """Relative difference between the estimate and the given speed."""
        return self.estimated_rpm / self.given_rpm - 1.0

    def warning(self, tolerance: float = 0.02) -> str | None:
        """A sentence when the given speed and a clear estimate disagree beyond ``tolerance``."""
        if self.clear and abs(self.disagreement) > tolerance:
            return (
                f"the given speed {self.given_rpm:.0f} rpm and the speed read from the signal "
                f"{self.estimated_rpm:.0f} rpm differ by {self.disagreement:+.1%}: the signal's "
                "speed was used"
            )
        if not self.clear:
            return (
                f"shaft speed could not be read from the signal (1× comb {self.z:.1f} vs "
                f"{self.z_needed:.1f} needed): the given {self.given_rpm:.0f} rpm was used"
            )
        return None

    def describe(self) -> str:
        if self.clear:
            return f"{self.rpm:.0f} rpm read from the signal (given {self.given_rpm:.0f} rpm)"
        return f"{self.rpm:.0f} rpm as given (not readable from the signal)"


def estimate_shaft_speed(
    signal: ArrayLike, fs: float, given_rpm: float, *, band: float = 0.10
) -> SpeedEstimate:
    """Estimate the shaft speed near ``given_rpm`` from one vibration channel.

    Parameters
    ----------
    signal: samples (any unit), at least 1 s recommended (resolution fs / n).
    fs: sample rate, Hz.
    given_rpm: the speed given by the user or the data model, rpm.
    band: relative half-width searched around ``given_rpm`` (0.10: ±10 %).
    """
    x = np.asarray(signal, dtype=np.float64).ravel()
    if not np.isfinite(given_rpm) or given_rpm <= 0:
        raise InputError(f"shaft speed must be a positive number of rpm, got {given_rpm}")
    if x.size < 16 or not np.all(np.isfinite(x)):
        raise InputError("signal too short or not finite: cannot read the shaft speed")
    f_given = given_rpm / 60.0
    n_fft = sfft.next_fast_len(ZERO_PAD * x.size)
    spec = np.abs(sfft.rfft((x - x.mean()) * np.hanning(x.size), n=n_fft, workers=1))
    df = fs / n_fft
    k_max = int(max(1, min(MAX_HARMONICS, np.floor(0.2 * fs / (f_given * (1 + band))))))
    # log level over a running median ~ one trial band wide: colouring and resonances removed
    width = max(5, int(2 * band * f_given / df) | 1)
    level = np.log(np.maximum(spec, 1e-300) / np.maximum(median_filter(spec, width), 1e-300))
    native = fs / x.size  # resolution without padding: independent trials are this far apart
    step = native / (ZERO_PAD * k_max)
    trials = np.arange(f_given * (1 - band), f_given * (1 + band) + step, step)
    half = max(1, round(0.5 * native / df))
    score = np.zeros(trials.size)
    for k in range(1, k_max + 1):
        centre = np.rint(k * trials / df).astype(int)
        idx = np.clip(centre[:, None] + np.arange(-half, half + 1)[None, :], 0, spec.size - 1)
        score += level[idx].max(axis=1)
    score /= k_max
    best = int(np.argmax(score))
    med = float(np.median(score))
    mad = float(np.median(np.abs(score - med))) * 1.4826
    z = (score[best] - med) / mad if mad > 0 else 0.0
    n_independent = max(1.0, 2 * band * f_given / native * k_max)
    z_needed = float(norm.isf(FAMILY_LEVEL / n_independent))
    estimated = float(trials[best] * 60.0)
    edge = best in (0, trials.size - 1)  # a maximum on the edge may lie outside the band
    clear = bool(z >= z_needed and not edge)
    return SpeedEstimate(
        rpm=estimated if clear else float(given_rpm),
        source="signal" if clear else "given",
        given_rpm=float(given_rpm),
        estimated_rpm=estimated,
        z=float(z),
        z_needed=z_needed,
        band=band,
    )
