"""NASA C-MAPSS turbofan degradation simulation (FD001-FD004).

Each training engine runs to failure; each test engine stops some cycles before failure and
``RUL_FD00k.txt`` gives the remaining cycles. Train and test engines are different engines, so
every trajectory becomes its own asset (``cmapss-FD001-train-001``) with one recording of one
row per operating cycle and a :class:`LifeLabel` in cycles.

Channel ids are the column names of the data (``setting_1..3``, ``s1..s21``); the physical
names and units (T24, P30, Nc ...) follow Table 2 of Saxena et al. (2008) as conventionally
mapped, and are given in each channel's description.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from shopfloor.core.assets import Asset, AssetKind, Channel
from shopfloor.core.errors import InputError
from shopfloor.core.labels import LifeLabel
from shopfloor.core.recording import Recording, RecordingData, TimeBase, TimeBaseKind
from shopfloor.core.units import Quantity
from shopfloor.datasets.registry import DatasetSpec, Progress

SUBSETS = ("FD001", "FD002", "FD003", "FD004")

# (id, quantity, unit, description) for columns 3-26; columns 1-2 are unit and cycle.
# Units as SOURCE.md gives them: °R -> degR, psia -> psi, lbm/s -> lb/s, pps/psi -> lb/s/psi.
# Where the source gives "-" the value is a ratio or has no documented unit: dimensionless.
_D, _T, _P, _N = (
    Quantity.DIMENSIONLESS,
    Quantity.TEMPERATURE,
    Quantity.PRESSURE,
    Quantity.ROTATIONAL_SPEED,
)
_COLUMNS: tuple[tuple[str, Quantity, str, str], ...] = (
    ("setting_1", Quantity.LENGTH, "kft", "operational setting 1: altitude"),
    ("setting_2", _D, "dimensionless", "operational setting 2: Mach number"),
    ("setting_3", _D, "dimensionless", "operational setting 3: throttle resolver angle (TRA)"),
    ("s1", _T, "degR", "T2: total temperature at fan inlet"),
    ("s2", _T, "degR", "T24: total temperature at LPC outlet"),
    ("s3", _T, "degR", "T30: total temperature at HPC outlet"),
    ("s4", _T, "degR", "T50: total temperature at LPT outlet"),
    ("s5", _P, "psi", "P2: pressure at fan inlet"),
    ("s6", _P, "psi", "P15: total pressure in bypass duct"),
    ("s7", _P, "psi", "P30: total pressure at HPC outlet"),
    ("s8", _N, "rpm", "Nf: physical fan speed"),
    ("s9", _N, "rpm", "Nc: physical core speed"),
    ("s10", _D, "dimensionless", "epr: engine pressure ratio (P50/P2)"),
    ("s11", _P, "psi", "Ps30: static pressure at HPC outlet"),
    ("s12", Quantity.MASS_FLOW_PER_PRESSURE, "lb/s/psi", "phi: ratio of fuel flow to Ps30"),
    ("s13", _N, "rpm", "NRf: corrected fan speed"),
    ("s14", _N, "rpm", "NRc: corrected core speed"),
    ("s15", _D, "dimensionless", "BPR: bypass ratio"),
    ("s16", _D, "dimensionless", "farB: burner fuel-air ratio"),
    ("s17", _D, "dimensionless", "htBleed: bleed enthalpy (no unit given)"),
    ("s18", _N, "rpm", "Nf_dmd: demanded fan speed"),
    # The source table says rpm, but the values are ~100, which reads like a percentage; the
    # unit is kept as published and the doubt is stated where users will see it.
    ("s19", _N, "rpm", "PCNfR_dmd: demanded corrected fan speed (values ~100: unit doubtful)"),
    ("s20", Quantity.MASS_FLOW, "lb/s", "W31: HPT coolant bleed"),
    ("s21", Quantity.MASS_FLOW, "lb/s", "W32: LPT coolant bleed"),
)
CHANNEL_IDS: tuple[str, ...] = tuple(c[0] for c in _COLUMNS)
"""The 24 channel ids, in file column order (3 settings, 21 sensors)."""
N_COLUMNS = 2 + len(_COLUMNS)


@cache
def channels() -> tuple[Channel, ...]:
    """The 24 channels every engine carries (built once: 1,416 assets share them)."""
    return tuple(
        Channel(id=cid, quantity=q, unit=unit, description=desc) for cid, q, unit, desc in _COLUMNS
    )


def _first_bad_field(path: Path, text: str, n_columns: int) -> InputError:
    """Locate the first malformed line of a whitespace-separated numeric table."""
    names = ["unit", "cycle", *CHANNEL_IDS] if n_columns == N_COLUMNS else None
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if len(fields) != n_columns:
            return InputError(
                f"expected {n_columns} fields, found {len(fields)}", source=path, line=line_no
            )
        for j, field in enumerate(fields):
            try:
                value = float(field)
            except ValueError:
                value = float("nan")
            if not np.isfinite(value):
                return InputError(
                    f"not a finite number: {field!r}",
                    source=path,
                    line=line_no,
                    column=names[j] if names else str(j + 1),
                )
    return InputError("cannot parse as a whitespace-separated numeric table", source=path)


def read_table(path: Path, n_columns: int) -> np.ndarray:
    """Read a C-MAPSS text file into a float64 array of shape (rows, ``n_columns``).

    Fields are separated by runs of whitespace (the files end every line with spaces). The fast
    path is pandas' C parser; on any problem the text is rescanned to name the bad line.

    Raises
    ------
    InputError
        Naming the file, line (1-based) and column of the first malformed field.
    """
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", source=path) from exc
    if not text.strip():
        raise InputError("file is empty", source=path)
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, dtype=np.float64)
    except (ValueError, pd.errors.ParserError):
        raise _first_bad_field(path, text, n_columns) from None
    values = frame.to_numpy(dtype=np.float64)
    if values.shape[1] != n_columns or not np.isfinite(values).all():
        raise _first_bad_field(path, text, n_columns)
    return values


def _split_engines(path: Path, table: np.ndarray) -> list[np.ndarray]:
    """Rows of each engine, checking ids 1..N in order and cycles 1..n without gaps."""
    units, cycles = table[:, 0], table[:, 1]
    if not (np.all(units == np.round(units)) and np.all(cycles == np.round(cycles))):
        bad = int(np.flatnonzero((units != np.round(units)) | (cycles != np.round(cycles)))[0])
        raise InputError("unit and cycle must be whole numbers", source=path, line=bad + 1)
    starts = np.flatnonzero(np.diff(units, prepend=units[0] - 1) != 0)
    engines = np.split(table, starts[1:])
    for k, (start, rows) in enumerate(zip(starts, engines, strict=True), start=1):
        if rows[0, 0] != k:
            raise InputError(
                f"expected engine {k}, found {rows[0, 0]:g} (engines must be numbered 1..N "
                "and sorted)",
                source=path,
                line=int(start) + 1,
                column="unit",
            )
        expected = np.arange(1, len(rows) + 1)
        if not np.array_equal(rows[:, 1], expected):
            bad = int(np.flatnonzero(rows[:, 1] != expected)[0])
            raise InputError(
                f"engine {k}: cycles must run 1, 2, ... without gaps",
                source=path,
                line=int(start) + bad + 1,
                column="cycle",
            )
    return engines


def engine_records(
    subset: str, split: str, table: np.ndarray, *, path: Path, rul: np.ndarray | None = None
) -> Iterator[Asset | RecordingData]:
    """One asset and its recording per engine of a parsed train or test table.

    Parameters
    ----------
    subset:
        ``"FD001"`` ... ``"FD004"``.
    split:
        ``"train"`` (run to failure) or ``"test"`` (truncated; needs ``rul``).
    table:
        Parsed file, shape (rows, 26), as :func:`read_table` returns it.
    path:
        The file the table came from, for error messages; its name is kept as the source.
    rul:
        Test only: true remaining useful life in cycles after each engine's last cycle, in
        engine order.
    """
    engines = _split_engines(path, table)
    if rul is not None and len(rul) != len(engines):
        raise InputError(f"{len(engines)} test engines but {len(rul)} RUL values", source=path)
    chans = list(channels())
    for k, rows in enumerate(engines, start=1):
        engine_id = f"cmapss-{subset}-{split}-{k:03d}"
        yield Asset(
            id=engine_id,
            name=f"C-MAPSS {subset} {split} engine {k}",
            kind=AssetKind.TURBOFAN,
            channels=chans,
        )
        last = float(rows[-1, 1])
        if rul is None:
            label = LifeLabel(
                unit="cycles",
                life=last,
                observed_until=last,
                failure_criterion="failure as simulated: last cycle of the run-to-failure record",
            )
        else:
            label = LifeLabel(
                unit="cycles",
                life=last + float(rul[k - 1]),
                observed_until=last,
                failure_criterion=(
                    "failure as simulated; the record stops before it, remaining cycles "
                    f"from RUL_{subset}.txt"
                ),
            )
        recording = Recording(
            id=engine_id,
            asset_id=engine_id,
            channel_ids=list(CHANNEL_IDS),
            time_base=TimeBase(kind=TimeBaseKind.CYCLES),
            n_samples=len(rows),
            labels=[label],
            dataset=CmapssDataset.name,
            source=path.name,
        )
        samples = pd.DataFrame(rows[:, 2:], columns=list(CHANNEL_IDS))
        samples.insert(0, "cycle", rows[:, 1].astype(np.int64))
        yield RecordingData(recording, samples)


def read_rul(path: Path) -> np.ndarray:
    """True RUL in cycles after the last cycle of each test engine (one line per engine)."""
    rul = read_table(path, 1)[:, 0]
    bad = np.flatnonzero((rul < 0) | (rul != np.round(rul)))
    if bad.size:
        raise InputError(
            "RUL must be a whole number of cycles >= 0", source=path, line=int(bad[0]) + 1
        )
    return rul


class CmapssDataset(DatasetSpec):
    """C-MAPSS FD001-FD004: 709 run-to-failure and 707 truncated turbofan trajectories."""

    name: ClassVar[str] = "cmapss"
    title: ClassVar[str] = "NASA C-MAPSS Turbofan Engine Degradation Simulation (FD001-FD004)"
    origin: ClassVar[str] = (
        "https://www.nasa.gov/intelligent-systems-division/discovery-and-systems-health/pcoe/"
        "pcoe-data-set-repository/"
    )
    license: ClassVar[str] = (
        "No license text accompanies the data: public NASA data (NASA Ames Prognostics Data "
        "Repository); cite the paper."
    )
    citation: ClassVar[str] = (
        "A. Saxena, K. Goebel, D. Simon, N. Eklund, 'Damage Propagation Modeling for Aircraft "
        "Engine Run-to-Failure Simulation', PHM08, Denver CO, 2008, "
        "doi:10.1109/PHM.2008.4711414."
    )
    summary: ClassVar[str] = (
        "Simulated turbofan run-to-failure trajectories: 3 operational settings and 21 sensors "
        "per flight cycle; 1 or 6 operating conditions, HPC and fan degradation; true RUL for "
        "the truncated test engines."
    )

    def url_for(self, rel_path: str) -> str | None:
        """None: NASA publishes one zip (CMAPSSData.zip), not the single files."""
        return None

    def load(self, root: Path, progress: Progress | None = None) -> Iterator[Asset | RecordingData]:
        """Yield each engine's asset followed by its recording, FD001 train first."""
        total, done = 3 * len(SUBSETS), 0

        def tick(name: str) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total, name)

        for subset in SUBSETS:
            for split in ("train", "test"):
                name = f"{split}_{subset}.txt"
                table = read_table(root / name, N_COLUMNS)
                tick(name)
                rul = None
                if split == "test":
                    rul = read_rul(root / f"RUL_{subset}.txt")
                    tick(f"RUL_{subset}.txt")
                yield from engine_records(subset, split, table, path=root / name, rul=rul)
