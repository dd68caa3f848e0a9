"""Gradient boosting on window features, with unit-grouped conformal intervals.

The pipeline: operating regimes from the setting channels, per-regime standardisation of every
sensor, sensor selection by trendability, features of the last ``window`` time steps (and of
the whole history so far), LightGBM on the capped RUL, then conformal calibration on held-out
units (:mod:`shopfloor.prognostics.conformal`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from shopfloor.core.base import FloatArray, Interval
from shopfloor.core.prognostics import UnitSequences
from shopfloor.prognostics.conformal import ConformalRULPredictor
from shopfloor.prognostics.preprocessing import (
    fit_fleet_preprocessing,
    normalised_sensors,
    short_history_notes,
    window_features,
)

__all__ = ["GradientBoostedRUL"]

_SEQ: list[Any] = [list, tuple]


class GradientBoostedRUL(ConformalRULPredictor):
    """LightGBM remaining-life regressor on per-regime-normalised window features.

    Parameters
    ----------
    window:
        Time steps (cycles) summarised per prediction; 30 is the usual C-MAPSS window.
    rul_cap:
        Cap of the piecewise-linear target in time steps (125 cycles by the C-MAPSS
        convention; early life is treated as "healthy, RUL at least the cap"); None: linear.
    settings:
        Names of the operating-setting channels that define regimes; absent names are ignored,
        none present means one regime. Settings are not used as wear features.
    min_trend:
        Least trendability (|Spearman correlation| with the fraction of life elapsed, 0-1)
        for a sensor to be used; 0.3 is a "medium" correlation (Cohen 1988). If no sensor
        reaches it, all are used.
    n_estimators, learning_rate, num_leaves, min_child_samples:
        LightGBM settings (trees, shrinkage, leaves per tree, least rows per leaf).
    n_folds:
        1: split conformal with ``calibration_fraction`` of the units held out; >= 2:
        cross-conformal over that many unit folds, final model on all units.
    calibration_fraction:
        Share of units held out for calibration when ``n_folds == 1``.
    random_state:
        Seed of the unit folds, k-means and LightGBM's row and column sampling.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "window": [Interval(int, 1, None)],
        "rul_cap": [Interval(float, 0, None, closed="neither"), None],
        "settings": _SEQ,
        "min_trend": [Interval(float, 0, 1)],
        "n_estimators": [Interval(int, 1, None)],
        "learning_rate": [Interval(float, 0, 1, closed="right")],
        "num_leaves": [Interval(int, 2, None)],
        "min_child_samples": [Interval(int, 1, None)],
        "n_folds": [Interval(int, 1, None)],
        "calibration_fraction": [Interval(float, 0, 1, closed="neither")],
        "random_state": [Interval(int, 0, None), None],
    }
    _tags: ClassVar[dict[str, Any]] = {"optional_dependency": "lightgbm"}

    def __init__(
        self,
        window: int = 30,
        rul_cap: float | None = 125.0,
        settings: tuple[str, ...] = ("setting_1", "setting_2", "setting_3"),
        min_trend: float = 0.3,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        n_folds: int = 3,
        calibration_fraction: float = 0.2,
        random_state: int | None = None,
    ) -> None:
        self.window = window
        self.rul_cap = rul_cap
        self.settings = settings
        self.min_trend = min_trend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_folds = n_folds
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"window": 5, "n_estimators": 40, "n_folds": 3, "min_child_samples": 10}]

    def _prepare(self, seq: UnitSequences, rul: FloatArray) -> None:
        fit_fleet_preprocessing(self, seq)

    def _design(self, seq: UnitSequences) -> FloatArray:
        return window_features(seq, normalised_sensors(self, seq), self.window)

    def _fit_model(self, design: Any, rows: np.ndarray, target: FloatArray, seed: int) -> Any:
        import lightgbm as lgb

        model = lgb.LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            n_jobs=1,  # the benchmark machine is shared; timings are per core
            random_state=seed,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        return model.fit(design[rows], target)

    def _predict_model(self, model: Any, design: Any, rows: np.ndarray) -> FloatArray:
        return np.asarray(model.predict(design[rows]), dtype=np.float64)

    def _unit_notes(self, seq: UnitSequences) -> dict[float, tuple[str, ...]]:
        notes = short_history_notes(seq, self.window)
        for unit, extra in self._cap_notes(seq).items():
            notes[unit] = notes.get(unit, ()) + extra
        return notes
