"""What a diagnosis says: a verdict, its confidence and severity, and the evidence behind it.

The evidence is what a maintenance engineer can check on an envelope spectrum: the expected
defect frequency, the peaks found at its harmonics and sidebands, and how far they stand above
the local noise floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from shopfloor.core.labels import FaultLocation


class FaultClass(StrEnum):
    """Diagnosis classes. ``UNKNOWN`` means: cannot diagnose, with a reason."""

    NORMAL = "normal"
    INNER_RACE = "inner_race"
    OUTER_RACE = "outer_race"
    ROLLING_ELEMENT = "rolling_element"
    CAGE = "cage"
    UNKNOWN = "unknown"
    FAULT = "fault"
    """A change since the asset's healthy baseline that no defect line attributes (type unclear)."""

    @classmethod
    def from_location(cls, location: FaultLocation) -> FaultClass:
        """The class a labelled fault location belongs to (for training and scoring)."""
        mapping = {
            FaultLocation.NONE: cls.NORMAL,
            FaultLocation.INNER_RACE: cls.INNER_RACE,
            FaultLocation.OUTER_RACE: cls.OUTER_RACE,
            FaultLocation.ROLLING_ELEMENT: cls.ROLLING_ELEMENT,
            FaultLocation.CAGE: cls.CAGE,
        }
        return mapping.get(location, cls.UNKNOWN)


#: Envelope signature that points at each class.
SIGNATURE_OF = {
    FaultClass.OUTER_RACE: "bpfo",
    FaultClass.INNER_RACE: "bpfi",
    FaultClass.ROLLING_ELEMENT: "bsf2",
    FaultClass.CAGE: "ftf",
}
CLASS_OF_SIGNATURE = {v: k for k, v in SIGNATURE_OF.items()}

SIGNATURE_NAMES = {
    "bpfo": "BPFO (outer-race defect frequency)",
    "bpfi": "BPFI (inner-race defect frequency)",
    "bsf2": "2×BSF (rolling-element defect frequency)",
    "ftf": "FTF (cage frequency)",
    "shaft": "shaft speed",
}


@dataclass(frozen=True)
class Peak:
    """One expected line in the envelope spectrum and what was found there.

    expected_hz / found_hz in Hz; ``over_floor_db`` is the peak over the local median floor;
    ``significance`` is -log10 of the chance that noise alone gives such a peak; ``counted``
    is False for a harmonic another signature or a shaft harmonic could explain (the one rule
    of :func:`~shopfloor.manipulation.bearing_features.counted_harmonics`).
    """

    name: str
    expected_hz: float
    found_hz: float
    over_floor_db: float
    significance: float
    counted: bool = True


@dataclass(frozen=True)
class SignatureEvidence:
    """Evidence for one defect signature in one demodulation band."""

    signature: str
    band: str
    band_hz: tuple[float, float]
    fundamental_hz: float
    order: float
    harmonics: list[Peak]
    sidebands: list[Peak] = field(default_factory=list)

    @property
    def significance(self) -> float:
        """Sum of the harmonics' significance (a combined -log10 chance)."""
        return float(sum(p.significance for p in self.harmonics))

    @property
    def n_found(self) -> int:
        """Harmonics that stand out at the 1 % level."""
        return sum(p.significance >= 2.0 for p in self.harmonics)

    def describe(self) -> str:
        found = (
            ", ".join(
                f"{p.name} {p.found_hz:.1f} Hz +{p.over_floor_db:.0f} dB"
                for p in self.harmonics
                if p.significance >= 2.0
            )
            or "no harmonic above the noise"
        )
        return (
            f"{SIGNATURE_NAMES.get(self.signature, self.signature)} = {self.order:.2f}× "
            f"shaft = {self.fundamental_hz:.1f} Hz, band {self.band} "
            f"({self.band_hz[0]:.0f}–{self.band_hz[1]:.0f} Hz): {found}"
        )


@dataclass(frozen=True)
class Diagnosis:
    """The verdict for one window or recording.

    label: the class; UNKNOWN comes with ``reason``.
    confidence: 0–1 (a probability for learned diagnosers; evidence-based for rules).
    severity: 'none', 'early', 'developing' or 'advanced' (see the diagnoser for the scale).
    probabilities: class name -> probability, when the diagnoser gives them.
    """

    label: FaultClass
    confidence: float
    severity: str
    reason: str
    evidence: list[SignatureEvidence] = field(default_factory=list)
    probabilities: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        head = self.label.value.replace("_", " ")
        if self.label == FaultClass.UNKNOWN:
            return f"cannot diagnose: {self.reason}"
        return f"{head} (confidence {self.confidence:.0%}, severity {self.severity}): {self.reason}"
