"""Synthetic signals whose answer is known, for quality-floor tests and demos.

Every generator takes ``seed`` (an int, a ``numpy.random.Generator`` or None) and returns the
signal together with a truth record stating what a correct method must find:

* :func:`bearing_signal`: rolling-element bearing with a local defect (outer race, inner race,
  ball, cage), after the impulse model of McFadden & Smith and Antoni & Randall.
* :func:`shaft_signal`: unbalance (1× dominant) or misalignment (2×, 3× and axial).
* :func:`degradation`: a health indicator that degrades exponentially from an onset time to
  failure at a known time.
* :func:`process_with_fault`: a correlated multivariate process with a step or drift injected
  on chosen channels at a known time, with per-sample labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import fftconvolve, lfilter

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError

__all__ = [
    "BEARING_DEFECTS",
    "PROCESS_FAULTS",
    "SHAFT_FAULTS",
    "BearingTruth",
    "DegradationTruth",
    "ProcessTruth",
    "ShaftTruth",
    "bearing_signal",
    "cwru_drive_end_bearing",
    "degradation",
    "process_with_fault",
    "shaft_signal",
]

FloatArray = npt.NDArray[np.float64]
Seed = int | np.random.Generator | None
_T = TypeVar("_T")

#: defect -> (defect order key, multiplier, modulation order key or None). Orders come from
#: BearingGeometry.defect_orders(); "shaft" means 1× shaft speed. A ball defect strikes a race
#: at twice the ball spin rate and is carried round by the cage; an inner-race defect passes
#: through the load zone once per shaft turn.
BEARING_DEFECTS: Mapping[str, tuple[str, float, str | None]] = {
    "outer": ("bpfo", 1.0, None),
    "inner": ("bpfi", 1.0, "shaft"),
    "ball": ("bsf", 2.0, "ftf"),
    "cage": ("ftf", 1.0, None),
}

#: fault -> {channel: amplitudes of 1×, 2×, 3× shaft speed, as fractions of ``level_mm_s``}.
SHAFT_FAULTS: Mapping[str, Mapping[str, tuple[float, float, float]]] = {
    "healthy": {"radial": (0.25, 0.08, 0.04), "axial": (0.10, 0.04, 0.02)},
    "unbalance": {"radial": (1.00, 0.12, 0.05), "axial": (0.15, 0.05, 0.02)},
    "misalignment": {"radial": (0.45, 0.80, 0.40), "axial": (0.70, 0.90, 0.60)},
}


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise InputError(f"{name} must be positive, got {value}")


def _pick(table: Mapping[str, _T], key: str, what: str) -> _T:
    try:
        return table[key]
    except KeyError:
        raise InputError(f"unknown {what} {key!r}; known: {sorted(table)}") from None


def cwru_drive_end_bearing() -> BearingGeometry:
    """The SKF 6205-2RS JEM deep-groove ball bearing of the CWRU test rig's drive end."""
    return BearingGeometry(
        designation="6205-2RS JEM SKF",
        n_elements=9,
        element_diameter_mm="0.3126 in",
        pitch_diameter_mm="1.537 in",
    )


@dataclass(frozen=True)
class BearingTruth:
    """What a bearing diagnosis must find in a :func:`bearing_signal`.

    Attributes
    ----------
    defect: ``outer``, ``inner``, ``ball`` or ``cage``.
    defect_frequency_hz: mean impulse rate, Hz (the envelope-spectrum line).
    modulation_hz: amplitude-modulation rate, Hz (sidebands around it), None if unmodulated.
    shaft_hz: shaft rotation frequency, Hz.
    resonance_hz: natural frequency of the structural resonance excited, Hz.
    fs_hz: sample rate, Hz.
    orders: the bearing's defect orders (ftf, bpfo, bpfi, bsf), multiples of shaft speed.
    n_impulses: how many impacts the record contains.
    """

    defect: str
    defect_frequency_hz: float
    modulation_hz: float | None
    shaft_hz: float
    resonance_hz: float
    fs_hz: float
    orders: dict[str, float]
    n_impulses: int


def bearing_signal(
    defect: str = "outer",
    *,
    geometry: BearingGeometry | None = None,
    shaft_hz: float = 29.95,
    fs_hz: float = 12_000.0,
    duration_s: float = 1.0,
    resonance_hz: float = 3_000.0,
    damping_ratio: float = 0.05,
    impulse_amplitude: float = 1.0,
    modulation_depth: float = 0.5,
    slip: float = 0.015,
    shaft_amplitudes: Sequence[float] = (0.2, 0.1, 0.05),
    noise_std: float = 0.2,
    seed: Seed = None,
) -> tuple[FloatArray, BearingTruth]:
    """Acceleration of a bearing housing with a local defect, in m/s².

    Each pass of the defect gives an impact that rings a structural resonance (damped sine at
    ``resonance_hz``, damping ratio ``damping_ratio``, peak ``impulse_amplitude`` m/s²). The
    impacts repeat at the defect frequency of ``geometry`` at ``shaft_hz``, each interval
    randomly longer or shorter by ``slip`` (standard deviation, fraction of the period: rolling
    elements slip, so real impacts are not exactly periodic). Inner-race impacts are
    amplitude-modulated at the shaft rate, ball impacts at the cage rate (depth
    ``modulation_depth``). Shaft harmonics 1×, 2×, 3× (``shaft_amplitudes``, m/s²) and white
    Gaussian noise (``noise_std``, m/s²) are added.

    Parameters
    ----------
    defect:
        A key of :data:`BEARING_DEFECTS`.
    geometry:
        The bearing; default :func:`cwru_drive_end_bearing`.
    shaft_hz, fs_hz, duration_s:
        Shaft speed (Hz), sample rate (Hz), record length (s).

    Returns
    -------
    signal : ndarray, shape (round(duration_s * fs_hz),)
        Acceleration, m/s².
    truth : BearingTruth
    """
    order_key, multiplier, modulation_key = _pick(BEARING_DEFECTS, defect, "bearing defect")
    _positive(shaft_hz=shaft_hz, fs_hz=fs_hz, duration_s=duration_s, resonance_hz=resonance_hz)
    if resonance_hz >= fs_hz / 2:
        raise InputError(f"resonance_hz {resonance_hz} must be below Nyquist ({fs_hz / 2} Hz)")
    if not 0 < damping_ratio < 1 or not 0 <= slip < 0.2 or not 0 <= modulation_depth <= 1:
        raise InputError("need 0 < damping_ratio < 1, 0 <= slip < 0.2, 0 <= modulation_depth <= 1")
    rng = np.random.default_rng(seed)
    orders = (geometry or cwru_drive_end_bearing()).defect_orders()
    defect_hz = orders[order_key] * multiplier * shaft_hz
    modulation_hz = None
    if modulation_key is not None:
        modulation_hz = shaft_hz * (1.0 if modulation_key == "shaft" else orders[modulation_key])
    n = round(duration_s * fs_hz)
    t = np.arange(n) / fs_hz

    # Impact times: random start phase, then jittered periods (mean period unchanged).
    period = 1.0 / defect_hz
    n_max = int(duration_s * defect_hz) + 3
    intervals = period * np.clip(1.0 + slip * rng.standard_normal(n_max), 0.5, 1.5)
    times = rng.uniform(0.0, period) + np.concatenate([[0.0], np.cumsum(intervals[:-1])])
    times = times[times < duration_s]
    amplitudes = np.full(times.size, impulse_amplitude)
    if modulation_hz is not None:
        phase = rng.uniform(0.0, 2 * np.pi)
        amplitudes *= 1.0 + modulation_depth * np.cos(2 * np.pi * modulation_hz * times + phase)
    train = np.zeros(n)
    np.add.at(train, np.minimum(np.round(times * fs_hz).astype(int), n - 1), amplitudes)

    # Ring-down of the resonance, kept until it has decayed to 1e-4 of its start.
    omega = 2 * np.pi * resonance_hz
    decay = damping_ratio * omega
    tr = np.arange(int(np.ceil(np.log(1e4) / decay * fs_hz))) / fs_hz
    ring = np.exp(-decay * tr) * np.sin(omega * np.sqrt(1 - damping_ratio**2) * tr)
    ring /= np.abs(ring).max()
    signal = fftconvolve(train, ring)[:n]

    for harmonic, amp in enumerate(shaft_amplitudes, start=1):
        signal += amp * np.sin(2 * np.pi * harmonic * shaft_hz * t + rng.uniform(0, 2 * np.pi))
    signal += noise_std * rng.standard_normal(n)
    truth = BearingTruth(
        defect=defect,
        defect_frequency_hz=defect_hz,
        modulation_hz=modulation_hz,
        shaft_hz=shaft_hz,
        resonance_hz=resonance_hz,
        fs_hz=fs_hz,
        orders=dict(orders),
        n_impulses=int(times.size),
    )
    return signal, truth


@dataclass(frozen=True)
class ShaftTruth:
    """Known content of a :func:`shaft_signal`: ``amplitudes_mm_s[channel]`` holds the peak
    velocity (mm/s) at 1×, 2× and 3× ``shaft_hz``."""

    fault: str
    shaft_hz: float
    fs_hz: float
    amplitudes_mm_s: dict[str, tuple[float, float, float]]


def shaft_signal(
    fault: str = "unbalance",
    *,
    shaft_hz: float = 24.75,
    fs_hz: float = 2_560.0,
    duration_s: float = 4.0,
    level_mm_s: float = 4.0,
    noise_std: float = 0.1,
    seed: Seed = None,
) -> tuple[pd.DataFrame, ShaftTruth]:
    """Radial and axial vibration velocity (mm/s) of a shaft with unbalance or misalignment.

    Unbalance is a rotating force at 1×, mostly radial. Misalignment (angular and parallel)
    bends the coupling twice per turn: strong 2× and 3×, and high axial vibration. The
    harmonic amplitudes are :data:`SHAFT_FAULTS` times ``level_mm_s`` (peak, mm/s), with random
    phases, plus white noise (``noise_std`` mm/s).

    Returns
    -------
    samples : DataFrame
        Columns ``radial`` and ``axial`` (mm/s), index ``time_s`` (s).
    truth : ShaftTruth
    """
    profile = _pick(SHAFT_FAULTS, fault, "shaft fault")
    _positive(shaft_hz=shaft_hz, fs_hz=fs_hz, duration_s=duration_s, level_mm_s=level_mm_s)
    if 3 * shaft_hz >= fs_hz / 2:
        raise InputError(f"fs_hz {fs_hz} is too low for 3x of {shaft_hz} Hz")
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration_s * fs_hz)) / fs_hz
    harmonics = np.arange(1, 4)
    columns: dict[str, FloatArray] = {}
    amplitudes: dict[str, tuple[float, float, float]] = {}
    for channel, fractions in profile.items():
        amps = level_mm_s * np.asarray(fractions)
        phases = rng.uniform(0.0, 2 * np.pi, 3)
        waves = np.sin(2 * np.pi * shaft_hz * np.outer(t, harmonics) + phases)
        columns[channel] = waves @ amps + noise_std * rng.standard_normal(t.size)
        amplitudes[channel] = (float(amps[0]), float(amps[1]), float(amps[2]))
    frame = pd.DataFrame(columns, index=pd.Index(t, name="time_s"))
    return frame, ShaftTruth(fault, shaft_hz, fs_hz, amplitudes)


@dataclass(frozen=True)
class DegradationTruth:
    """Known course of a :func:`degradation` run (times in hours, levels in the unit of the
    health indicator, e.g. mm/s RMS velocity)."""

    onset_h: float
    failure_h: float
    healthy_level: float
    failure_threshold: float


def degradation(
    *,
    onset_h: float = 600.0,
    failure_h: float = 900.0,
    interval_h: float = 1.0,
    healthy_level: float = 1.0,
    failure_threshold: float = 7.1,
    sharpness: float = 5.0,
    noise_std: float = 0.05,
    seed: Seed = None,
) -> tuple[pd.DataFrame, DegradationTruth]:
    """A health indicator of an asset that degrades to failure, sampled every ``interval_h``.

    Flat at ``healthy_level`` until ``onset_h``; then grows as
    ``healthy_level + a (exp(b (t - onset_h)) - 1)``, with ``b = sharpness / (failure_h -
    onset_h)`` and ``a`` chosen so the curve reaches ``failure_threshold`` exactly at
    ``failure_h`` (default 7.1 mm/s, the ISO 10816-3 zone C/D boundary for small machines on
    rigid mounts). The record ends at failure. Gaussian noise ``noise_std`` is added.

    Returns
    -------
    samples : DataFrame
        Index ``time_h`` (hours from 0 to ``failure_h``); columns ``health_indicator`` and
        ``rul_h`` (true remaining useful life, hours).
    truth : DegradationTruth
    """
    _positive(onset_h=onset_h, interval_h=interval_h, sharpness=sharpness)
    if not failure_h > onset_h or not failure_threshold > healthy_level:
        raise InputError("need failure_h > onset_h and failure_threshold > healthy_level")
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, failure_h + interval_h / 2, interval_h)
    rate = sharpness / (failure_h - onset_h)
    scale = (failure_threshold - healthy_level) / np.expm1(sharpness)
    clean = healthy_level + scale * np.expm1(rate * np.clip(t - onset_h, 0.0, None))
    frame = pd.DataFrame(
        {
            "health_indicator": clean + noise_std * rng.standard_normal(t.size),
            "rul_h": failure_h - t,
        },
        index=pd.Index(t, name="time_h"),
    )
    return frame, DegradationTruth(onset_h, failure_h, healthy_level, failure_threshold)


@dataclass(frozen=True)
class ProcessTruth:
    """Where the fault of a :func:`process_with_fault` run is: from row ``change_index``
    (time ``change_time``) on ``channels``, size ``magnitude`` in pre-fault standard
    deviations (reached at once for a step, at the last sample for a drift)."""

    kind: str
    change_index: int
    change_time: pd.Timestamp
    channels: tuple[str, ...]
    magnitude: float


#: fault kind -> its shape over the faulty samples (0 to 1).
PROCESS_FAULTS: Mapping[str, Callable[[int], FloatArray]] = {
    "step": lambda n: np.ones(n),
    "drift": lambda n: np.linspace(1.0 / n, 1.0, n),
}


def process_with_fault(
    kind: str = "step",
    *,
    n_samples: int = 2_000,
    n_channels: int = 4,
    channels: Sequence[int | str] = (0,),
    at: int = 1_000,
    magnitude: float = 3.0,
    coupling: float = 0.6,
    autocorrelation: float = 0.8,
    interval_s: float = 1.0,
    start: str = "2024-01-01T00:00:00Z",
    seed: Seed = None,
) -> tuple[pd.DataFrame, npt.NDArray[np.int8], ProcessTruth]:
    """Correlated process channels (e.g. temperatures, pressures) with an injected fault.

    Each channel is ``coupling`` × a shared AR(1) factor plus its own AR(1) noise (lag-1
    correlation ``autocorrelation``), scaled to unit standard deviation over the pre-fault
    rows. From row ``at`` a step or a linear drift of ``magnitude`` (in those standard
    deviations) is added to ``channels`` (names ``ch0``, ``ch1``, ... or their indices).

    Returns
    -------
    samples : DataFrame
        Columns ``ch0`` ... (unit: pre-fault standard deviations); UTC DatetimeIndex every
        ``interval_s`` seconds from ``start``.
    labels : ndarray of int8, shape (n_samples,)
        1 from row ``at`` on, else 0.
    truth : ProcessTruth
    """
    shape = _pick(PROCESS_FAULTS, kind, "process fault")
    if n_channels < 1 or not 1 <= at < n_samples:
        raise InputError(f"need n_channels >= 1 and 1 <= at < n_samples, got {at}, {n_samples}")
    _positive(interval_s=interval_s)
    names = [f"ch{i}" for i in range(n_channels)]
    chosen = [names[c] if isinstance(c, int) and 0 <= c < n_channels else str(c) for c in channels]
    unknown = sorted(set(chosen) - set(names))
    if unknown or not chosen:
        raise InputError(f"channels must name some of {names}, got {list(channels)}")
    rng = np.random.default_rng(seed)
    ar = ([1.0], [1.0, -autocorrelation])  # AR(1) as an IIR filter: vectorized, no loop
    common = lfilter(*ar, rng.standard_normal(n_samples))
    own = lfilter(*ar, rng.standard_normal((n_samples, n_channels)), axis=0)
    values = coupling * common[:, np.newaxis] + own
    values = (values - values[:at].mean(axis=0)) / values[:at].std(axis=0)
    cols = [names.index(c) for c in chosen]
    values[at:, cols] += magnitude * shape(n_samples - at)[:, np.newaxis]
    index = pd.date_range(
        pd.Timestamp(start), periods=n_samples, freq=pd.Timedelta(interval_s, "s")
    )
    labels = np.zeros(n_samples, dtype=np.int8)
    labels[at:] = 1
    truth = ProcessTruth(kind, at, index[at], tuple(chosen), magnitude)
    return pd.DataFrame(values, index=index, columns=names), labels, truth
