"""Prognostics pieces on the real C-MAPSS files (skipped with a reason without the mirror)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from shopfloor.core.prognostics import as_unit_sequences
from shopfloor.datasets.cmapss import CHANNEL_IDS, N_COLUMNS, read_table
from shopfloor.prognostics.preprocessing import RegimeNormalizer


def _frame(path: Path) -> pd.DataFrame:
    table = read_table(path, N_COLUMNS)
    frame = pd.DataFrame(table[:, 2:], columns=list(CHANNEL_IDS))
    frame.insert(0, "cycle", table[:, 1])
    frame.insert(0, "unit", table[:, 0])
    return frame


@pytest.mark.realdata
@pytest.mark.parametrize(("subset", "regimes"), [("FD001", 1), ("FD002", 6)])
def test_operating_regimes_found_in_cmapss(
    dataset_dir: Callable[[str], Path], subset: str, regimes: int
) -> None:
    # SOURCE.md: FD001 runs at one condition, FD002 at six (altitude, Mach, TRA clusters)
    seq = as_unit_sequences(_frame(dataset_dir("cmapss") / f"train_{subset}.txt"))
    settings = [seq.channels.index(c) for c in ("setting_1", "setting_2", "setting_3")]
    assert RegimeNormalizer(settings).fit(seq.values).n_regimes_ == regimes
