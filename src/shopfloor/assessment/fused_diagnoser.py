"""Physics evidence and a learned model, fused, with healthy as the default answer.

Per row (a window's physics features, :func:`~shopfloor.manipulation.bearing_features`):

* the **learned model** (LightGBM, one thread, seeded) gives class probabilities, tempered by a
  temperature fitted on out-of-group predictions (a bearing never judges itself), so they are
  calibrated on bearings the model did not see;
* the **physics rule** (:class:`~shopfloor.assessment.physics_diagnoser.PhysicsRuleDiagnoser`)
  says whether a defect's harmonic series is strong on its own terms (significance after the
  look-elsewhere correction, at least two harmonics at the 1 % level).

Fusion, fixed in advance (not fitted):

1. physics strong for S, model agrees: the model's probabilities (``side = "agree"``);
2. physics strong for S, model prefers another class: **physics wins** (its series is checkable
   on the spectrum; a model trained on a few rigs is not), probabilities halfway between the
   model's and certainty on S (``side = "physics"``);
3. no strong series, model names fault F and F's own frequency has at least one harmonic at the
   1 % level after a look-elsewhere correction over the bands: the model's probabilities
   (``side = "model"``);
4. no strong series, model names fault F and nothing of F shows in the spectrum: healthy by
   default, probabilities halfway between the model's and certainty on normal
   (``side = "healthy-default"``): a fault is called only with some physical evidence for it.

The model is kept as LightGBM's text format, so it can ship inside the package
(:mod:`shopfloor.assessment.default_model`) and be read without unpickling.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.assessment.diagnoser import Diagnoser
from shopfloor.assessment.diagnosis import CLASS_OF_SIGNATURE, SIGNATURE_OF, FaultClass
from shopfloor.assessment.evidence import as_feature_frame, band_names, describe_row, strongest
from shopfloor.assessment.physics_diagnoser import (
    RACE_SIGNATURES,
    PhysicsRuleDiagnoser,
    severity_from_db,
)
from shopfloor.core.base import FloatArray, Interval
from shopfloor.core.errors import InputError

__all__ = ["SIDES", "FusedDiagnoser", "expected_calibration_error", "reliability_table"]

SIDES = ("agree", "physics", "model", "healthy-default", "model-normal")
#: Temperatures tried when calibrating (log grid from 1 = the model as trained). Calibration may
#: make the model less sure, never surer than trained: out-of-group predictions over a handful
#: of bearings are too few to justify sharpening, and a new rig is harder than the old ones.
_TEMPERATURES = np.exp(np.linspace(0.0, np.log(8.0), 31))
#: One harmonic at the 1 % level, after the look-elsewhere correction over the bands searched:
#: the least physical support a model-only fault call needs.
_WEAK_SUPPORT = 2.0


def _softmax_tempered(proba: FloatArray, temperature: float) -> FloatArray:
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out: FloatArray = np.exp(logits)
    out /= out.sum(axis=1, keepdims=True)
    return out


class FusedDiagnoser(Diagnoser):
    """Physics-first fusion of defect-frequency evidence with a calibrated LightGBM model.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, colsample_bytree: LightGBM's.
    calibrate: fit a temperature on out-of-group predictions when ``fit`` gets ``groups``.
    min_confidence: below this top-class probability the answer is ``unknown`` (0 disables).
    random_state: seed (training is single-threaded and deterministic for a seed).

    Attributes
    ----------
    classes_, booster_ (``lightgbm.Booster``), temperature_, oof_accuracy_ (None without
    groups).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "num_leaves": [Interval(int, 2, None, closed="left")],
        "min_child_samples": [Interval(int, 1, None, closed="left")],
        "colsample_bytree": [Interval(float, 0.0, 1.0, closed="right")],
        "calibrate": [bool],
        "min_confidence": [Interval(float, 0.0, 1.0, closed="both")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "input_kind": "table",
        "multivariate": True,
        "handles_missing": True,
        "needs_labels": True,
        "optional_dependency": "lightgbm",
    }

    version_: str  # set when loaded from a shipped record (default_model)

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 20,
        colsample_bytree: float = 0.8,
        calibrate: bool = True,
        min_confidence: float = 0.0,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.calibrate = calibrate
        self.min_confidence = min_confidence
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"n_estimators": 10, "min_child_samples": 2}]

    # --- fitting ----------------------------------------------------------------------------

    def fit(self, x: object, y: object = None, groups: object = None) -> Self:
        """Fit on feature rows ``x`` with labels ``y``.

        ``groups`` (one id per row, e.g. the physical bearing) enables calibration: the model is
        refitted leaving each group out, and the temperature that best explains those
        out-of-group predictions (lowest log loss) is kept.
        """
        self._groups = None if groups is None else np.asarray(groups)
        try:
            return super().fit(x, y)
        finally:
            del self._groups

    def _train(self, x: FloatArray, codes: npt.NDArray[Any], n_classes: int) -> Any:
        import lightgbm as lgb

        params = {
            "objective": "multiclass",
            "num_class": n_classes,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.colsample_bytree,
            "seed": self.random_state,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        data = lgb.Dataset(x, label=codes, free_raw_data=True)
        return lgb.train(params, data, num_boost_round=self.n_estimators)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        assert y is not None  # needs_labels: the base class has checked
        as_feature_frame(x[:1], getattr(self, "feature_names_in_", None))  # layout check
        classes, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
        if classes.size < 2:
            raise InputError(f"FusedDiagnoser needs at least two classes, got {classes.tolist()}")
        self.classes_ = classes
        self.booster_ = self._train(x, codes, classes.size)
        self.temperature_ = 1.0
        self.oof_accuracy_: float | None = None
        groups = self._groups
        if not self.calibrate or groups is None or np.unique(groups).size < 2:
            return
        if groups.shape[0] != x.shape[0]:
            raise InputError(f"groups has {groups.shape[0]} entries for {x.shape[0]} rows")
        oof = np.full((x.shape[0], classes.size), np.nan)
        for g in np.unique(groups):
            held = groups == g
            train_codes = codes[~held]
            if np.unique(train_codes).size < classes.size:
                continue  # a class seen only in this group: its out-of-group model cannot say it
            booster = self._train(x[~held], train_codes, classes.size)
            oof[held] = np.asarray(booster.predict(x[held]))
        ok = ~np.isnan(oof).any(axis=1)
        if not ok.any():
            return
        frame = self._frame(x[ok])
        losses = []
        for t in _TEMPERATURES:
            fused, _ = self._fuse(frame, _softmax_tempered(oof[ok], float(t)))
            losses.append(
                -np.mean(np.log(np.clip(fused[np.arange(ok.sum()), codes[ok]], 1e-12, 1)))
            )
        self.temperature_ = float(_TEMPERATURES[int(np.argmin(losses))])
        fused, _ = self._fuse(frame, _softmax_tempered(oof[ok], self.temperature_))
        self.oof_accuracy_ = float(np.mean(np.argmax(fused, axis=1) == codes[ok]))

    # --- prediction ---------------------------------------------------------------------------

    def _frame(self, x: FloatArray) -> pd.DataFrame:
        return as_feature_frame(x, getattr(self, "feature_names_in_", None))

    def model_proba(self, x: FloatArray) -> FloatArray:
        """The learned model's calibrated probabilities alone (columns ``classes_``)."""
        raw = np.asarray(self.booster_.predict(np.asarray(x, dtype=np.float64)))
        return _softmax_tempered(raw.reshape(x.shape[0], -1), self.temperature_)

    def _fuse(self, frame: pd.DataFrame, model: FloatArray) -> tuple[FloatArray, list[str]]:
        """Fused probabilities and the deciding side per row (rules in the module docstring).

        The side depends on the model only through its most probable class, which a
        temperature does not change, so calibration can reuse one decision per row.
        """
        classes = [str(c) for c in self.classes_]
        sig, _, detected = PhysicsRuleDiagnoser()._scores(frame)
        n = frame.shape[0]
        strong_sig = np.where(detected, sig, -np.inf)
        any_strong = detected.any(axis=1)
        winner = np.array([CLASS_OF_SIGNATURE[s].value for s in RACE_SIGNATURES])[
            np.argmax(strong_sig, axis=1)
        ]
        top = np.asarray(classes)[np.argmax(model, axis=1)]
        support = np.zeros(n)
        found = np.zeros(n)
        for j, name in enumerate(RACE_SIGNATURES):
            rows = top == CLASS_OF_SIGNATURE[name].value
            support[rows] = sig[rows, j]
            found[rows] = strongest(frame.iloc[np.flatnonzero(rows)], name)[1]
        # the best of several bands is large more often by chance: Bonferroni over the bands
        needed = _WEAK_SUPPORT + np.log10(max(1, len(band_names(list(frame.columns)))))
        supported = (support >= needed) & (found >= 1)
        normal = FaultClass.NORMAL.value
        side = np.where(
            any_strong,
            np.where(
                winner == top,
                "agree",
                np.where(np.isin(winner, classes), "physics", "model"),
            ),
            np.where(
                top == normal,
                "model-normal",
                np.where(supported | (normal not in classes), "model", "healthy-default"),
            ),
        )
        out = model.copy()
        target = np.full(n, -1)
        physics = side == "physics"
        target[physics] = [classes.index(w) for w in winner[physics]]
        if normal in classes:
            target[side == "healthy-default"] = classes.index(normal)
        moved = target >= 0
        out[moved] *= 0.5
        out[np.flatnonzero(moved), target[moved]] += 0.5
        return out, [str(v) for v in side]

    def _predict_proba(self, x: FloatArray) -> FloatArray:
        fused, _ = self._fuse(self._frame(x), self.model_proba(x))
        return fused

    def sides(self, x: object) -> list[str]:
        """Which side decided each row (see :data:`SIDES` and the module docstring)."""
        arr = self._validate_input(x, reset=False)
        return self._fuse(self._frame(arr), self.model_proba(arr))[1]

    def _explain(
        self, x: FloatArray, row: int, label: FaultClass, proba: FloatArray
    ) -> tuple[str, str]:
        frame = self._frame(x[[row]])
        model = self.model_proba(x[[row]])
        _, (side,) = self._fuse(frame, model)
        top = str(self.classes_[int(np.argmax(model[0]))])
        p_top = float(model[0].max())
        signature = SIGNATURE_OF.get(label)
        evidence = describe_row(frame, 0, signature) if signature in RACE_SIGNATURES else ""
        severity = "none"
        if signature in RACE_SIGNATURES:
            severity = severity_from_db(float(strongest(frame, signature)[2][0]))
        why = {
            "agree": f"physics and the learned model agree ({top} {p_top:.0%}): {evidence}",
            "physics": f"physics won over the learned model ({top} {p_top:.0%}): the "
            f"harmonic series is significant on its own: {evidence}",
            "model": f"the learned model decided ({top} {p_top:.0%}); physics shows only "
            f"weak support: {evidence}",
            "healthy-default": f"the learned model suggested {top} ({p_top:.0%}) but no line of "
            "its defect frequency stands out: healthy by default",
            "model-normal": "no defect series stands out and the learned model finds the "
            f"vibration normal ({p_top:.0%})",
        }[side]
        return why, severity


def reliability_table(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, n_bins: int = 10
) -> list[dict[str, float]]:
    """Reliability table: per confidence bin, count, mean confidence and accuracy.

    Bins are equal-width on [0, 1]; empty bins are left out.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = which == b
        if m.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(m.sum()),
                    "confidence": float(conf[m].mean()),
                    "accuracy": float(ok[m].mean()),
                }
            )
    return rows


def expected_calibration_error(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, n_bins: int = 10
) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the bins.

    >>> round(expected_calibration_error([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0]), 3)
    0.1
    """
    rows = reliability_table(confidence, correct, n_bins)
    total = sum(r["n"] for r in rows)
    return float(sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in rows) / max(total, 1))
