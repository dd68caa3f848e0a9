"""Diagnose against a healthy baseline: which defect lines grew since the machine was healthy.

Practitioners trend a bearing against its own healthy reference rather than against absolute
limits: a BPFO line that stood 4 dB over the floor when the machine was accepted and stands
16 dB over it now has grown, whatever its absolute height. Both diagnoses give the height of
every harmonic over its local floor (dimensionless, so a different speed, load or sensor gain
does not matter); lines are matched by signature, band and harmonic number.

A line *grew* when it rose by at least :data:`GROWTH_DB` (6 dB: its amplitude doubled, the
usual alarm step of trending practice) and now stands out at the 1 % level.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.assessment.diagnosis import SIGNATURE_NAMES, SignatureEvidence

__all__ = ["GROWTH_DB", "LineChange", "compare_to_baseline", "line_heights"]

GROWTH_DB = 6.0


@dataclass(frozen=True)
class LineChange:
    """One defect line, now and in the baseline (heights over the local floor, dB)."""

    signature: str
    band: str
    harmonic: str
    now_db: float
    baseline_db: float
    now_significance: float

    @property
    def growth_db(self) -> float:
        return self.now_db - self.baseline_db

    def describe(self) -> str:
        return (
            f"{SIGNATURE_NAMES.get(self.signature, self.signature)} {self.harmonic} in band "
            f"{self.band}: {self.baseline_db:+.1f} dB at baseline, {self.now_db:+.1f} dB now "
            f"({self.growth_db:+.1f} dB)"
        )


def line_heights(evidence: list[SignatureEvidence]) -> dict[str, float]:
    """Height over the local floor (dB) of every harmonic, keyed ``signature|band|harmonic``.

    This is all a stored baseline keeps of its spectra: enough to tell later which lines grew.
    """
    return {
        f"{e.signature}|{e.band}|{p.name.split(' ')[0]}": float(p.over_floor_db)
        for e in evidence
        for p in e.harmonics
    }


def compare_to_baseline(
    now: list[SignatureEvidence], baseline: list[SignatureEvidence] | dict[str, float]
) -> list[LineChange]:
    """Defect lines that grew since the baseline, largest growth first.

    ``baseline`` is the healthy reference's evidence, or its :func:`line_heights`.
    """
    heights = baseline if isinstance(baseline, dict) else line_heights(baseline)
    before = {tuple(k.split("|")): v for k, v in heights.items()}
    grown = []
    for e in now:
        for p in e.harmonics:
            key = (e.signature, e.band, p.name.split(" ")[0])
            if key not in before or p.significance < 2.0:
                continue
            change = LineChange(
                e.signature, e.band, key[2], p.over_floor_db, before[key], p.significance
            )
            if change.growth_db >= GROWTH_DB:
                grown.append(change)
    return sorted(grown, key=lambda c: -c.growth_db)
