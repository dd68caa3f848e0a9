"""Calibration measures: reliability tables and expected calibration error, optionally weighted.

Weighting by :func:`class_balanced_weights` gives the class-balanced figures (every true class
carries the same total weight), which do not depend on how often each class occurs in the test
set; the plain figures are on the test set's own class mix. :func:`count_sides` and
:func:`side_confidence` turn a fused diagnoser's out-of-group decisions into the confidence it
reports for each kind of decision, under a stated class prior.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shopfloor.core.base import FloatArray
from shopfloor.core.errors import InputError

__all__ = [
    "CLASS_PRIORS",
    "SIDES",
    "class_balanced_weights",
    "count_sides",
    "expected_calibration_error",
    "reliability_table",
    "side_confidence",
]


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


#: The kinds of decision a fused diagnoser takes (``FusedDiagnoser.sides``), each counted
#: and calibrated on its own.
SIDES = (
    "agree",
    "physics",
    "model-over-physics",
    "model",
    "model-impulsive",
    "model-sure",
    "healthy-default",
    "model-normal",
    "quiet-normal",
)
#: Priors over the true classes that side accuracies can be measured under (``class_prior``).
CLASS_PRIORS = ("uniform", "training")


def count_sides(
    sides: npt.ArrayLike, truth: npt.ArrayLike, right: npt.ArrayLike
) -> dict[str, dict[str, list[int]]]:
    """Out-of-group decisions per side and true class: ``{side: {class: [right, n]}}``."""
    side_of = np.asarray(sides).astype(str)
    true = np.asarray(truth).astype(str)
    ok = np.asarray(right, dtype=bool)
    if not side_of.shape == true.shape == ok.shape:
        raise InputError(
            f"sides, truth and right differ in length: {side_of.size}, {true.size}, {ok.size}"
        )
    unknown = sorted(set(side_of.tolist()) - set(SIDES))
    if unknown:
        raise InputError(f"unknown sides {unknown}; expected some of {SIDES}")
    labels = sorted(set(true.tolist()))
    return {
        s: {
            c: [
                int(np.sum((side_of == s) & (true == c) & ok)),
                int(np.sum((side_of == s) & (true == c))),
            ]
            for c in labels
        }
        for s in SIDES
    }


def side_confidence(
    counts: dict[str, dict[str, list[int]]], class_prior: str = "uniform"
) -> dict[str, float]:
    """P(the decided class is the true one | side) from :func:`count_sides`, under a prior.

    Bayes with the class prior made explicit (label shift, Saerens, Latinne and Decaestecker
    2002): ``sum_c pi_c P(side, right | c) / sum_c pi_c P(side | c)``. Each true class's rows
    are a multinomial over the cells (side, right or wrong); its rates are posterior means
    under a symmetric Dirichlet(1/2) prior, ``P(side, right | c) = (r + 1/2) / (N_c + S)`` and
    ``P(side | c) = (n + 1) / (N_c + S)`` (``S`` sides), so a class seen on few rows (CWRU's
    healthy bearings) is not read as certain either way. ``class_prior="uniform"``: every
    class present weighs the same (the plant's fault rate is unknown to us);
    ``"training"``: ``pi_c = N_c / N``, the corpus's own mix.

    A corpus of 10 healthy rows, all answered normal on side ``healthy-default`` (right),
    and 90 faulty ones, half of them answered normal there too (wrong):

    >>> counts = count_sides(["healthy-default"] * 55 + ["agree"] * 45,
    ...                      ["normal"] * 10 + ["outer_race"] * 90,
    ...                      [True] * 10 + [False] * 45 + [True] * 45)
    >>> round(side_confidence(counts)["healthy-default"], 3)  # counted plainly: 10/55 = 0.18
    0.534
    >>> round(side_confidence(counts, "training")["healthy-default"], 3)
    0.126
    """
    if class_prior not in CLASS_PRIORS:
        raise InputError(f"class_prior must be one of {CLASS_PRIORS}, got {class_prior!r}")
    labels = sorted({c for by_class in counts.values() for c in by_class})
    total = {c: sum(counts[s].get(c, [0, 0])[1] for s in counts) for c in labels}
    labels = [c for c in labels if total[c] > 0]
    if not labels:
        return {}
    n_all = sum(total[c] for c in labels)
    prior = {c: 1.0 / len(labels) if class_prior == "uniform" else total[c] / n_all for c in labels}
    n_sides = len(SIDES)
    out: dict[str, float] = {}
    for s in SIDES:
        num = den = 0.0
        for c in labels:
            right, n = counts.get(s, {}).get(c, [0, 0])
            num += prior[c] * (right + 0.5) / (total[c] + n_sides)
            den += prior[c] * (n + 1.0) / (total[c] + n_sides)
        out[s] = float(num / den)
    return out
