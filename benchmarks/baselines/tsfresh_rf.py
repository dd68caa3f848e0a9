"""tsfresh ``EfficientFCParameters`` + random forest: the general-purpose reference.

Each window is one time series in tsfresh's long format (``id`` = window, ``time`` = sample
index, ``value`` = sample). tsfresh computes its "efficient" feature set (every calculator not
flagged as high computational cost: ~780 features per window, e.g. FFT coefficients,
autocorrelations, quantiles, entropies, CWT coefficients), single process (``n_jobs=0``). NaN and
infinite features are imputed column-wise with tsfresh's own rule (NaN -> median, +inf -> max,
-inf -> min; a feature without any finite training value -> 0), with the statistics taken from
the *training* rows only, then a ``RandomForestClassifier(n_estimators=300, n_jobs=1)`` is
fitted.

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

__all__ = ["extract_features", "fit_predict", "throughput"]

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
    from sklearn.ensemble import RandomForestClassifier
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
    forest = RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1)
    forest.fit(train.to_numpy(), np.asarray(train_y))
    pred: npt.NDArray[Any] = forest.predict(test.to_numpy())
    return pred


def throughput(windows: npt.ArrayLike) -> float:
    """Windows per second of :func:`extract_features` on ``windows`` (one process, one core).

    Time the batch you care about: tsfresh's cost grows with the window length.
    """
    arr = _as_windows(windows)
    start = time.perf_counter()
    extract_features(arr)
    return arr.shape[0] / (time.perf_counter() - start)
