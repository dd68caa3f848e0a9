"""The verdict against an asset's own healthy baseline.

With a baseline (a stated healthy period of the same asset and channel), the question a plant
engineer asks is what changed since then, not what the signal looks like in absolute terms:

* the vibration became more impulsive or louder beyond the baseline's own spread
  (:class:`~shopfloor.assessment.baseline_model.HealthyBaseline`, at a false-alarm rate fixed in
  advance), or
* a defect line grew by 6 dB or more and now stands out at the 1 % level
  (:func:`~shopfloor.assessment.baseline.compare_to_baseline`).

Either is a fault finding. Its type is the one the diagnosis without the baseline names when it
names a fault (the fused diagnosis already weighs every line against the learned model),
else ``fault`` ("type unclear": a change the diagnosis does not attribute; a line that grew
is named as the lead to check, not as the type, because the diagnosis already weighed it and
race lines grow on CWRU's ball faults too). Its confidence is that of the change (Laplace's rule
over the snapshots beyond the limit, or over the grown harmonics), but no more than that of the
evidence naming the type (the diagnosis's own confidence). No change
gives ``normal``, even where the diagnosis alone named a fault (its line was already there when
the asset was healthy), with the share of snapshots inside every limit as the confidence.

Without a baseline nothing here runs and the diagnosis is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopfloor.assessment.baseline import GROWTH_DB, compare_to_baseline, line_heights
from shopfloor.assessment.baseline_model import (
    LEVEL_INDICATORS,
    BaselineComparison,
    HealthyBaseline,
)
from shopfloor.assessment.diagnosis import (
    CLASS_OF_SIGNATURE,
    SIGNATURE_NAMES,
    SIGNATURE_OF,
    Diagnosis,
    FaultClass,
)
from shopfloor.assessment.recording_diagnosis import (
    ANALYSIS_RATE_HZ,
    RecordingDiagnosis,
    diagnose_signal,
    resample_to,
)
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_features import BearingFeatureConfig

__all__ = [
    "SNAPSHOT_S",
    "AssetBaseline",
    "apply_baseline",
    "learn_baseline",
    "snapshots",
]

FloatArray = NDArray[np.float64]

SNAPSHOT_S = 0.1
"""Snapshot length, s: above 600 rpm it holds at least 3 impacts of any race defect, and a
few seconds of healthy running give dozens of snapshots for the baseline's spread."""
SPEED_TOLERANCE = 0.02
"""Relative speed difference beyond which the baseline's operating point is flagged (the
features' own search tolerance around each harmonic, for slip and speed error)."""
ALARM_DB = 2 * GROWTH_DB
"""Level growth read as ``developing`` (4× the healthy amplitude, the usual alarm step)."""


def snapshots(signal: NDArray[Any], n: int) -> FloatArray:
    """Consecutive, non-overlapping snapshots of ``n`` samples (a shorter tail is dropped)."""
    x = np.asarray(signal, dtype=np.float64).ravel()
    if not np.isfinite(x).all():
        raise InputError("signal has NaN or infinite samples: fill or drop them first")
    count = x.size // n
    if count < 1:
        raise InputError(f"signal has {x.size} samples, shorter than one {n}-sample snapshot")
    return x[: count * n].reshape(count, n)


def _at_rate(signal: NDArray[Any], fs: float, rate: float | None) -> tuple[FloatArray, float]:
    x = np.asarray(signal, dtype=np.float64).ravel()
    if rate is not None and fs > rate * (1 + 1e-9):
        return resample_to(x, fs, float(rate))
    return x, float(fs)


@dataclass
class AssetBaseline:
    """What is kept of one asset channel's healthy period.

    model: the fitted :class:`HealthyBaseline` (indicator statistics of its snapshots).
    lines: height over the local floor (dB) of every defect harmonic in the healthy period's
        window-averaged envelope spectra, keyed ``signature|band|harmonic`` (empty without a
        bearing geometry).
    source: where the healthy period came from (recording id, file, asset and period).
    rpm: shaft speed in the healthy period (None when not known).
    """

    model: HealthyBaseline
    lines: dict[str, float] = field(default_factory=dict)
    source: str = ""
    rpm: float | None = None

    @property
    def fs_hz(self) -> float:
        return float(self.model.fs_hz)

    @property
    def snapshot_samples(self) -> int:
        return int(self.model.n_features_in_)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sample_rate_hz": self.fs_hz,
            "snapshot_samples": self.snapshot_samples,
            "snapshots": int(self.model.n_baseline_),
            "rpm": self.rpm,
            "lines": len(self.lines),
        }


def learn_baseline(
    signal: NDArray[Any],
    fs: float,
    *,
    source: str,
    rpm: float | None = None,
    geometry: BearingGeometry | None = None,
    window_s: float = 1.0,
    config: BearingFeatureConfig | None = None,
    analysis_rate_hz: float | None = ANALYSIS_RATE_HZ,
    alpha: float = 0.01,
    snapshot_s: float = SNAPSHOT_S,
) -> AssetBaseline:
    """Learn a baseline from a healthy signal of one channel.

    Parameters
    ----------
    signal, fs: the healthy samples and their rate (Hz); a faster signal is brought down to
        ``analysis_rate_hz`` first, as the diagnosis does, so both see the same bands.
    rpm, geometry: with both, the defect lines' heights are kept too (needs ``window_s`` s).
    alpha: false-alarm rate per healthy snapshot (see :class:`HealthyBaseline`).
    """
    x, rate = _at_rate(signal, fs, analysis_rate_hz)
    n = max(256, round(snapshot_s * rate))
    model = HealthyBaseline(fs_hz=rate, alpha=alpha).fit(snapshots(x, n))
    lines: dict[str, float] = {}
    if geometry is not None and rpm is not None and x.size >= round(window_s * rate):
        healthy = diagnose_signal(
            x, rate, rpm, geometry, window_s=window_s, config=config, analysis_rate_hz=None
        )
        lines = line_heights(healthy.evidence)
    return AssetBaseline(model, lines, source, rpm)


def apply_baseline(
    result: RecordingDiagnosis,
    signal: NDArray[Any],
    fs: float,
    baseline: AssetBaseline,
    baseline_id: str,
) -> BaselineComparison:
    """Decide ``result`` against ``baseline`` (modifies it) and return the comparison.

    ``signal``/``fs``: the samples ``result`` was computed from, at their own rate; they are
    brought to the rate the diagnosis analysed at, which must be the baseline's.
    """
    rate = float(result.data_checks.get("analysed_at_hz", fs))
    x, rate = _at_rate(signal, fs, rate)
    if not math.isclose(rate, baseline.fs_hz, rel_tol=1e-6):
        raise InputError(
            f"baseline {baseline_id} was learned at {baseline.fs_hz:g} Hz, but this signal is "
            f"analysed at {rate:g} Hz: take a baseline recorded at the same rate"
        )
    comparison = baseline.model.compare(snapshots(x, baseline.snapshot_samples))
    grown = compare_to_baseline(result.evidence, baseline.lines) if baseline.lines else []
    result.baseline_id = baseline_id
    result.grown_since_baseline = grown
    change = comparison.as_dict()
    change["source"] = baseline.source
    change["lines_compared"] = len(baseline.lines)
    before = result.diagnosis
    change["without_baseline"] = {
        "verdict": before.label.value,
        "confidence": round(before.confidence, 4),
        "decided_by": result.decided_by,
    }
    result.baseline_change = change
    result.diagnosis = _verdict(before, comparison, grown, baseline_id, result)
    if result.diagnosis.label != before.label:
        result.notes.append(
            f"without the baseline the verdict was {before.label.value.replace('_', ' ')} "
            f"({before.confidence:.0%}, decided by {result.decided_by})"
        )
    result.decided_by = "baseline"
    now_rpm = result.shaft_hz * 60.0
    if baseline.rpm and abs(now_rpm - baseline.rpm) > SPEED_TOLERANCE * baseline.rpm:
        result.warnings.append(
            f"the baseline ran at {baseline.rpm:.0f} rpm and this signal at {now_rpm:.0f} rpm "
            f"({abs(now_rpm / baseline.rpm - 1):.1%} apart): part of a change may come from "
            "the operating point; compare at the same speed and load where you can"
        )
    if grown:
        result.notes.append(
            f"since the healthy baseline {baseline_id}: "
            + "; ".join(c.describe() for c in grown[:3])
        )
    elif baseline.lines:
        result.notes.append(f"no defect line grew by 6 dB or more since {baseline_id}")
    return comparison


def _verdict(
    before: Diagnosis,
    comparison: BaselineComparison,
    grown: list[Any],
    baseline_id: str,
    result: RecordingDiagnosis,
) -> Diagnosis:
    faults = {
        FaultClass.INNER_RACE,
        FaultClass.OUTER_RACE,
        FaultClass.ROLLING_ELEMENT,
        FaultClass.CAGE,
    }
    if not comparison.is_change and not grown:
        reason = (
            f"no change since the healthy baseline {baseline_id}: {comparison.inside} of "
            f"{comparison.n_snapshots} snapshots inside every limit (false-alarm rate "
            f"{comparison.alpha:g} per snapshot; baseline {comparison.n_baseline} snapshots); "
            "no defect line grew by 6 dB"
        )
        if before.label in faults:
            reason += (
                f"; the {before.label.value.replace('_', ' ')} evidence was already there when "
                "the asset was healthy"
            )
        return Diagnosis(
            FaultClass.NORMAL,
            comparison.confidence(),
            "none",
            reason,
            before.evidence,
            before.probabilities,
        )
    parts = [c.describe() for c in comparison.changed]
    confidences = [comparison.confidence()] if comparison.is_change else []
    line_confidence = 0.0
    if grown:
        top = grown[0]
        same = [c for c in grown if c.signature == top.signature]
        harmonics = {c.harmonic for c in same}
        # Laplace's rule over the harmonics of the grown signature (3 searched)
        line_confidence = (len(harmonics) + 1) / (3 + 2)
        confidences.append(line_confidence)
        parts.insert(0, "; ".join(c.describe() for c in same[:2]))
    if before.label in faults:
        # the diagnosis already weighs every line against the learned model (its disagreements
        # settled out of group); a grown line alone is the "physics wins" rule that was right
        # least often there, so it never names the type on its own
        label = before.label
        how = f"the diagnosis names {label.value.replace('_', ' ')}"
    elif grown:
        # the diagnosis weighed these same lines against the learned model and named no fault,
        # so the grown line is a lead to check, not a type: on CWRU's ball faults race lines
        # grow too, and a grown cage line followed a load change
        label = FaultClass.FAULT
        lead = CLASS_OF_SIGNATURE[grown[0].signature].value.replace("_", " ")
        how = (
            f"type unclear: the {SIGNATURE_NAMES[grown[0].signature]} grew since the healthy "
            f"baseline, a lead to {lead} that the diagnosis did not confirm"
        )
    else:
        label = FaultClass.FAULT
        how = "no defect line says which part: type unclear"
    levels = [c for c in comparison.changed if c.name in LEVEL_INDICATORS]
    severity = "developing" if any(c.change_db >= ALARM_DB for c in levels) else "early"
    if label == before.label and before.severity not in ("none", "unknown"):
        severity = before.severity
    # how sure that something changed; the type can be no surer than the evidence naming it:
    # the diagnosis's own measured confidence
    changed = max(confidences)
    confidence = min(changed, before.confidence) if label == before.label else changed
    # the evidence shown is the grown line when it is the lead to check
    sig = grown[0].signature if grown and label == FaultClass.FAULT else SIGNATURE_OF.get(label)
    evidence = before.evidence
    if sig is not None and label != before.label:
        own = result.evidence_by_signature().get(sig)
        evidence = [own] if own is not None else []
    return Diagnosis(
        label,
        float(confidence),
        severity,
        f"changed since the healthy baseline {baseline_id} ({how}): " + "; ".join(parts),
        evidence,
        before.probabilities,
    )
