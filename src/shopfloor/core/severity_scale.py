"""One severity scale for every event, mapped from the vocabularies that raise them.

The scale is :class:`~shopfloor.core.events.Severity` (info < warning < alarm < critical), read
as what a maintenance planner does: nothing, plan an inspection, act at the next stop, act now.

* Diagnosis grades (envelope evidence, :mod:`shopfloor.assessment`): none, early, developing,
  advanced. An early defect is worth planning for; an advanced one is a stop.
* ISO 10816 / 20816 zones: A and B are acceptable for unrestricted operation; ISO names the
  B/C boundary the usual *alarm* level and the C/D boundary the *trip* level, so C is an alarm
  and D critical.
* Anomaly levels (detection): ``normal``, ``elevated`` (threshold crossed once), ``high``
  (crossed and persisting), ``extreme`` (far outside anything seen in training).
"""

from __future__ import annotations

from shopfloor.core.errors import InputError
from shopfloor.core.events import Severity

_RANK = {s: i for i, s in enumerate(Severity)}

DIAGNOSIS_GRADES = {
    "none": Severity.INFO,
    "early": Severity.WARNING,
    "developing": Severity.ALARM,
    "advanced": Severity.CRITICAL,
}
ISO_ZONES = {"A": Severity.INFO, "B": Severity.INFO, "C": Severity.ALARM, "D": Severity.CRITICAL}
ANOMALY_LEVELS = {
    "normal": Severity.INFO,
    "elevated": Severity.WARNING,
    "high": Severity.ALARM,
    "extreme": Severity.CRITICAL,
}


def _lookup(table: dict[str, Severity], value: str, what: str) -> Severity:
    try:
        return table[value]
    except KeyError:
        raise InputError(
            f"unknown {what} {value!r}; known: {', '.join(table)}", column=what
        ) from None


def from_diagnosis_grade(grade: str) -> Severity:
    """A diagnosis grade (none, early, developing, advanced) on the one scale.

    >>> from_diagnosis_grade("developing").value
    'alarm'
    """
    return _lookup(DIAGNOSIS_GRADES, grade, "diagnosis grade")


def from_iso_zone(zone: str) -> Severity:
    """An ISO 10816 / 20816 zone letter (A to D) on the one scale.

    >>> from_iso_zone("C").value
    'alarm'
    """
    return _lookup(ISO_ZONES, zone.upper(), "ISO zone")


def from_anomaly_level(level: str) -> Severity:
    """An anomaly level (normal, elevated, high, extreme) on the one scale.

    >>> from_anomaly_level("elevated").value
    'warning'
    """
    return _lookup(ANOMALY_LEVELS, level, "anomaly level")


def rank(severity: Severity) -> int:
    """0 for info up to 3 for critical, for sorting and 'at least' filters."""
    return _RANK[severity]


def worst(*severities: Severity) -> Severity:
    return max(severities, key=rank)
