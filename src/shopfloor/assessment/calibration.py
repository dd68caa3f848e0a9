"""Calibration measures: reliability tables and expected calibration error, optionally weighted.

Weighting by :func:`class_balanced_weights` gives the class-balanced figures (every true class
carries the same total weight), which do not depend on how often each class occurs in the test
set; the plain figures are on the test set's own class mix.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shopfloor.core.base import FloatArray
from shopfloor.core.errors import InputError

__all__ = ["class_balanced_weights", "expected_calibration_error", "reliability_table"]


def class_balanced_weights(truth: npt.ArrayLike) -> FloatArray:
    """Row weights under which every true class carries the same total weight (summing to N).

    >>> class_balanced_weights(["normal", "inner_race", "inner_race", "inner_race"]).tolist()
    [2.0, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666]
    """
    true = np.asarray(truth).astype(str)
    if true.size == 0:
        return np.zeros(0)
    labels, codes, counts = np.unique(true, return_inverse=True, return_counts=True)
    out: FloatArray = true.size / (labels.size * counts[codes])
    return out


def reliability_table(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    n_bins: int = 10,
    weights: npt.ArrayLike | None = None,
) -> list[dict[str, float]]:
    """Reliability table: per confidence bin, count, mean confidence and accuracy.

    Bins are equal-width on [0, 1]; empty bins are left out. With ``weights`` (e.g.
    :func:`class_balanced_weights`) the means are weighted and ``weight`` gives each bin's
    total weight; ``n`` stays the plain count.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    w = np.ones(conf.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if not conf.shape == ok.shape == w.shape:
        raise InputError(
            f"confidence, correct and weights differ in length: {conf.size}, {ok.size}, {w.size}"
        )
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = which == b
        if m.any() and w[m].sum() > 0:
            row = {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "n": int(m.sum()),
                "confidence": float(np.average(conf[m], weights=w[m])),
                "accuracy": float(np.average(ok[m], weights=w[m])),
            }
            if weights is not None:
                row["weight"] = float(w[m].sum())
            rows.append(row)
    return rows


def expected_calibration_error(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    n_bins: int = 10,
    weights: npt.ArrayLike | None = None,
) -> float:
    """ECE: the count-weighted (or ``weights``-weighted) mean gap between confidence and
    accuracy over the bins.

    >>> round(expected_calibration_error([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0]), 3)
    0.1
    """
    rows = reliability_table(confidence, correct, n_bins, weights)
    key = "n" if weights is None else "weight"
    total = sum(r[key] for r in rows)
    gaps = sum(r[key] * abs(r["confidence"] - r["accuracy"]) for r in rows)
    return float(gaps / total) if total > 0 else 0.0
