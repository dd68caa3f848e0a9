"""Conformal intervals for remaining life, calibrated on whole units.

Rows of one unit are strongly dependent, so calibration holds out whole units: a unit is
either in a model's training set or in its calibration set, never both (the contract kit
checks this through ``calibration_folds_``). Two schemes:

* ``n_folds = 1``: split conformal. A fraction of the units calibrates a model trained on the
  rest; that model is the final one.
* ``n_folds >= 2``: cross-conformal (Vovk 2015; CV+ of Barber et al. 2021). Units are split
  into folds; each fold's rows get out-of-fold predictions from a model trained on the other
  folds; the final model is trained on all units. Coverage is then approximately, not exactly,
  guaranteed; the benchmark reports the coverage it actually reaches.

Intervals adapt their width through a normalised score (Papadopoulos et al. 2008; Lei et al.
2018): the score is ``(y - yhat) / s(yhat)`` where ``s`` is the mean absolute out-of-fold error
as a function of the prediction itself, estimated in ten bins of predicted RUL and interpolated.
Near failure predictions are small and errors small, so intervals narrow as the unit wears out.
Scores are weighted so every calibration unit counts once, however long its history.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from shopfloor.core.base import FloatArray
from shopfloor.core.prognostics import RULPredictor, UnitSequences

__all__ = ["ConformalRULPredictor", "NormalisedScores", "grouped_folds", "weighted_quantile"]

_N_BINS = 10
_MIN_SCALE = 1e-6


def grouped_folds(
    units: FloatArray, n_folds: int, calibration_fraction: float, seed: int
) -> list[tuple[FloatArray, FloatArray]]:
    """(training units, calibration units) pairs; every unit calibrates exactly once when
    ``n_folds >= 2``, and a ``calibration_fraction`` of them when ``n_folds == 1``."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.unique(units))
    if ids.size < 2:
        raise ValueError(f"conformal calibration needs at least 2 units, got {ids.size}")
    if n_folds == 1:
        n_cal = min(max(round(calibration_fraction * ids.size), 1), ids.size - 1)
        return [(np.sort(ids[n_cal:]), np.sort(ids[:n_cal]))]
    parts = np.array_split(ids, min(n_folds, ids.size))
    return [
        (np.sort(np.concatenate(parts[:k] + parts[k + 1 :])), np.sort(part))
        for k, part in enumerate(parts)
    ]


def weighted_quantile(values: FloatArray, weights: FloatArray, level: float) -> float:
    """The smallest value whose cumulative weight share reaches ``level`` (0-1)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    cum /= cum[-1]
    k = int(np.searchsorted(cum, level, side="left"))
    return float(values[order][min(k, values.size - 1)])


@dataclass(frozen=True)
class NormalisedScores:
    """Calibrated normalised scores: quantiles of RUL given a point prediction.

    Attributes
    ----------
    knots, scale: the error scale ``s(yhat)`` at bin centres of the predicted RUL (cycles).
    scores: signed normalised scores ``(y - yhat) / s(yhat)`` of the calibration rows.
    weights: weight of each score (1 / rows of its unit).
    n_units: number of calibration units (for the finite-sample correction).
    """

    knots: FloatArray
    scale: FloatArray
    scores: FloatArray
    weights: FloatArray
    n_units: int

    @classmethod
    def calibrate(cls, y: FloatArray, pred: FloatArray, units: FloatArray) -> NormalisedScores:
        """From out-of-sample predictions ``pred`` of targets ``y`` on calibration rows."""
        err = np.abs(y - pred)
        edges = np.unique(np.quantile(pred, np.linspace(0, 1, _N_BINS + 1)))
        if edges.size < 2:
            knots, scale = np.array([float(pred[0])]), np.array([float(err.mean())])
        else:
            idx = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, edges.size - 2)
            knots_l, scale_l = [], []
            for b in range(edges.size - 1):
                mask = idx == b
                if mask.any():
                    knots_l.append(float(pred[mask].mean()))
                    scale_l.append(float(err[mask].mean()))
            knots, scale = np.array(knots_l), np.array(scale_l)
        floor = max(float(err.mean()) * 0.05, _MIN_SCALE)
        scale = np.maximum(scale, floor)
        s = np.interp(pred, knots, scale)
        _, inverse, counts = np.unique(units, return_inverse=True, return_counts=True)
        return cls(
            knots=knots,
            scale=scale,
            scores=(y - pred) / s,
            weights=1.0 / counts[inverse],
            n_units=int(counts.size),
        )

    def quantiles(self, pred: FloatArray, levels: FloatArray) -> FloatArray:
        """RUL quantiles per prediction, shape (n, n_levels), with the finite-sample
        correction of split conformal applied on the side of each tail."""
        s = np.interp(pred, self.knots, self.scale)
        n = self.n_units
        cols = []
        for q in np.sort(levels):
            adj = min(1.0, q * (1 + 1 / n)) if q >= 0.5 else max(0.0, 1 - (1 - q) * (1 + 1 / n))
            cols.append(pred + s * weighted_quantile(self.scores, self.weights, adj))
        out = np.column_stack(cols)
        back = np.argsort(np.argsort(levels, kind="stable"), kind="stable")
        return np.asarray(np.maximum.accumulate(out, axis=1)[:, back], dtype=np.float64)


class ConformalRULPredictor(RULPredictor):
    """A point regressor of (capped) RUL wrapped in unit-grouped conformal calibration.

    Hooks: ``_prepare(seq, rul)`` fits preprocessing on the training sequences;
    ``_design(seq)`` turns sequences into the model's input (rows aligned with ``seq``);
    ``_fit_model(design, rows, target, seed)`` trains on the given rows; ``_predict_model(model,
    design, rows)`` predicts them. Parameters every subclass must have: ``n_folds``,
    ``calibration_fraction``, ``rul_cap``, ``random_state``.
    """

    interval_method: ClassVar[str] = (
        "conformal on whole held-out units, normalised by the error scale at the predicted RUL"
    )
    # parameters every subclass stores (declared so mypy, with the typed component base, knows)
    n_folds: int
    calibration_fraction: float
    rul_cap: float | None
    random_state: Any

    @abstractmethod
    def _prepare(self, seq: UnitSequences, rul: FloatArray) -> None: ...

    @abstractmethod
    def _design(self, seq: UnitSequences) -> Any: ...

    @abstractmethod
    def _fit_model(self, design: Any, rows: np.ndarray, target: FloatArray, seed: int) -> Any: ...

    @abstractmethod
    def _predict_model(self, model: Any, design: Any, rows: np.ndarray) -> FloatArray: ...

    def _seed(self) -> int:
        rs = self.random_state
        return int(rs) if rs is not None else 0

    def _fit_sequences(self, seq: UnitSequences, rul: FloatArray) -> None:
        target = rul if self.rul_cap is None else np.minimum(rul, float(self.rul_cap))
        self._prepare(seq, rul)
        design = self._design(seq)
        folds = grouped_folds(seq.units, self.n_folds, self.calibration_fraction, self._seed())
        oof = np.full(target.size, np.nan)
        cal_rows_all = []
        models = []
        for k, (train_units, cal_units) in enumerate(folds):
            train_rows = np.flatnonzero(np.isin(seq.units, train_units))
            cal_rows = np.flatnonzero(np.isin(seq.units, cal_units))
            model = self._fit_model(design, train_rows, target[train_rows], self._seed() + k)
            oof[cal_rows] = self._predict_model(model, design, cal_rows)
            cal_rows_all.append(cal_rows)
            models.append(model)
        if self.n_folds == 1:
            self.model_ = models[0]
        else:
            every = np.arange(target.size)
            self.model_ = self._fit_model(design, every, target, self._seed() + len(folds))
        rows = np.concatenate(cal_rows_all)
        self.calibration_ = NormalisedScores.calibrate(target[rows], oof[rows], seq.units[rows])
        self.calibration_folds_ = [(tr.copy(), ca.copy()) for tr, ca in folds]

    def _predict_point(self, seq: UnitSequences) -> FloatArray:
        design = self._design(seq)
        return self._predict_model(self.model_, design, np.arange(seq.units.size))

    def _cap_notes(self, seq: UnitSequences) -> dict[float, tuple[str, ...]]:
        """Units whose estimate sits at the target cap: the model can only say "at least"."""
        if self.rul_cap is None:
            return {}
        point = self._predict_point(seq)[seq.last_rows]
        cap = float(self.rul_cap)
        # within 10 % of the cap the estimate means "healthy so far", not a count of steps
        return {
            float(u): (
                f"estimate near the {cap:g}-step cap of the learned target: read it as "
                f"'at least about {cap:g} steps'; the model cannot tell more",
            )
            for u, p in zip(seq.unit_ids, point, strict=True)
            if p >= 0.9 * cap
        }

    def _predict_quantiles(self, seq: UnitSequences, levels: FloatArray) -> FloatArray:
        point = np.maximum(self._predict_point(seq), 0.0)
        out: FloatArray = self.calibration_.quantiles(point, levels)
        return out
