"""Physics-informed features + gradient boosting (LightGBM).

The features are the defect-frequency evidence of :mod:`shopfloor.manipulation.bearing_features`,
in orders of shaft speed and dimensionless, so a model trained on one speed, load or sample rate
has a chance on another. The trees learn how to weigh the evidence; every prediction is
explained twice: by the physical evidence for the predicted fault (which a person can check on
the envelope spectrum) and by the features that pushed the model towards it (LightGBM's exact
tree SHAP contributions).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.assessment.diagnoser import Diagnoser
from shopfloor.assessment.diagnosis import SIGNATURE_OF, FaultClass
from shopfloor.assessment.evidence import as_feature_frame, describe_row, strongest
from shopfloor.assessment.physics_diagnoser import severity_from_db
from shopfloor.core.base import FloatArray, Interval

EVIDENCE_SUFFIXES = (".sig", ".n_found", ".db", ".h1_db")


def monotone_constraints(columns: list[str], label: str) -> list[int]:
    """LightGBM monotone constraints for the one-vs-rest model of class ``label``.

    +1 on the evidence columns (significance, harmonics found, dB) of the class's own defect
    signature, -1 on those of the other race signatures (for ``normal``: -1 on all of them),
    0 elsewhere.

    >>> monotone_constraints(["high.bpfo.sig", "high.bpfi.db", "time.rms"], "outer_race")
    [1, -1, 0]
    """
    own = SIGNATURE_OF.get(FaultClass(label)) if label in FaultClass._value2member_map_ else None
    races = ("bpfo", "bpfi", "bsf2")
    out = []
    for col in columns:
        parts = col.split(".")
        sig = parts[1] if len(parts) == 3 else None
        if sig not in races or not col.endswith(EVIDENCE_SUFFIXES):
            out.append(0)
        elif sig == own:
            out.append(1)
        else:
            out.append(-1)
    return out


class BoostedDiagnoser(Diagnoser):
    """LightGBM classifier over physics features, with an explicit ``unknown`` outcome.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, colsample_bytree: LightGBM's.
    min_confidence: below this top-class probability the answer is ``unknown`` (0 disables).
    random_state: seed; training runs on one thread and is deterministic for a given seed.
    physics_monotone: one model per class, with monotone constraints from physics (see
        :func:`monotone_constraints`) instead of one multiclass model.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "num_leaves": [Interval(int, 2, None, closed="left")],
        "min_child_samples": [Interval(int, 1, None, closed="left")],
        "colsample_bytree": [Interval(float, 0.0, 1.0, closed="right")],
        "min_confidence": [Interval(float, 0.0, 1.0, closed="both")],
        "random_state": [Interval(int, 0, None, closed="left")],
        "physics_monotone": [bool],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "assessment",
        "input_kind": "table",
        "multivariate": True,
        "handles_missing": True,
        "needs_labels": True,
    }

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 10,
        colsample_bytree: float = 0.8,
        min_confidence: float = 0.0,
        random_state: int = 0,
        physics_monotone: bool = False,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.min_confidence = min_confidence
        self.random_state = random_state
        self.physics_monotone = physics_monotone

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"n_estimators": 20}, {"n_estimators": 20, "physics_monotone": True}]

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        import lightgbm as lgb

        assert y is not None  # needs_labels: the base class has checked
        frame = as_feature_frame(x[:1], getattr(self, "feature_names_in_", None))  # layout check
        labels = np.asarray(y).astype(str)
        settings: dict[str, Any] = {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "colsample_bytree": self.colsample_bytree,
            "subsample": 1.0,
            "random_state": self.random_state,
            "n_jobs": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        self.classes_ = np.unique(labels)
        if not self.physics_monotone:
            model = lgb.LGBMClassifier(**settings)
            model.fit(x, labels)
            self.models_ = [model]
            return
        # One model per class, each constrained by physics: more evidence for the class's own
        # defect frequency never lowers its probability, more evidence for another defect never
        # raises it. Trees cannot then learn, from a few rigs, that a clear BPFO means a ball.
        self.models_ = []
        for cls in self.classes_:
            constraints = monotone_constraints(list(frame.columns), str(cls))
            model = lgb.LGBMClassifier(monotone_constraints=constraints, **settings)
            model.fit(x, (labels == cls).astype(int))
            self.models_.append(model)

    def _predict_proba(self, x: FloatArray) -> FloatArray:
        if not self.physics_monotone:
            proba: FloatArray = np.asarray(self.models_[0].predict_proba(x), dtype=np.float64)
            return proba
        ovr = np.column_stack([np.asarray(m.predict_proba(x))[:, 1] for m in self.models_])
        total = ovr.sum(axis=1, keepdims=True)
        shares: FloatArray = np.divide(
            ovr, total, out=np.full_like(ovr, 1.0 / ovr.shape[1]), where=total > 0
        )
        return shares

    def _contributions(self, x: FloatArray) -> FloatArray:
        """Exact tree SHAP per class: (n_rows, n_classes, n_features + 1), last = bias."""
        if not self.physics_monotone:
            flat = np.asarray(self.models_[0].predict(x, pred_contrib=True), dtype=np.float64)
            return flat.reshape(x.shape[0], self.classes_.size, x.shape[1] + 1)
        per_class = [
            np.asarray(m.predict(x, pred_contrib=True), dtype=np.float64) for m in self.models_
        ]
        stacked: FloatArray = np.stack(per_class, axis=1)
        return stacked

    def _explain(
        self, x: FloatArray, row: int, label: FaultClass, proba: FloatArray, top_features: int = 3
    ) -> tuple[str, str]:
        frame = as_feature_frame(x[[row]], getattr(self, "feature_names_in_", None))
        contrib = self._contributions(x[[row]])
        k = int(np.argmax(proba))
        top = np.argsort(contrib[0, k, :-1])[::-1][:top_features]
        why = ", ".join(f"{frame.columns[j]} (+{contrib[0, k, j]:.2f})" for j in top)
        signature = SIGNATURE_OF.get(label)
        if signature is None:
            return f"model reasons: {why}", "none"
        _, _, db, _ = strongest(frame, signature)
        return (
            f"{describe_row(frame, 0, signature)}; model reasons: {why}",
            severity_from_db(float(db[0])),
        )
