"""SKAB's own T²+Q (PCA) rule, re-implemented from its description in waico/SKAB ``core/t2.py``
and ``notebooks/t2_with_q_SKAB.ipynb`` (read, not copied), to reproduce the leaderboard row
"T-squared+Q (PCA-based) 0.76 / 26.62 / 24.92".

What the reference does, step by step:

* drop columns constant in the training rows; standardise (``StandardScaler``, ddof 0);
* PCA keeping 85 % of the variance (``PCA(n_components=0.85)``), k components;
* T² = scores · inv(cov(scores)) · scores; Q = z (I − P Pᵀ) zᵀ;
* T² limit: ``k (n−1)(n+1) / (n (n−k)) · c`` with ``c`` the last point of
  ``linspace(0, 15, 10000)`` whose F(k, n−k) CDF is below ``p = 0.999``;
* Q limit (``q_limit="skab"``): eigenvalues of cov(z) from ``numpy.linalg.eig`` *in the order
  it returns them* (not sorted), ``s = Σ_{i ≥ k} w_i``, then ``θ_i = s^i`` — the power of the
  sum, where the textbook Jackson–Mudholkar form uses the sum of powers ``θ_i = Σ λ_j^i``
  (``q_limit="textbook"``, sorted eigenvalues) — and ``c`` the last grid point with normal CDF
  below ``p``;
* both statistics smoothed by a trailing rolling median of 5 rows (NaN for the first 4, which
  then never alarm); alarm where T² or Q exceeds its limit.
"""

from __future__ import annotations

from math import sqrt

import numpy as np
import pandas as pd
from scipy import stats


def _grid_quantile(cdf_below: np.ndarray, grid: np.ndarray) -> float:
    return float(grid[cdf_below][-1])


def t2q_alarms(
    train: pd.DataFrame, test: pd.DataFrame, q_limit: str = "skab", p_value: float = 0.999
) -> pd.Series:
    """0/1 alarms of the reference T²+Q rule on ``test``, fitted on ``train``."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    keep = train.columns[(train != train.iloc[0]).any()]
    x = train[keep].to_numpy(dtype=np.float64)
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    pca = PCA(n_components=0.85).fit(z)
    k = int(pca.n_components_)
    n, d = z.shape
    scores = pca.transform(z)
    inv_cov = np.linalg.inv(np.cov(scores.T))
    ev = pca.components_.T
    residual_map = np.eye(d) - ev @ ev.T
    grid = np.linspace(0, 15, 10000)
    c_t2 = _grid_quantile(stats.f.cdf(grid, k, n - k) < p_value, grid)
    t2_limit = k * (n - 1) * (n + 1) / (n * (n - k)) * c_t2
    c_q = _grid_quantile(stats.norm.cdf(grid) < p_value, grid)
    if q_limit == "skab":
        w = np.linalg.eig(np.cov(z.T))[0].real
        s = float(np.sum(w[k:]))
        theta = [s**i for i in (1, 2, 3)]
    elif q_limit == "textbook":
        w = np.sort(np.linalg.eigvalsh(np.cov(z.T)))[::-1]
        theta = [float(np.sum(w[k:] ** i)) for i in (1, 2, 3)]
    else:
        raise ValueError(f"q_limit must be 'skab' or 'textbook', got {q_limit!r}")
    h0 = 1 - 2 * theta[0] * theta[2] / (3 * theta[1] ** 2)
    q_lim = theta[0] * (
        1 + c_q * h0 * sqrt(2 * theta[1]) / theta[0] + theta[1] * h0 * (h0 - 1) / theta[0] ** 2
    ) ** (1 / h0)

    zt = scaler.transform(test[keep].to_numpy(dtype=np.float64))
    st = pca.transform(zt)
    t2 = pd.Series(np.einsum("ij,jk,ik->i", st, inv_cov, st), index=test.index)
    q = pd.Series(np.einsum("ij,jk,ik->i", zt, residual_map, zt), index=test.index)
    t2 = t2.rolling(5).median()
    q = q.rolling(5).median()
    alarm = ((t2 > t2_limit) | (q > q_lim)).astype(np.int64)
    return alarm
