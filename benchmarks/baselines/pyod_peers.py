"""PyOD detectors (Zhao et al., JMLR 2019) as peers, scored *causally*.

Each peer is fitted on the training rows of a file, then every test row is scored against the
training rows only. ECOD and COPOD re-estimate their empirical CDFs from the training rows
*plus the rows being scored* (``decision_function`` concatenates them), so a batch call over
the test part would let the anomaly shape its own reference; they are therefore called one row
at a time. IForest, LOF (``novelty=True``) and the AutoEncoder (evaluation mode) score rows
independently, so a batch call is the same as row by row; :func:`check_causal` verifies it.

Two threshold rules per peer: PyOD's own (``decision_function > threshold_``, i.e. the
``1 − contamination`` quantile of the training scores, contamination 0.1 as shipped), and the
shopfloor threshold + alarm logic applied to the peer's scores, so only the scorer differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

PEERS = ("IForest", "ECOD", "COPOD", "LOF", "AutoEncoder")
_ROW_BY_ROW = {"ECOD", "COPOD"}


def make(name: str, seed: int = 0) -> Any:
    """A PyOD detector with its shipped defaults (seeded where it has a seed)."""
    if name == "IForest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed, n_jobs=1)
    if name == "ECOD":
        from pyod.models.ecod import ECOD

        return ECOD()
    if name == "COPOD":
        from pyod.models.copod import COPOD

        return COPOD()
    if name == "LOF":
        from pyod.models.lof import LOF

        return LOF(novelty=True)
    if name == "AutoEncoder":
        import torch
        from pyod.models.auto_encoder import AutoEncoder

        torch.set_num_threads(1)
        torch.manual_seed(seed)
        return AutoEncoder(random_state=seed, verbose=0, device="cpu")
    raise ValueError(f"unknown PyOD peer {name!r}; known: {PEERS}")


def causal_scores(name: str, model: Any, test: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Scores of ``test`` rows, each against the training rows only."""
    if name in _ROW_BY_ROW:
        return np.array([float(model.decision_function(row[None, :])[0]) for row in test])
    return np.asarray(model.decision_function(test), dtype=np.float64)


def check_causal(name: str, model: Any, test: npt.NDArray[np.float64], n: int = 16) -> None:
    """Assert that the batch scores of a batch-scored peer equal row-by-row scores."""
    if name in _ROW_BY_ROW:
        return
    batch = np.asarray(model.decision_function(test[:n]), dtype=np.float64)
    rows = np.array([float(model.decision_function(r[None, :])[0]) for r in test[:n]])
    np.testing.assert_allclose(batch, rows, rtol=1e-5, atol=1e-8, err_msg=f"{name} not causal")


def fit(name: str, train: npt.NDArray[np.float64], seed: int = 0) -> Any:
    return make(name, seed).fit(train)


Scorer = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
