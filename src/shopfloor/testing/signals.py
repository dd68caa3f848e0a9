"""Synthetic signals whose answer is known (re-exported from the acquisition block).

The generators moved to :mod:`shopfloor.acquisition.synthetic_signals` because the fleet
simulator and the demo ship with them, and shipped code must not depend on the test kit.
"""

from shopfloor.acquisition.synthetic_signals import (
    BEARING_DEFECTS,
    PROCESS_FAULTS,
    SHAFT_FAULTS,
    BearingTruth,
    DegradationTruth,
    ProcessTruth,
    ShaftTruth,
    bearing_signal,
    cwru_drive_end_bearing,
    degradation,
    process_with_fault,
    shaft_signal,
)

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
