"""Alerts a person can act on: severity, evidence, a suggested action, raised once.

The people who read these have been burned by false alarms, so an alert is *confirmed* before it
is raised: the same finding in ``confirm_windows`` consecutive windows (default 3; one window is
one second of vibration, and a real bearing defect does not come and go within seconds, while a
knock on the housing or a bad cable does). Once raised, the same finding on the same channel is
not raised again until it clears (``clear_windows`` consecutive windows without it) or gets
worse; repeats are folded by the store through the de-duplication key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopfloor.core.events import Severity
from shopfloor.core.severity_scale import from_diagnosis_grade, rank

#: What a planner should do, by finding. Written for a maintenance engineer, not a data
#: scientist: the check that confirms the finding and the action if it is confirmed.
SUGGESTED_ACTIONS: dict[str, str] = {
    "outer_race": "check the bearing's outer race: confirm BPFO on an envelope spectrum, check "
    "lubrication and fit in the housing; plan a bearing replacement",
    "inner_race": "check the bearing's inner race: confirm BPFI with shaft-rate sidebands; "
    "check shaft fit and lubrication; plan a bearing replacement",
    "rolling_element": "check the rolling elements: confirm 2×BSF with cage sidebands; check "
    "lubricant contamination; plan a bearing replacement",
    "cage": "check the cage: look for FTF modulation and lubrication starvation",
    "unknown": "impulsive vibration with no bearing frequency: check for looseness, a rub, or "
    "another component; verify speed and bearing data",
}
ACT_NOW = "stop at the next opportunity and replace the bearing"


@dataclass(frozen=True)
class Alert:
    """An alert ready for the sinks (log, webhook, store)."""

    asset_id: str
    channel_id: str
    finding: str
    severity: Severity
    summary: str
    suggested_action: str
    evidence: dict[str, Any]
    dedup_key: str
    window: int
    start_ns: int
    end_ns: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "channel_id": self.channel_id,
            "finding": self.finding,
            "severity": self.severity.value,
            "summary": self.summary,
            "suggested_action": self.suggested_action,
            "evidence": self.evidence,
            "dedup_key": self.dedup_key,
            "window": self.window,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "source": self.source,
        }


@dataclass
class AlertGate:
    """Confirmation and de-duplication of one channel's findings (state lives per channel).

    Parameters
    ----------
    confirm_windows: consecutive windows with the same finding before it is raised.
    clear_windows: consecutive windows without it before it may be raised again.
    """

    confirm_windows: int = 3
    clear_windows: int = 10
    _finding: str | None = None
    _streak: int = 0
    _quiet: int = 0
    _raised: dict[str, Severity] = field(default_factory=dict)

    def update(self, finding: str | None, grade: str) -> Severity | None:
        """Feed one window's finding (None: nothing found); returns the severity to raise."""
        if finding is None:
            self._finding, self._streak = None, 0
            self._quiet += 1
            if self._quiet >= self.clear_windows:
                self._raised.clear()
            return None
        self._quiet = 0
        self._streak = self._streak + 1 if finding == self._finding else 1
        self._finding = finding
        if self._streak < self.confirm_windows:
            return None
        severity = Severity.WARNING if finding == "unknown" else from_diagnosis_grade(grade)
        if rank(severity) < rank(Severity.WARNING):
            return None
        before = self._raised.get(finding)
        if before is not None and rank(severity) <= rank(before):
            return None
        self._raised[finding] = severity
        return severity


def suggested_action(finding: str, severity: Severity) -> str:
    """What a planner should do about a finding at a severity.

    >>> suggested_action("outer_race", Severity.CRITICAL)[:18]
    'stop at the next o'
    """
    if severity == Severity.CRITICAL and finding in ("outer_race", "inner_race", "rolling_element"):
        return f"{ACT_NOW}; {SUGGESTED_ACTIONS[finding]}"
    return SUGGESTED_ACTIONS.get(finding, "inspect the machine")
