"""A physics rule diagnoser: defect-frequency evidence over the noise floor, no training data.

It works on a rig it has never seen, given only the bearing geometry, the shaft speed and the
sample rate (through the feature table of :func:`~shopfloor.manipulation.bearing_features`).

Rules, fixed in advance from signal statistics, not fitted to any dataset:

1. A signature (BPFO, BPFI, 2×BSF) is *detected* when at least ``min_harmonics`` of its
   harmonics stand out at the 1 % level and their combined significance (sum of -log10 chances
   that noise alone gives such peaks) reaches ``min_significance``, in some demodulation band.
2. Several detected: the most significant wins; the detected signatures share the fault
   probability in proportion to their significance.
3. How sure a detection is, is not the noise p-value (one in a million is reached by two modest
   harmonics, and the failure that matters is another defect or another machine part making
   the lines, not noise). The fault probability is Laplace's rule of succession over the
   checks the defect's physics predicts: each counted harmonic at the 1 % level, and for a
   modulated defect (BPFI by the shaft, 2×BSF by the cage) its sidebands at the same level:
   (passed + 1) / (checks + 2); the rest is ``normal``. Two of three harmonics give 0.6, every
   harmonic and the sidebands 0.83: never 100 %. ``normal`` likewise: the checks are "not
   impulsive" and, per race signature, "no line even at the weak level"; all quiet gives 5/6.
4. None detected: ``normal`` when the pre-whitened signal is not impulsive (kurtosis at most
   ``impulsive_kurtosis``; Gaussian noise gives 3), otherwise ``unknown`` with the reason
   "impulsive but no bearing defect frequency matched" (looseness, another component, wrong
   speed or geometry).

Severity is graded on the mean height of the matched harmonics over the floor: early below
10 dB, developing below 20 dB, advanced above. It is an envelope-evidence scale, not a defect
size: it says how clearly the defect shows, which grows as it develops.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.assessment.diagnoser import Diagnoser
from shopfloor.assessment.diagnosis import (
    CLASS_OF_SIGNATURE,
    SIGNATURE_OF,
    FaultClass,
)
from shopfloor.assessment.evidence import as_feature_frame, band_names, describe_row, strongest
from shopfloor.core.base import FloatArray, Interval
from shopfloor.manipulation.bearing_features import BearingFeatureConfig

RACE_SIGNATURES = ("bpfo", "bpfi", "bsf2")
#: Sidebands predicted by the defect's physics: an inner race turns through the load zone once
#: per revolution, a ball is carried round at the cage speed; an outer race does not move.
MODULATED = ("bpfi", "bsf2")
#: A sideband passes at the 1 % level over a Rayleigh floor with about 3 bins searched:
#: ratio^2 ln 2 >= ln(100 * 3), i.e. 20 log10(sqrt(ln 300 / ln 2)) = 9.2 dB.
SIDEBAND_DB = float(20.0 * np.log10(np.sqrt(np.log(300.0) / np.log(2.0))))
CLASSES = np.array(
    [
        FaultClass.NORMAL.value,
        FaultClass.INNER_RACE.value,
        FaultClass.OUTER_RACE.value,
        FaultClass.ROLLING_ELEMENT.value,
        FaultClass.UNKNOWN.value,
    ]
)


def severity_from_db(db: float) -> str:
    """Envelope-evidence severity grade from the mean harmonic height over the floor, dB."""
    if db < 10.0:
        return "early"
    if db < 20.0:
        return "developing"
    return "advanced"


class PhysicsRuleDiagnoser(Diagnoser):
    """Bearing fault location from defect-frequency evidence; no training data needed.

    Parameters
    ----------
    min_significance: combined -log10 chance over the harmonics for a detection (default 6:
        one in a million that noise alone explains the peaks).
    min_harmonics: harmonics that must stand out at the 1 % level.
    impulsive_kurtosis: kurtosis of the pre-whitened signal above which an undiagnosed window
        is reported as ``unknown`` rather than ``normal``.
    look_elsewhere: add log10 of the number of looks (bands × race signatures searched) to
        ``min_significance``: the best of several searches is more often large by chance
        (a Bonferroni bound), so more bands must not mean more false alarms.
    min_confidence: below this top-class share the answer is ``unknown`` (0 disables).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "min_significance": [Interval(float, 0.0, None, closed="neither")],
        "min_harmonics": [Interval(int, 1, None, closed="left")],
        "impulsive_kurtosis": [Interval(float, 0.0, None, closed="neither")],
        "look_elsewhere": [bool],
        "min_confidence": [Interval(float, 0.0, 1.0, closed="both")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "assessment",
        "input_kind": "table",
        "multivariate": True,
        "handles_missing": True,
        "stateless": True,
    }

    def __init__(
        self,
        min_significance: float = 6.0,
        min_harmonics: int = 2,
        impulsive_kurtosis: float = 4.0,
        look_elsewhere: bool = True,
        min_confidence: float = 0.0,
    ) -> None:
        self.min_significance = min_significance
        self.min_harmonics = min_harmonics
        self.impulsive_kurtosis = impulsive_kurtosis
        self.look_elsewhere = look_elsewhere
        self.min_confidence = min_confidence

    def significance_needed(self, n_bands: int) -> float:
        """Combined significance a detection needs when ``n_bands`` bands are searched."""
        extra = np.log10(n_bands * len(RACE_SIGNATURES)) if self.look_elsewhere else 0.0
        return float(self.min_significance + extra)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        # Nothing to learn; checking the layout now gives the error at fit, not at predict.
        as_feature_frame(x[:1], getattr(self, "feature_names_in_", None))
        self.classes_ = CLASSES.copy()

    def _scores(self, frame: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
        needed = self.significance_needed(len(band_names(list(frame.columns))))
        sig = np.empty((frame.shape[0], len(RACE_SIGNATURES)))
        db = np.empty_like(sig)
        detected = np.zeros_like(sig, dtype=bool)
        for j, name in enumerate(RACE_SIGNATURES):
            s, found, mean_db, _ = strongest(frame, name)
            sig[:, j], db[:, j] = s, mean_db
            detected[:, j] = (s >= needed) & (found >= self.min_harmonics)
        return sig, db, detected

    def _predict_proba(self, x: FloatArray) -> FloatArray:
        frame = as_feature_frame(x, getattr(self, "feature_names_in_", None))
        sig, _, detected = self._scores(frame)
        proba = np.zeros((x.shape[0], CLASSES.size))
        weights = np.where(detected, sig, 0.0)
        total = weights.sum(axis=1)
        column = {
            name: int(np.flatnonzero(CLASS_OF_SIGNATURE[name].value == CLASSES)[0])
            for name in RACE_SIGNATURES
        }
        for j, name in enumerate(RACE_SIGNATURES):
            proba[:, column[name]] = np.divide(
                weights[:, j], total, out=np.zeros_like(total), where=total > 0
            )
        impulsive = np.nan_to_num(frame["cpw_time.kurtosis"].to_numpy()) > self.impulsive_kurtosis
        none = total <= 0
        proba[none & impulsive, -1] = 1.0
        quiet = none & ~impulsive
        if quiet.any():
            proba[quiet, :] = self._normal_proba(sig[quiet], len(band_names(list(frame.columns))))
        # how sure: the rule of succession over the checks the strongest defect predicts
        some = ~none
        if some.any():
            sure = self.fault_probability(frame, np.argmax(np.where(detected, sig, -np.inf), 1))
            proba[some, :] *= sure[some, None]
            proba[some, 0] += 1.0 - sure[some]
        return proba

    def _normal_proba(self, sig: FloatArray, n_bands: int) -> FloatArray:
        """Probabilities for rows with no detection and no impulsiveness (rule of succession).

        Checks: not impulsive (passed, or the row would not be here) and, per race signature,
        no line even at the weak level (one harmonic at 1 % after Bonferroni over the bands).
        ``normal`` gets (passed + 1) / (checks + 2): 5/6 when all is quiet; the rest goes to
        the faults that showed a weak line, evenly (to all three when none did).
        """
        weak = sig >= 2.0 + np.log10(max(n_bands, 1))
        passed = 1.0 + (~weak).sum(axis=1)
        checks = 1.0 + len(RACE_SIGNATURES)
        p_normal = (passed + 1.0) / (checks + 2.0)
        share = np.where(weak.any(axis=1, keepdims=True), weak, True).astype(np.float64)
        share /= share.sum(axis=1, keepdims=True)
        out = np.zeros((sig.shape[0], CLASSES.size))
        out[:, 0] = p_normal
        for j, name in enumerate(RACE_SIGNATURES):
            col = int(np.flatnonzero(CLASS_OF_SIGNATURE[name].value == CLASSES)[0])
            out[:, col] = (1.0 - p_normal) * share[:, j]
        return out

    def fault_probability(self, frame: pd.DataFrame, which: npt.NDArray[Any]) -> FloatArray:
        """Per row, (checks passed + 1) / (checks + 2) for signature ``RACE_SIGNATURES[which]``.

        Checks: the harmonics searched (passing at the 1 % level, in the strongest band) and,
        for BPFI and 2×BSF, the pair of sidebands (their mean at least :data:`SIDEBAND_DB`).
        """
        bands = band_names(list(frame.columns))
        passed = np.zeros(frame.shape[0])
        checks = np.zeros(frame.shape[0])
        # the default layout's harmonics; a shared one never passes, so it only lowers the bound
        n_harmonics = BearingFeatureConfig().n_harmonics
        for j, name in enumerate(RACE_SIGNATURES):
            rows = np.asarray(which) == j
            if not rows.any():
                continue
            _, found, _, best = strongest(frame, name)
            passed[rows] = found[rows]
            checks[rows] = n_harmonics
            if name in MODULATED:
                sb = np.column_stack([frame[f"{b}.{name}.sb_db"].to_numpy() for b in bands])[
                    np.arange(frame.shape[0]), best
                ]
                passed[rows] += np.nan_to_num(sb[rows], nan=-np.inf) >= SIDEBAND_DB
                checks[rows] += 1
        out: FloatArray = (passed + 1.0) / (checks + 2.0)
        return out

    def _explain(
        self, x: FloatArray, row: int, label: FaultClass, proba: FloatArray
    ) -> tuple[str, str]:
        frame = as_feature_frame(x[[row]], getattr(self, "feature_names_in_", None))
        if label == FaultClass.NORMAL:
            kurt = float(frame["cpw_time.kurtosis"].iloc[0])
            return (
                "no bearing defect frequency stands out and the vibration is "
                f"not impulsive (kurtosis {kurt:.1f})",
                "none",
            )
        _, db, detected = self._scores(frame)
        name = SIGNATURE_OF[label]
        j = RACE_SIGNATURES.index(name)
        reason = describe_row(frame, 0, name)
        others = [RACE_SIGNATURES[k] for k in range(3) if detected[0, k] and k != j]
        if others:
            reason += f"; weaker evidence also for {', '.join(others)}"
        return reason, severity_from_db(db[0, j])

    def _unknown_reason(self, x: FloatArray, row: int, proba: FloatArray) -> str:
        frame = as_feature_frame(x[[row]], getattr(self, "feature_names_in_", None))
        kurt = float(frame["cpw_time.kurtosis"].iloc[0])
        return (
            f"impulsive vibration (kurtosis {kurt:.1f}) but no bearing "
            "defect frequency matched: check speed and geometry, or "
            "look for looseness or another component"
        )
