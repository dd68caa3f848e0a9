"""Vibration severity zones after ISO 10816 / ISO 20816 (broadband velocity RMS).

The zones are the plant's common language: A newly commissioned, B unrestricted long-term
operation, C restricted (plan action), D damage likely. They are judged on the RMS vibration
velocity between 10 and 1,000 Hz (machines above 600 rpm) measured on bearing housings.

Zone boundaries, mm/s RMS:

================================================  ======  ======  ======
machine                                            A/B     B/C     C/D
================================================  ======  ======  ======
ISO 10816-1 class I (small, up to 15 kW)           0.71    1.8     4.5
ISO 10816-3 group 2 (15–300 kW), rigid foundation  1.4     2.8     4.5
ISO 10816-3 group 2, flexible foundation           2.3     4.5     7.1
ISO 10816-3 group 1 (300 kW–50 MW), rigid          2.3     4.5     7.1
ISO 10816-3 group 1, flexible                      3.5     7.1     11.0
================================================  ======  ======  ======
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from shopfloor.core.errors import InputError
from shopfloor.core.units import convert
from shopfloor.manipulation.envelope import as_windows

FloatArray = NDArray[np.float64]


class Foundation(StrEnum):
    RIGID = "rigid"
    FLEXIBLE = "flexible"


ZONE_LIMITS_MM_S: dict[tuple[str, Foundation], tuple[float, float, float]] = {
    ("class_I", Foundation.RIGID): (0.71, 1.8, 4.5),
    ("class_I", Foundation.FLEXIBLE): (0.71, 1.8, 4.5),
    ("group_2", Foundation.RIGID): (1.4, 2.8, 4.5),
    ("group_2", Foundation.FLEXIBLE): (2.3, 4.5, 7.1),
    ("group_1", Foundation.RIGID): (2.3, 4.5, 7.1),
    ("group_1", Foundation.FLEXIBLE): (3.5, 7.1, 11.0),
}


def velocity_rms_mm_s(
    acceleration: ArrayLike,
    fs: float,
    unit: str = "m/s**2",
    band: tuple[float, float] = (10.0, 1000.0),
) -> FloatArray:
    """Broadband velocity RMS (mm/s) of acceleration windows, integrated in the frequency domain.

    Parameters
    ----------
    acceleration: samples, shape (n_windows, n_samples), in ``unit`` (e.g. ``"g"``, ``"m/s**2"``).
    fs: sample rate, Hz (must exceed twice the band's upper limit).
    band: integration band, Hz; ISO 10816 uses 10–1,000 Hz.

    >>> fs = 10_000.0
    >>> t = np.arange(10_000) / fs
    >>> a = 2 * np.pi * 50 * 0.01 * np.cos(2 * np.pi * 50 * t)  # 10 mm/s peak at 50 Hz, in m/s²
    >>> round(float(velocity_rms_mm_s(a, fs)[0]), 3)             # 10 / sqrt(2)
    7.071
    """
    x = as_windows(acceleration, name="acceleration")
    if band[1] >= fs / 2:
        raise InputError(
            f"sample rate {fs:g} Hz too low for the {band[0]:g}–{band[1]:g} Hz "
            "severity band (needs more than twice the upper limit)"
        )
    a = np.asarray(convert(x, unit, "m/s**2"), dtype=np.float64)
    n = a.shape[1]
    spec = sfft.rfft(a - a.mean(axis=1, keepdims=True), axis=1, workers=1)
    freqs = np.fft.rfftfreq(n, d=1.0 / fs)
    keep = (freqs >= band[0]) & (freqs <= band[1])
    omega = 2 * np.pi * freqs[keep]
    vel = spec[:, keep] / (1j * omega)  # integration: divide by j·omega
    # Parseval for a one-sided spectrum: mean square = 2 * sum |X_k|^2 / n^2 (no DC, no Nyquist)
    mean_square = 2.0 * np.sum(np.abs(vel) ** 2, axis=1) / n**2
    rms: FloatArray = np.sqrt(mean_square) * 1000.0
    return rms


def machine_group(rated_power_kw: float | None) -> str:
    """ISO machine group from the nameplate power (kW): class_I, group_2 or group_1."""
    if rated_power_kw is None:
        raise InputError(
            "rated power unknown: cannot choose the ISO 10816 machine group; "
            "add rated_power_kw to the asset's nameplate"
        )
    if rated_power_kw <= 15.0:
        return "class_I"
    return "group_2" if rated_power_kw <= 300.0 else "group_1"


def severity_zone(
    velocity_mm_s: float, group: str, foundation: Foundation = Foundation.RIGID
) -> str:
    """ISO zone letter (A, B, C or D) for a velocity RMS in mm/s.

    >>> severity_zone(3.1, "group_2", Foundation.RIGID)
    'C'
    """
    try:
        ab, bc, cd = ZONE_LIMITS_MM_S[(group, Foundation(foundation))]
    except KeyError as exc:
        raise InputError(
            f"unknown ISO machine group {group!r}; use class_I, group_2 or group_1"
        ) from exc
    if not np.isfinite(velocity_mm_s) or velocity_mm_s < 0:
        raise InputError(f"velocity must be a non-negative number of mm/s, got {velocity_mm_s}")
    return (
        "A"
        if velocity_mm_s <= ab
        else "B"
        if velocity_mm_s <= bc
        else "C"
        if velocity_mm_s <= cd
        else "D"
    )
