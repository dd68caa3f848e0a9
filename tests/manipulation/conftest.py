"""Real CWRU windows for the manipulation tests, read through the dataset registry.

Only the files a test names are read, and each is checked against the checksum list shipped
with shopfloor first (a changed or truncated file fails, never feeds a test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from shopfloor.core.assets import BearingGeometry
from shopfloor.datasets import cwru, cwru_fan_end, get_dataset
from shopfloor.datasets.registry import sha256_of


@dataclass(frozen=True)
class RealWindows:
    """Windows (n_windows, length) of one or more recordings, with their speeds and bearing."""

    windows: np.ndarray
    rpm: np.ndarray
    fs: float
    geometry: BearingGeometry
    recording_ids: tuple[str, ...]


def verified(dataset: str, folder: Path, rel_path: str) -> Path:
    expected = {f.path: f.sha256 for f in get_dataset(dataset).expected_files()}
    path = folder / rel_path
    actual = sha256_of(path)
    assert actual == expected[rel_path], f"{path}: sha256 {actual} != {expected[rel_path]}"
    return path


@pytest.fixture(scope="session")
def cwru_windows(
    dataset_dir: Callable[[str], Path],
) -> Callable[..., RealWindows]:
    """``cwru_windows([130, 105], length=2048, per_file=20, fan_end=False)``."""

    def get(
        numbers: list[int], *, length: int = 2048, per_file: int = 20, fan_end: bool = False
    ) -> RealWindows:
        name = "cwru_fan_end" if fan_end else "cwru"
        folder = dataset_dir(name)
        blocks, speeds, ids, rates = [], [], [], set()
        for number in numbers:
            if fan_end:
                entry_fe = next(e for e in cwru_fan_end.CATALOGUE if e.number == number)
                verified(name, folder, entry_fe.rel_path)
                data = cwru_fan_end.load_file(folder, entry_fe, cwru_fan_end.fan_end_asset())
                channel, component = "FE", cwru.FE_BEARING
            else:
                entry = next(e for e in cwru.CATALOGUE if e.number == number)
                verified(name, folder, entry.rel_path)
                data = cwru.load_file(folder, entry, cwru.skf_asset())
                channel, component = "DE", cwru.DE_BEARING
            x = data.samples[channel].to_numpy(dtype=np.float64)
            count = min(per_file, x.size // length)
            blocks.append(x[: count * length].reshape(count, length))
            assert data.recording.condition.shaft_speed_rpm is not None
            speeds.append(np.full(count, data.recording.condition.shaft_speed_rpm))
            ids.append(data.recording.id)
            assert data.recording.time_base.sample_rate_hz is not None
            rates.add(data.recording.time_base.sample_rate_hz)
        assert len(rates) == 1, f"mixed sample rates {rates}"
        asset = cwru.skf_asset()
        geometry = next(c.bearing for c in asset.components if c.id == component)
        assert geometry is not None
        return RealWindows(
            np.vstack(blocks), np.concatenate(speeds), rates.pop(), geometry, tuple(ids)
        )

    return get
