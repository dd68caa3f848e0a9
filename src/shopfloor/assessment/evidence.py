"""Reading defect evidence out of a physics feature table (see manipulation.bearing_features).

Shared by the diagnosers: the strongest band per signature, and the evidence records a person
can check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopfloor.assessment.diagnosis import SIGNATURE_NAMES
from shopfloor.manipulation.bearing_features import BearingFeatureConfig, feature_names


def as_feature_frame(x: np.ndarray, names: list[str] | None) -> pd.DataFrame:
    """A feature table with names: the fitted names, else the default feature layout."""
    columns = names if names is not None else feature_names(BearingFeatureConfig())
    if len(columns) != x.shape[1]:
        raise ValueError(f"expected {len(columns)} physics feature columns, got {x.shape[1]}")
    return pd.DataFrame(x, columns=columns)


def band_names(columns: list[str]) -> list[str]:
    """Demodulation bands present in a feature table, in column order."""
    seen: list[str] = []
    for col in columns:
        head = col.split(".", 1)[0]
        if col.endswith(".sig") and head not in seen:
            seen.append(head)
    return seen


def strongest(
    frame: pd.DataFrame, signature: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: combined significance, harmonics found, mean dB and index of the best band."""
    bands = band_names(list(frame.columns))
    sig = np.column_stack([frame[f"{b}.{signature}.sig"].to_numpy() for b in bands])
    found = np.column_stack([frame[f"{b}.{signature}.n_found"].to_numpy() for b in bands])
    db = np.column_stack([frame[f"{b}.{signature}.db"].to_numpy() for b in bands])
    filled = np.where(np.isnan(sig), -np.inf, sig)
    best = np.argmax(filled, axis=1)
    rows = np.arange(frame.shape[0])
    best_sig = np.where(np.isfinite(filled[rows, best]), filled[rows, best], 0.0)
    return best_sig, np.nan_to_num(found[rows, best]), np.nan_to_num(db[rows, best]), best


def describe_row(frame: pd.DataFrame, row: int, signature: str) -> str:
    """One line a maintenance engineer can check: which band, how many harmonics, how strong."""
    bands = band_names(list(frame.columns))
    sig, found, db, best = strongest(frame.iloc[[row]], signature)
    band = bands[int(best[0])]
    return (
        f"{SIGNATURE_NAMES[signature]}: {int(found[0])} of the searched harmonics stand out "
        f"in band '{band}', {db[0]:+.1f} dB over the local floor on average, combined "
        f"significance {sig[0]:.0f} (-log10 chance)"
    )
