"""CWRU fan-end loader: real files against index.csv of the mirror, checksums, labels."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from shopfloor.core.labels import FaultLocation
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.datasets import get_dataset
from shopfloor.datasets.cwru import FE_BEARING
from shopfloor.datasets.cwru_fan_end import ASSET_SKF_FE, CATALOGUE
from shopfloor.datasets.prepare import PrepareReport, prepare

LOCATIONS = {
    "inner_race": FaultLocation.INNER_RACE,
    "ball": FaultLocation.ROLLING_ELEMENT,
    "outer_race": FaultLocation.OUTER_RACE,
}


def test_catalogue_and_checksums_agree() -> None:
    spec = get_dataset("cwru_fan_end")
    shipped = {f.path for f in spec.expected_files()}
    assert shipped == {e.rel_path for e in CATALOGUE}
    assert len(CATALOGUE) == 13


@pytest.fixture(scope="module")
def prepared(
    dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, PrepareReport, Path]]:
    folder = dataset_dir("cwru_fan_end")
    home = tmp_path_factory.mktemp("cwru-fe-store")
    settings = Settings(home=home, data=folder.parent, offline=True)
    with Store.open(home) as store:
        yield store, prepare("cwru_fan_end", store, settings), folder
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.realdata
def test_recordings_match_index(prepared: tuple[Store, PrepareReport, Path]) -> None:
    store, report, folder = prepared
    assert (report.n_assets, report.n_recordings) == (1, 13)
    index = pd.read_csv(folder / "index.csv")
    for row in index.itertuples():
        rec = store.recording(f"cwru-fe-{Path(str(row.file)).stem}")
        assert rec.asset_id == ASSET_SKF_FE
        assert rec.time_base.sample_rate_hz == 12_000.0
        assert rec.condition.shaft_speed_rpm == float(row.rpm_in_file)
        assert rec.condition.load == float(row.load_hp)
        assert 120_000 <= rec.n_samples <= 122_000
        fault = rec.fault()
        assert fault is not None
        assert fault.location == LOCATIONS[str(row.fault)]
        assert fault.component_id == FE_BEARING
        assert fault.size_mm == pytest.approx(float(row.fault_diameter_in) * 25.4)
        assert (fault.clock_position or "") == (
            "" if pd.isna(row.or_position) else str(row.or_position)
        )
    assert store.recording("cwru-fe-279").condition.settings["speed_in_doubt"] == 1.0


@pytest.mark.realdata
def test_fan_end_geometry(prepared: tuple[Store, PrepareReport, Path]) -> None:
    store, _, _ = prepared
    bearing = store.asset(ASSET_SKF_FE).component(FE_BEARING).bearing
    assert bearing is not None
    assert bearing.n_elements == 8
    # CWRU's published multiples of shaft speed (SOURCE.md)
    orders = bearing.defect_orders()
    assert orders["bpfi"] == pytest.approx(4.9469, abs=2e-4)
    assert orders["bpfo"] == pytest.approx(3.0530, abs=2e-4)
    assert 2 * orders["bsf"] == pytest.approx(3.9874, abs=2e-3)
