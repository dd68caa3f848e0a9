"""Classification metrics as plain dicts, ready for JSON results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score


def classification_report(
    y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class recall and the confusion matrix (rows = truth).

    Predictions outside ``labels`` (e.g. "unknown") count as wrong; the confusion matrix gets an
    extra column for them so nothing is hidden.
    """
    t = np.asarray(y_true).astype(str)
    p = np.asarray(y_pred).astype(str)
    extra = sorted(set(p) - set(labels))
    cols = [*labels, *extra]
    cm = confusion_matrix(t, p, labels=cols)[: len(labels)]
    present = [lab for lab in labels if (t == lab).any()]
    return {
        "n": int(t.size),
        "accuracy": float(accuracy_score(t, p)),
        "macro_f1": float(f1_score(t, p, labels=present, average="macro", zero_division=0)),
        "recall": {
            lab: float(recall_score(t, p, labels=[lab], average="macro", zero_division=0))
            for lab in present
        },
        "confusion": {
            "rows_true": list(labels),
            "cols_pred": cols,
            "matrix": cm.astype(int).tolist(),
        },
    }
