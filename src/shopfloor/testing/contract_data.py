"""Meaningful test inputs for components whose columns have a physical meaning.

The contract kit feeds generic random tables to most components. A diagnoser that reads named
physics features needs real ones; this module provides them, keyed by the component's class
path, from generated signals with known answers. It lives in ``testing`` because blocks may not
import the signal generators (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from shopfloor.manipulation.bearing_features import bearing_features
from shopfloor.testing.signals import bearing_signal, cwru_drive_end_bearing

ContractData = Callable[[int], tuple[npt.NDArray[np.float64], npt.NDArray[Any]]]


def physics_feature_rows(
    seed: int, per_class: int = 6
) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
    """Feature rows of generated outer-race, inner-race and healthy windows, with labels."""
    geometry = cwru_drive_end_bearing()
    rows, labels = [], []
    for k, (defect, label, amplitude) in enumerate(
        (("outer", "outer_race", 1.0), ("inner", "inner_race", 1.0), ("outer", "normal", 0.0))
    ):
        signal, _ = bearing_signal(
            defect,
            fs_hz=12_000.0,
            duration_s=per_class * 0.5,
            impulse_amplitude=amplitude,
            seed=seed * 10 + k,
        )
        windows = signal[: per_class * 6000].reshape(per_class, 6000)
        rows.append(bearing_features(windows, 12_000.0, 1797.0, geometry).to_numpy())
        labels += [label] * per_class
    return np.vstack(rows), np.array(labels)


#: class path -> data maker
CONTRACT_DATA: dict[str, ContractData] = {
    "shopfloor.assessment.physics_diagnoser.PhysicsRuleDiagnoser": physics_feature_rows,
    "shopfloor.assessment.boosted_diagnoser.BoostedDiagnoser": physics_feature_rows,
    "shopfloor.assessment.fused_diagnoser.FusedDiagnoser": physics_feature_rows,
}


def contract_data_for(cls: type) -> ContractData | None:
    """The data maker registered for ``cls``, or its own ``_contract_data``, or None."""
    from shopfloor.testing.prognostics import contract_data

    own: ContractData | None = getattr(cls, "_contract_data", None)
    return own or CONTRACT_DATA.get(f"{cls.__module__}.{cls.__qualname__}") or contract_data(cls)
