"""The base of every diagnoser: ``diagnose()`` and the low-confidence rule live here, once.

A diagnoser is a :class:`~shopfloor.core.base.Classifier` over rows (feature tables, order
spectra) that can also explain itself. Subclasses implement the classifier hooks
(``_fit``, ``_predict_proba``) and :meth:`Diagnoser._explain`; they inherit

* ``predict``: the most probable class, or ``"unknown"`` when its probability is below the
  ``min_confidence`` parameter (every diagnoser declares it; 0 disables the rule);
* ``diagnose``: one :class:`~shopfloor.assessment.diagnosis.Diagnosis` per row, with the
  probabilities, the subclass's reason and severity, and the same low-confidence rule.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.assessment.diagnosis import Diagnosis, FaultClass
from shopfloor.core.base import Classifier, FloatArray, check_is_fitted

__all__ = ["Diagnoser"]


class Diagnoser(Classifier):
    """A classifier that names a fault class per row and says why.

    Subclasses must take a ``min_confidence`` parameter (0–1) and implement
    :meth:`_explain`; they may override :meth:`_unknown_reason`.
    """

    _tags: ClassVar[dict[str, Any]] = {"iso_block": "assessment", "abstain_label": "unknown"}

    min_confidence: float

    def _labels_from(self, proba: FloatArray) -> npt.NDArray[Any]:
        """The low-confidence rule: below ``min_confidence`` the answer is ``unknown``."""
        classes: npt.NDArray[Any] = np.asarray(self.classes_)
        best = classes[np.argmax(proba, axis=1)].astype(object)
        best[proba.max(axis=1) < float(self.min_confidence)] = FaultClass.UNKNOWN.value
        labels: npt.NDArray[Any] = best.astype(str)
        return labels

    def _predict(self, x: FloatArray) -> npt.NDArray[Any]:
        return self._labels_from(self._predict_proba(x))

    @abstractmethod
    def _explain(
        self, x: FloatArray, row: int, label: FaultClass, proba: FloatArray
    ) -> tuple[str, str]:
        """Reason (one sentence a person can check) and severity for row ``row`` of ``x``."""

    def _unknown_reason(self, x: FloatArray, row: int, proba: FloatArray) -> str:
        k = int(np.argmax(proba))
        return (
            f"no class is likely enough (best {self.classes_[k]} at {proba[k]:.0%}, "
            f"{float(self.min_confidence):.0%} needed)"
        )

    def diagnose(self, x: object) -> list[Diagnosis]:
        """A :class:`Diagnosis` per row: label, confidence, severity, reason, probabilities."""
        check_is_fitted(self, "diagnose")
        arr = self._validate_input(x, reset=False)
        proba = self._predict_proba(arr)
        labels = self._labels_from(proba)
        out = []
        for i in range(arr.shape[0]):
            probs = {str(c): float(p) for c, p in zip(self.classes_, proba[i], strict=True)}
            value = str(labels[i])
            label = (
                FaultClass(value) if value in FaultClass._value2member_map_ else FaultClass.UNKNOWN
            )
            confidence = float(proba[i].max())
            if label == FaultClass.UNKNOWN:
                if value in {str(c) for c in self.classes_}:
                    confidence = 0.0  # "cannot tell" was the answer, not a likely class
                reason, severity = self._unknown_reason(arr, i, proba[i]), "unknown"
            else:
                reason, severity = self._explain(arr, i, label, proba[i])
            out.append(Diagnosis(label, confidence, severity, reason, probabilities=probs))
        return out
