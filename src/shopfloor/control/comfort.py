"""Comfort, defined once and applied to every controller.

The cabin is comfortable within ``setpoint ± band`` (°C, K). Every controller gets the same
warm-up allowance: the time the stock controller needs to bring the cabin into the band from its
soak temperature on the same run (none, if stock never gets there). After that, the discomfort
integral counts K·h outside the band, and the share of time outside the band is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shopfloor.core.errors import InputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ComfortSpec:
    """The comfort band: ``setpoint_c ± band_k``.

    Parameters
    ----------
    setpoint_c:
        Centre of the band, °C (the stock controller's setpoint as shipped: 22 °C).
    band_k:
        Half width, K.
    """

    setpoint_c: float = 22.0
    band_k: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.setpoint_c) and np.isfinite(self.band_k)):
            raise InputError(
                f"comfort band must be finite, got {self.setpoint_c} ± {self.band_k}",
                column="comfort",
            )
        if self.band_k <= 0:
            raise InputError(
                f"infeasible comfort band: half width {self.band_k} K must be > 0",
                column="band_k",
            )
        if not 5.0 <= self.setpoint_c <= 35.0:
            raise InputError(
                f"infeasible comfort band: setpoint {self.setpoint_c} °C is outside what a cabin "
                "HVAC can hold (5-35 °C)",
                column="setpoint_c",
            )

    @property
    def low(self) -> float:
        return self.setpoint_c - self.band_k

    @property
    def high(self) -> float:
        return self.setpoint_c + self.band_k

    def excess_k(self, cabin_c: FloatArray) -> FloatArray:
        """How far each temperature lies outside the band, K (0 inside)."""
        cabin = np.asarray(cabin_c, dtype=float)
        return np.maximum(self.low - cabin, 0.0) + np.maximum(cabin - self.high, 0.0)


def warmup_s(cabin_c: FloatArray, spec: ComfortSpec, dt_s: float = 1.0) -> float:
    """Seconds until ``cabin_c`` (1 Hz unless ``dt_s``) first enters the band; the whole run if
    it never does."""
    inside = np.flatnonzero(spec.excess_k(cabin_c) == 0.0)
    return float((inside[0] if inside.size else len(cabin_c)) * dt_s)


def comfort_metrics(
    cabin_c: FloatArray, spec: ComfortSpec, allowance_s: float, dt_s: float = 1.0
) -> dict[str, float]:
    """Discomfort after the warm-up allowance.

    Returns
    -------
    dict
        ``discomfort_kh`` (K·h outside the band), ``outside_pct`` (% of the time after the
        allowance spent outside the band), ``max_excess_k``.
    """
    cabin = np.asarray(cabin_c, dtype=float)
    start = min(int(np.ceil(allowance_s / dt_s)), len(cabin))
    excess = spec.excess_k(cabin[start:])
    if excess.size == 0:
        return {"discomfort_kh": 0.0, "outside_pct": 0.0, "max_excess_k": 0.0}
    return {
        "discomfort_kh": float(excess.sum() * dt_s / 3600.0),
        "outside_pct": float(100.0 * np.mean(excess > 0.0)),
        "max_excess_k": float(excess.max()),
    }
