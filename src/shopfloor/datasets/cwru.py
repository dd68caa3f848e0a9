"""CWRU Bearing Data Center: seeded drive-end bearing faults on a 2 hp induction motor.

The mirror keeps CWRU's original MATLAB v5 files (``<number>.mat``). Each file holds one
recording of up to three accelerometers (drive end ``DE``, fan end ``FE``, base plate ``BA``)
and, usually, the shaft speed recorded by hand (``X<nnn>RPM``). What a file contains (fault
location, size, motor load, sample rate) is not stored in the file; it comes from the
publisher's download pages and is written down here in :data:`CATALOGUE`.

Quirks handled here and nowhere else:

* 3001-3008 name their variables after other numbers (``X056_DE_time`` in 3001.mat); the
  variable number is therefore ignored and only the suffix (``_DE_time``, ``RPM``) is read.
* 3001-3008 have no RPM variable: the shaft speed falls back to the nominal speed of the load.
* 3001-3008 were run on NTN bearings of unknown geometry, so they belong to a separate asset
  whose drive-end bearing has no geometry.
* 97.mat (normal baseline) is sampled at 48 kHz, the others at 12 kHz; the rate therefore lives
  in each recording's time base, not in the channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from shopfloor.core.assets import (
    Asset,
    AssetKind,
    BearingGeometry,
    Channel,
    Component,
    ComponentKind,
    Direction,
    Nameplate,
)
from shopfloor.core.errors import InputError
from shopfloor.core.labels import FaultLabel, FaultLocation
from shopfloor.core.recording import (
    OperatingCondition,
    Recording,
    RecordingData,
    TimeBase,
    TimeBaseKind,
)
from shopfloor.core.units import Quantity
from shopfloor.datasets.registry import DatasetSpec, Progress

ASSET_SKF = "cwru-motor-skf"
"""The rig with SKF 6205 (drive end) and SKF 6203 (fan end) bearings."""
ASSET_NTN = "cwru-motor-ntn"
"""The same rig fitted with an NTN drive-end bearing of unknown geometry (files 3001-3008)."""
DE_BEARING = "de_bearing"
FE_BEARING = "fe_bearing"

# Shaft speed in rpm at each motor load in hp, as CWRU lists it. The speed stored in a file was
# read by hand and differs from these by up to 9 rpm.
NOMINAL_RPM: dict[int, float] = {0: 1797.0, 1: 1772.0, 2: 1750.0, 3: 1730.0}

_INCH_MM = 25.4
_VARIABLE = re.compile(r"^X(\d+)(?:_(DE|FE|BA)_time|(RPM))$")


@dataclass(frozen=True)
class CwruFile:
    """One CWRU file as the publisher's table describes it.

    Attributes
    ----------
    number: CWRU file number; the file is ``<number>.mat``.
    location: seeded fault location (``NONE`` for the normal baseline).
    diameter_in: EDM pit diameter in inches (0 for the baseline).
    load_hp: motor load in hp (0-3).
    sample_rate_hz: sampling rate in Hz (not stored in the file).
    """

    number: int
    location: FaultLocation
    diameter_in: float
    load_hp: int
    sample_rate_hz: float

    @property
    def asset_id(self) -> str:
        return ASSET_NTN if self.number >= 3001 else ASSET_SKF

    @property
    def rel_path(self) -> str:
        return f"{self.number}.mat"


def _catalogue() -> tuple[CwruFile, ...]:
    # First file number of each group of four (loads 0, 1, 2, 3 hp), from the CWRU pages
    # "12k Drive End Bearing Fault Data"; OR faults here are all centred at 6:00.
    groups = (
        (105, FaultLocation.INNER_RACE, 0.007),
        (118, FaultLocation.ROLLING_ELEMENT, 0.007),
        (130, FaultLocation.OUTER_RACE, 0.007),
        (169, FaultLocation.INNER_RACE, 0.014),
        (185, FaultLocation.ROLLING_ELEMENT, 0.014),
        (197, FaultLocation.OUTER_RACE, 0.014),
        (209, FaultLocation.INNER_RACE, 0.021),
        (222, FaultLocation.ROLLING_ELEMENT, 0.021),
        (234, FaultLocation.OUTER_RACE, 0.021),
        (3001, FaultLocation.INNER_RACE, 0.028),
        (3005, FaultLocation.ROLLING_ELEMENT, 0.028),
    )
    files = [CwruFile(97, FaultLocation.NONE, 0.0, 0, 48_000.0)]
    for first, location, diameter in groups:
        files += [CwruFile(first + load, location, diameter, load, 12_000.0) for load in range(4)]
    return tuple(files)


CATALOGUE: tuple[CwruFile, ...] = _catalogue()
"""Every file of this dataset with its fault, load and sample rate (45 files)."""


def _channels(*, with_fe_ba: bool) -> list[Channel]:
    # CWRU does not state the unit of the accelerometer signals; g is the convention every
    # analysis of this data (including Smith & Randall 2015) uses, and the amplitudes fit it.
    # The sample rate differs between files, so it is left to each recording's time base.
    # "12 o'clock on the motor housing" is a radial sensor on top of the housing: vertical.
    de = Channel(
        id="DE",
        quantity=Quantity.ACCELERATION,
        unit="g",
        component_id=DE_BEARING,
        location="drive end, motor housing, 12 o'clock",
        direction=Direction.RADIAL_VERTICAL,
        description="drive-end accelerometer on a magnetic base",
    )
    if not with_fe_ba:
        return [de]
    fe = Channel(
        id="FE",
        quantity=Quantity.ACCELERATION,
        unit="g",
        component_id=FE_BEARING,
        location="fan end, motor housing, 12 o'clock",
        direction=Direction.RADIAL_VERTICAL,
        description="fan-end accelerometer on a magnetic base",
    )
    ba = Channel(
        id="BA",
        quantity=Quantity.ACCELERATION,
        unit="g",
        location="motor base plate",
        description="base-plate accelerometer (some tests only; mounting direction not stated)",
    )
    return [de, fe, ba]


def _nameplate() -> Nameplate:
    # Only what CWRU states; poles and supply frequency are not given, so they stay empty.
    return Nameplate.model_validate({"rated_power_kw": "2 hp", "manufacturer": "Reliance Electric"})


def skf_asset() -> Asset:
    """The test rig with its SKF 6205-2RS JEM (drive end) and 6203-2RS JEM (fan end) bearings."""
    # CWRU gives the geometry in inches; the model converts to mm.
    de = BearingGeometry.model_validate(
        {
            "designation": "SKF 6205-2RS JEM",
            "n_elements": 9,
            "element_diameter_mm": "0.3126 in",
            "pitch_diameter_mm": "1.537 in",
        }
    )
    fe = BearingGeometry.model_validate(
        {
            "designation": "SKF 6203-2RS JEM",
            "n_elements": 8,
            "element_diameter_mm": "0.2656 in",
            "pitch_diameter_mm": "1.122 in",
        }
    )
    return Asset(
        id=ASSET_SKF,
        name="CWRU bearing test rig (SKF bearings)",
        kind=AssetKind.INDUCTION_MOTOR,
        nameplate=_nameplate(),
        components=[
            Component(
                id=DE_BEARING, kind=ComponentKind.ROLLING_BEARING, location="drive end", bearing=de
            ),
            Component(
                id=FE_BEARING, kind=ComponentKind.ROLLING_BEARING, location="fan end", bearing=fe
            ),
        ],
        channels=_channels(with_fe_ba=True),
    )


def ntn_asset() -> Asset:
    """The rig as used for the 0.028 in faults: an NTN drive-end bearing, geometry unknown.

    CWRU calls the NTN bearings "equivalent" but gives no geometry; inventing one would put
    wrong defect frequencies into every analysis, so the bearing has none.
    """
    return Asset(
        id=ASSET_NTN,
        name="CWRU bearing test rig (NTN drive-end bearing)",
        kind=AssetKind.INDUCTION_MOTOR,
        nameplate=_nameplate(),
        components=[
            Component(
                id=DE_BEARING,
                kind=ComponentKind.ROLLING_BEARING,
                location="drive end (NTN bearing, geometry not published)",
            ),
        ],
        channels=_channels(with_fe_ba=False),
    )


def read_mat(path: Path) -> tuple[dict[str, np.ndarray], float | None]:
    """Read the accelerometer signals and the recorded shaft speed of one CWRU file.

    Parameters
    ----------
    path:
        A CWRU ``.mat`` file (MATLAB v5).

    Returns
    -------
    signals:
        ``{"DE": array, "FE": array, "BA": array}`` (those present), float64, in g.
    rpm:
        The ``X<nnn>RPM`` value in rpm, or None when the file has none.

    Raises
    ------
    InputError
        When the file cannot be read, has no accelerometer variable, variables of several
        recordings, channels of different lengths or non-finite values.
    """
    import scipy.io  # heavy import, needed only when a CWRU file is actually read

    try:
        contents = scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises many types (ValueError, MatReadError, ...)
        raise InputError(f"not a readable MATLAB file ({exc})", source=path) from exc
    signals: dict[str, np.ndarray] = {}
    rpm: float | None = None
    numbers: set[str] = set()
    for key, value in contents.items():
        match = _VARIABLE.match(key)
        if match is None:
            continue
        numbers.add(match.group(1))
        array = np.asarray(value)
        if match.group(3):
            value_ok = array.size == 1 and array.dtype.kind in "fiu"
            rpm = float(array.ravel()[0]) if value_ok else float("nan")
            if not rpm > 0 or not np.isfinite(rpm):
                raise InputError(
                    f"RPM must be one positive number, got {array!r}", source=path, column=key
                )
            continue
        if array.ndim != 2 or 1 not in array.shape or array.dtype.kind not in "fiu":
            raise InputError(
                f"expected a numeric column vector, got {array.dtype} {array.shape}",
                source=path,
                column=key,
            )
        signal = array.astype(np.float64).ravel()
        if not np.isfinite(signal).all():
            bad = int(np.flatnonzero(~np.isfinite(signal))[0])
            raise InputError(f"non-finite value at sample {bad}", source=path, column=key)
        signals[match.group(2)] = signal
    if len(numbers) > 1:
        # One file is one recording; two variable numbers would mean two recordings mixed.
        raise InputError(f"variables of several recordings: X{sorted(numbers)}", source=path)
    if "DE" not in signals:
        raise InputError("no drive-end signal (variable X<nnn>_DE_time)", source=path)
    lengths = {name: len(sig) for name, sig in signals.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"channels differ in length: {lengths}", source=path)
    return signals, rpm


def fault_label(entry: CwruFile) -> FaultLabel:
    """The ground truth of one file: an EDM pit of ``diameter_in`` in the drive-end bearing."""
    if entry.location == FaultLocation.NONE:
        # The baseline is healthy as a whole, not just in one bearing.
        return FaultLabel(location=FaultLocation.NONE)
    return FaultLabel(
        location=entry.location,
        component_id=DE_BEARING,
        fault_type="EDM pit",
        size_mm=round(entry.diameter_in * _INCH_MM, 4),
        clock_position="6:00" if entry.location == FaultLocation.OUTER_RACE else None,
    )


def load_file(root: Path, entry: CwruFile, asset: Asset) -> RecordingData:
    """Translate one CWRU file into a recording of ``asset`` (samples in g)."""
    path = root / entry.rel_path
    if not path.is_file():
        raise InputError("file is missing", source=path)
    signals, rpm = read_mat(path)
    declared = {ch.id for ch in asset.channels}
    undeclared = sorted(set(signals) - declared)
    if undeclared:
        raise InputError(f"channels {undeclared} not expected on asset {asset.id!r}", source=path)
    nominal = NOMINAL_RPM[entry.load_hp]
    recording = Recording(
        id=f"cwru-{entry.number}",
        asset_id=asset.id,
        channel_ids=[c for c in ("DE", "FE", "BA") if c in signals],
        time_base=TimeBase(kind=TimeBaseKind.UNIFORM, sample_rate_hz=entry.sample_rate_hz),
        n_samples=len(signals["DE"]),
        condition=OperatingCondition(
            shaft_speed_rpm=rpm if rpm is not None else nominal,
            load=float(entry.load_hp),
            load_unit="hp",
            settings={"nominal_shaft_speed_rpm": nominal},
        ),
        labels=[fault_label(entry)],
        dataset=CwruDataset.name,
        source=entry.rel_path,
    )
    samples = pd.DataFrame({c: signals[c] for c in recording.channel_ids})
    return RecordingData(recording, samples)


class CwruDataset(DatasetSpec):
    """CWRU seeded-fault bearing data: 12 kHz drive-end faults and the 48 kHz normal baseline.

    45 recordings: 36 SKF files (inner race, ball, outer race at 6:00; 0.007/0.014/0.021 in;
    0-3 hp), 8 NTN files (inner race and ball, 0.028 in) and the normal baseline 97.
    """

    name: ClassVar[str] = "cwru"
    title: ClassVar[str] = "Case Western Reserve University Bearing Data Center (drive-end faults)"
    origin: ClassVar[str] = "https://engineering.case.edu/bearingdatacenter"
    license: ClassVar[str] = (
        "No licence text known; published by CWRU for free public download. Third-party "
        "research data: keep the attribution and cite the Bearing Data Center."
    )
    citation: ClassVar[str] = (
        "Case Western Reserve University Bearing Data Center, bearing data files (seeded-fault "
        "tests), https://engineering.case.edu/bearingdatacenter. See also W. A. Smith and "
        "R. B. Randall, 'Rolling element bearing diagnostics using the Case Western Reserve "
        "University data: A benchmark study', MSSP 64-65 (2015) 100-131, "
        "doi:10.1016/j.ymssp.2015.04.021."
    )
    summary: ClassVar[str] = (
        "Vibration (DE/FE/BA accelerometers, g) of a 2 hp induction motor with EDM pits seeded "
        "in the drive-end bearing: inner race, ball, outer race at 6:00; 0.007-0.028 in; "
        "0-3 hp load; 12 kHz (normal baseline 48 kHz)."
    )

    def url_for(self, rel_path: str) -> str | None:
        """CWRU serves every file singly under its number."""
        if re.fullmatch(r"\d+\.mat", rel_path):
            return f"https://engineering.case.edu/sites/default/files/{rel_path}"
        return None

    def load(self, root: Path, progress: Progress | None = None) -> Iterator[Asset | RecordingData]:
        """Yield the two rig assets, then one recording per file in :data:`CATALOGUE`."""
        assets = {ASSET_SKF: skf_asset(), ASSET_NTN: ntn_asset()}
        yield from assets.values()
        for i, entry in enumerate(CATALOGUE):
            yield load_file(root, entry, assets[entry.asset_id])
            if progress is not None:
                progress(i + 1, len(CATALOGUE), entry.rel_path)
