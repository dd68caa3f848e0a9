"""tsfresh ``EfficientFCParameters`` + random forest: the general-purpose reference.

Each window is one time series in tsfresh's long format (``id`` = window, ``time`` = sample
index, ``value`` = sample). tsfresh computes its "efficient" feature set (every calculator not
flagged as high computational cost: ~780 features per window, e.g. FFT coefficients,
autocorrelations, quantiles, entropies, CWT coefficients), single process (``n_jobs=0``). NaN and
infinite features are imputed column-wise with tsfresh's own rule (NaN -> median, +inf -> max,
-inf -> min; a feature without any finite training value -> 0), with the statistics taken from
the *training* rows only, then a ``RandomForestClassifier(n_estimators=300, n_jobs=1)`` is
fitted.

**FRESH** (:func:`fit_predict_variants`, variant ``tsfresh_fresh_rf``): tsfresh's published
feature selection (Christ, Braun, Neuffer, Kempa-Liehr, "Time Series FeatuRe Extraction on
basis of Scalable Hypothesis tests (tsfresh -- A Python package)", Neurocomputing 307:72-77,
2018) between imputation and the forest: ``tsfresh.select_features`` with its defaults, i.e. one
Mann-Whitney U test per feature and class (one class against the rest), the Benjamini-Yekutieli
procedure at a false discovery rate of 5 % (``hypotheses_independent=False``), a feature kept
when it is relevant for at least one class. The selection is fitted on the *training* rows
only (``extract_relevant_features`` on all rows would let the test labels choose the
features); the test rows are reduced to the selected columns. Single process (``n_jobs=0``).

Cost: tsfresh is the slow part. On one core of the development machine it extracts about
4 windows of 2,048 samples per second (100 windows: ~24 s; 2,000 windows: ~8 min), so a
benchmark extracts once per window set and reuses the frame across folds (rows are in window
order, ``index`` 0..n-1).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "extract_features",
    "fit_predict",
    "fit_predict_variants",
    "fresh_select",
    "throughput",
]

#: Windows per tsfresh call: bounds the long-format frame (~2 M rows) and gives progress.
CHUNK = 1000


def _as_windows(windows: npt.ArrayLike) -> npt.NDArray[np.float64]:
    arr = np.asarray(windows, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise ValueError(f"windows must be a 2-D array (n_windows, n_samples), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("windows contain NaN or infinite samples")
    return arr


def extract_features(
    windows: npt.ArrayLike,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """tsfresh ``EfficientFCParameters`` features of each window, single process.

    Parameters
    ----------
    windows:
        Shape (n_windows, n_samples), any unit (e.g. acceleration in g).
    chunk:
        Windows per tsfresh call (memory bound; does not change the result).
    progress:
        Called as ``progress(done, total)`` after each chunk.

    Returns
    -------
    DataFrame
        One row per window, in window order (index 0..n_windows-1), one column per tsfresh
        feature (e.g. ``value__kurtosis``); may contain NaN or inf (see :func:`fit_predict`).
    """
    from threadpoolctl import threadpool_limits
    from tsfresh import extract_features as tsfresh_extract
    from tsfresh.feature_extraction import EfficientFCParameters

    arr = _as_windows(windows)
    n, length = arr.shape
    parameters = EfficientFCParameters()
    frames = []
    for start in range(0, n, chunk):
        block = arr[start : start + chunk]
        long = pd.DataFrame(
            {
                "id": np.repeat(np.arange(start, start + block.shape[0]), length),
                "time": np.tile(np.arange(length), block.shape[0]),
                "value": block.ravel(),
            }
        )
        # Some calculators warn on degenerate windows (e.g. constant segments); the NaN they
        # return is imputed later, so the warnings are noise here. Scoped to this call only.
        # One BLAS/OpenMP thread as well as one process: the throughput is per core.
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = tsfresh_extract(
                long,
                column_id="id",
                column_sort="time",
                column_value="value",
                default_fc_parameters=parameters,
                n_jobs=0,
                disable_progressbar=True,
            )
        frames.append(frame)
        if progress is not None:
            progress(start + block.shape[0], n)
    features = pd.concat(frames, axis=0).sort_index()
    features = features.reindex(columns=frames[0].columns)
    features.index = pd.RangeIndex(n)
    return features


def _impute(
    train_features: pd.DataFrame, test_features: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of both frames imputed with tsfresh's rule and the *training* statistics."""
    from tsfresh.utilities.dataframe_functions import (
        get_range_values_per_column,
        impute_dataframe_range,
    )

    if list(train_features.columns) != list(test_features.columns):
        raise ValueError("train and test features must have the same columns")
    train = train_features.astype(np.float64)  # a copy: tsfresh imputes in place
    test = test_features.astype(np.float64)
    # Statistics from the training rows only: imputing the test rows with their own medians
    # would let the test set shape its own inputs.
    with warnings.catch_warnings():
        # Features with no finite training value (e.g. query_similarity_count without a query)
        # become zeros, as documented above; and tsfresh calls astype(copy=False), which
        # pandas >= 3 deprecates. Neither notice is actionable here.
        warnings.filterwarnings("ignore", message="(?s).*did not have any finite values")
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        col_max, col_min, col_median = get_range_values_per_column(train)
        impute_dataframe_range(train, col_max, col_min, col_median)
        impute_dataframe_range(test, col_max, col_min, col_median)
    return train, test


def fresh_select(
    train_features: pd.DataFrame, train_y: npt.ArrayLike, *, fdr_level: float = 0.05
) -> list[str]:
    """Columns FRESH keeps, judged on the training rows only (imputed, finite features).

    ``fdr_level`` is the Benjamini-Yekutieli false discovery rate per class (a fraction,
    tsfresh's default 0.05).
    """
    from threadpoolctl import threadpool_limits
    from tsfresh import select_features

    y = pd.Series(np.asarray(train_y).astype(str), index=train_features.index)
    if y.size != train_features.shape[0]:
        raise ValueError(f"train_y must have one label per row ({train_features.shape[0]})")
    with warnings.catch_warnings(), threadpool_limits(1):
        # Constant features are reported and dropped by tsfresh; that is the method.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*constant.*")
        kept = select_features(
            train_features,
            y,
            ml_task="classification",
            fdr_level=fdr_level,
            hypotheses_independent=False,
            n_jobs=0,
        )
    return [str(c) for c in kept.columns]


def _forest_proba(
    train: pd.DataFrame, y: npt.NDArray[np.str_], test: pd.DataFrame, seed: int
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    from sklearn.ensemble import RandomForestClassifier

    classes = np.unique(y)
    if train.shape[1] == 0:
        # No feature passed the test: the only honest forecast is the training prior.
        prior = np.array([np.mean(y == c) for c in classes])
        return classes, np.tile(prior, (test.shape[0], 1))
    forest = RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1)
    forest.fit(train.to_numpy(), y)
    proba = np.asarray(forest.predict_proba(test.to_numpy()), dtype=np.float64)
    return np.asarray(forest.classes_).astype(str), proba


def fit_predict(
    train_features: pd.DataFrame,
    train_y: npt.ArrayLike,
    test_features: pd.DataFrame,
    *,
    seed: int = 0,
) -> npt.NDArray[Any]:
    """Impute with training statistics, fit a random forest, predict the test rows.

    Parameters
    ----------
    train_features, test_features:
        Rows of :func:`extract_features` (same columns).
    train_y:
        One label per training row (e.g. ``"inner_race"``).
    seed:
        ``random_state`` of the forest (bootstrap and feature sampling).

    Returns
    -------
    ndarray
        Predicted label per test row.
    """
    train, test = _impute(train_features, test_features)
    classes, proba = _forest_proba(train, np.asarray(train_y).astype(str), test, seed)
    pred: npt.NDArray[Any] = classes[np.argmax(proba, axis=1)]
    return pred


def fit_predict_variants(
    train_features: pd.DataFrame,
    train_y: npt.ArrayLike,
    test_features: pd.DataFrame,
    *,
    seed: int = 0,
    fdr_level: float = 0.05,
) -> tuple[npt.NDArray[np.str_], dict[str, npt.NDArray[np.float64]], list[str]]:
    """The forest on all features and on the FRESH-selected ones, side by side.

    Returns
    -------
    classes : ndarray of str
        Column order of the probabilities (sorted training labels).
    proba : dict
        ``{"tsfresh_rf": (n_test, n_classes), "tsfresh_fresh_rf": (n_test, n_classes)}``,
        forest class probabilities (fraction of trees).
    selected : list of str
        The columns FRESH kept (fitted on the training rows only).
    """
    y = np.asarray(train_y).astype(str)
    train, test = _impute(train_features, test_features)
    classes, every = _forest_proba(train, y, test, seed)
    selected = fresh_select(train, y, fdr_level=fdr_level)
    fresh_classes, fresh = _forest_proba(train[selected], y, test[selected], seed)
    if list(fresh_classes) != list(classes):
        raise AssertionError("both forests see the same training labels")
    return classes, {"tsfresh_rf": every, "tsfresh_fresh_rf": fresh}, selected


def throughput(windows: npt.ArrayLike) -> float:
    """Windows per second of :func:`extract_features` on ``windows`` (one process, one core).

    Time the batch you care about: tsfresh's cost grows with the window length.
    """
    arr = _as_windows(windows)
    start = time.perf_counter()
    extract_features(arr)
    return arr.shape[0] / (time.perf_counter() - start)
