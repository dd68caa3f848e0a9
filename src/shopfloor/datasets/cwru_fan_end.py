"""CWRU Bearing Data Center, fan-end faults: a second bearing type (SKF 6203) on the same motor.

Thirteen original MATLAB v5 files, one per physical bearing (inner race, ball, outer race at
three clock positions, 0.007 / 0.014 / 0.021 in). The fault is in the **fan-end** bearing, so the
monitored channel is ``FE`` and the label's component is the fan-end bearing. Files are read with
the drive-end loader's :func:`~shopfloor.datasets.cwru.read_mat` (same layout, same quirks).

Quirks handled here:

* ``279.mat`` (IR 0.007 in, published as 1 hp) stores 1732 rpm, the 3 hp speed; the stored value
  is kept (it is what the file says) and flagged ``speed_in_doubt = 1`` in the settings, so
  a diagnosis can check it against the speed it estimates from the signal.
* ``313.mat`` and ``315.mat`` are at 0 hp, the only load CWRU published for them.
* The recordings belong to their own asset id (``cwru-motor-skf-fe``): the same rig as the
  drive-end dataset, kept separate so that preparing either dataset never rewrites the other's
  asset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from shopfloor.core.assets import Asset
from shopfloor.core.errors import InputError
from shopfloor.core.labels import FaultLabel, FaultLocation
from shopfloor.core.recording import (
    OperatingCondition,
    Recording,
    RecordingData,
    TimeBase,
    TimeBaseKind,
)
from shopfloor.datasets.cwru import FE_BEARING, NOMINAL_RPM, read_mat, skf_asset
from shopfloor.datasets.registry import DatasetSpec, Progress

ASSET_SKF_FE = "cwru-motor-skf-fe"
_INCH_MM = 25.4


@dataclass(frozen=True)
class FanEndFile:
    """One fan-end file: fault location, pit diameter (in), outer-race clock position, load."""

    number: int
    location: FaultLocation
    diameter_in: float
    load_hp: int
    clock_position: str | None = None

    @property
    def rel_path(self) -> str:
        return f"{self.number}.mat"


_IR, _B, _OR = FaultLocation.INNER_RACE, FaultLocation.ROLLING_ELEMENT, FaultLocation.OUTER_RACE
#: The 13 files, as CWRU's "12k Fan End Bearing Fault Data" page and SOURCE.md list them.
CATALOGUE: tuple[FanEndFile, ...] = (
    FanEndFile(279, _IR, 0.007, 1),
    FanEndFile(275, _IR, 0.014, 1),
    FanEndFile(271, _IR, 0.021, 1),
    FanEndFile(283, _B, 0.007, 1),
    FanEndFile(287, _B, 0.014, 1),
    FanEndFile(291, _B, 0.021, 1),
    FanEndFile(295, _OR, 0.007, 1, "6:00"),
    FanEndFile(299, _OR, 0.007, 1, "3:00"),
    FanEndFile(305, _OR, 0.007, 1, "12:00"),
    FanEndFile(309, _OR, 0.014, 1, "3:00"),
    FanEndFile(313, _OR, 0.014, 0, "6:00"),
    FanEndFile(316, _OR, 0.021, 1, "3:00"),
    FanEndFile(315, _OR, 0.021, 0, "6:00"),
)
#: Files whose stored speed disagrees with their published load (see the module docstring).
SPEED_IN_DOUBT = {279: "stored 1732 rpm is the 3 hp speed although the file is published as 1 hp"}


def fan_end_asset() -> Asset:
    """The SKF rig (same bearings and channels as the drive-end dataset) under its own id."""
    rig = skf_asset()
    return rig.model_copy(
        update={"id": ASSET_SKF_FE, "name": "CWRU bearing test rig (SKF bearings, fan-end faults)"}
    )


def load_file(root: Path, entry: FanEndFile, asset: Asset) -> RecordingData:
    """Translate one fan-end file into a recording of ``asset`` (samples in g)."""
    path = root / entry.rel_path
    if not path.is_file():
        raise InputError("file is missing", source=path)
    signals, rpm = read_mat(path)
    if "FE" not in signals:
        raise InputError("no fan-end signal (variable X<nnn>_FE_time)", source=path)
    nominal = NOMINAL_RPM[entry.load_hp]
    settings: dict[str, float] = {"nominal_shaft_speed_rpm": nominal}
    if entry.number in SPEED_IN_DOUBT:
        # settings hold numbers only: 1.0 flags the doubt, SPEED_IN_DOUBT says why
        settings["speed_in_doubt"] = 1.0
    channels = [c for c in ("DE", "FE", "BA") if c in signals]
    recording = Recording(
        id=f"cwru-fe-{entry.number}",
        asset_id=asset.id,
        channel_ids=channels,
        time_base=TimeBase(kind=TimeBaseKind.UNIFORM, sample_rate_hz=12_000.0),
        n_samples=len(signals["FE"]),
        condition=OperatingCondition(
            shaft_speed_rpm=rpm if rpm is not None else nominal,
            load=float(entry.load_hp),
            load_unit="hp",
            settings=settings,
        ),
        labels=[
            FaultLabel(
                location=entry.location,
                component_id=FE_BEARING,
                fault_type="EDM pit",
                size_mm=round(entry.diameter_in * _INCH_MM, 4),
                clock_position=entry.clock_position,
            )
        ],
        dataset=CwruFanEndDataset.name,
        source=entry.rel_path,
    )
    return RecordingData(recording, pd.DataFrame({c: signals[c] for c in channels}))


class CwruFanEndDataset(DatasetSpec):
    """CWRU 12 kHz fan-end bearing faults: 13 physical SKF 6203 bearings, one file each."""

    name: ClassVar[str] = "cwru_fan_end"
    title: ClassVar[str] = "Case Western Reserve University Bearing Data Center (fan-end faults)"
    origin: ClassVar[str] = "https://engineering.case.edu/bearingdatacenter"
    license: ClassVar[str] = (
        "No licence text known; published by CWRU for research use. Third-party research data: "
        "keep the attribution and cite the Bearing Data Center."
    )
    citation: ClassVar[str] = (
        "Case Western Reserve University Bearing Data Center, 12k Fan End Bearing Fault Data, "
        "https://engineering.case.edu/bearingdatacenter. See also W. A. Smith and R. B. Randall, "
        "MSSP 64-65 (2015) 100-131, doi:10.1016/j.ymssp.2015.04.021."
    )
    summary: ClassVar[str] = (
        "Vibration (DE/FE/BA accelerometers, g, 12 kHz, ~10 s) of the CWRU motor with EDM pits "
        "in the fan-end SKF 6203 bearing: inner race, ball, outer race at 3, 6 and 12 o'clock; "
        "0.007-0.021 in; 13 physical bearings."
    )

    def url_for(self, rel_path: str) -> str | None:
        """CWRU serves every file singly under its number."""
        return f"https://engineering.case.edu/sites/default/files/{rel_path}"

    def load(self, root: Path, progress: Progress | None = None) -> Iterator[Asset | RecordingData]:
        """Yield the asset, then one recording per file in :data:`CATALOGUE`."""
        asset = fan_end_asset()
        yield asset
        for i, entry in enumerate(CATALOGUE):
            yield load_file(root, entry, asset)
            if progress is not None:
                progress(i + 1, len(CATALOGUE), entry.rel_path)
