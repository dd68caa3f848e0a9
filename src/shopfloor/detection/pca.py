"""PCA process monitoring: Hotelling's T² in the model space and SPE/Q in the residual space.

The classical multivariate statistical process control scheme (Jackson & Mudholkar 1979;
MacGregor & Kourti 1995): channels are standardised with the mean and standard deviation of
normal operation (PCA on the correlation matrix, so volts and bar weigh alike), the leading
principal components that explain ``n_components`` of the variance span the model space, and
each time step gets

* ``T² = Σ t_a² / λ_a`` over the retained scores ``t = Pᵀ z`` (unusual *within* the normal
  correlation structure), and
* ``Q = ‖z − P t‖²``, the squared prediction error (a *break* of the correlation structure).

Each is divided by its control limit at significance ``alpha`` (T²: the F-distribution limit
for a new observation, ``k (n−1)(n+1) / (n (n−k)) F(k, n−k)``; Q: Jackson–Mudholkar with
``θ_i = Σ_{j>k} λ_j^i``), and the score is the larger ratio: below 1 is inside both limits at
``alpha``. The final alarm threshold is a separate, fitted object (:mod:`.thresholds`).

Streaming: ``learn_one`` updates the mean and scatter matrix recursively (Welford), or over a
moving window of the last ``window`` complete rows (adding the new row and removing the oldest),
and the eigendecomposition is refreshed lazily before the next score, so the live service adapts
without a refit. ``fit`` on the same rows gives the same model (checked by the contract kit).

Missing values (NaN, a channel that vanished) are *masked*: the standardised value is set to 0
(the channel's normal mean) so the channel neither raises nor hides an alarm of the others, and
rows with a masked channel are not learned. Channels never seen in training are ignored.
"""

from __future__ import annotations

import math
from collections import deque
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from shopfloor.core.base import (
    AnomalyScorer,
    FloatArray,
    Interval,
    StreamingMixin,
    check_is_fitted,
)
from shopfloor.core.constraints import Options

__all__ = ["PCAMonitor", "q_limit_jackson_mudholkar", "t2_limit"]

# Eigenvalues below this fraction of the largest are treated as this fraction: a perfectly
# collinear pair of channels must not make T² divide by zero.
_EIG_FLOOR = 1e-9


@lru_cache(maxsize=256)
def t2_limit(n_rows: int, n_components: int, alpha: float) -> float:
    """Upper control limit of T² for a *new* observation (Tracy, Young & Mason 1992).

    ``k (n−1)(n+1) / (n (n−k)) · F_{1−alpha}(k, n−k)``; with too few rows for the F form
    (``n ≤ k + 1``) the chi-square limit ``χ²_{1−alpha}(k)`` is used.
    """
    k, n = n_components, n_rows
    if n <= k + 1:
        return float(stats.chi2.ppf(1.0 - alpha, k))
    f = float(stats.f.ppf(1.0 - alpha, k, n - k))
    return k * (n - 1) * (n + 1) / (n * (n - k)) * f


@lru_cache(maxsize=64)
def _normal_quantile(p: float) -> float:
    # scipy's ppf costs ~50 µs; the live update calls this after every learned row
    return float(stats.norm.ppf(p))


def q_limit_jackson_mudholkar(residual_eigenvalues: FloatArray, alpha: float) -> float:
    """Jackson–Mudholkar (1979) limit of Q from the eigenvalues of the discarded components.

    ``θ_i = Σ λ_j^i``, ``h0 = 1 − 2θ₁θ₃ / (3θ₂²)``,
    ``Q = θ₁ [c h0 √(2θ₂) / θ₁ + 1 + θ₂ h0 (h0 − 1) / θ₁²]^{1/h0}``, ``c`` the standard normal
    ``1 − alpha`` quantile. Without residual variance the limit is a tiny positive number.
    """
    lam = np.clip(np.asarray(residual_eigenvalues, dtype=np.float64), 0.0, None)
    theta1, theta2, theta3 = (float(np.sum(lam**i)) for i in (1, 2, 3))
    if theta1 <= 0.0 or theta2 <= 0.0:
        return 1e-12
    h0 = 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)
    c = _normal_quantile(1.0 - alpha)
    if h0 <= 0.0:  # heavy-tailed residual spectrum: fall back to the weighted chi-square
        g, h = theta2 / theta1, theta1**2 / theta2
        return float(g * stats.chi2.ppf(1.0 - alpha, h))
    inner = c * h0 * np.sqrt(2.0 * theta2) / theta1 + 1.0 + theta2 * h0 * (h0 - 1.0) / theta1**2
    return float(theta1 * max(inner, 1e-12) ** (1.0 / h0))


class PCAMonitor(StreamingMixin, AnomalyScorer):
    """Hotelling T² + SPE/Q on PCA of standardised channels, batch and streaming.

    Parameters
    ----------
    n_components : float in (0, 1) or int >= 1, default 0.9
        Fraction of the variance the model space must explain, or a number of components.
    alpha : float in (0, 0.5), default 0.01
        Significance of the T² and Q control limits the statistics are divided by.
    window : int >= 2 or None, default None
        Learn from the last ``window`` complete rows only (moving window); None keeps
        every row (recursive update).
    q_limit : {"jackson_mudholkar", "chi2"}, default "jackson_mudholkar"
        How the Q limit is computed: the textbook Jackson–Mudholkar form, or Box's weighted
        chi-square ``g χ²(h)`` with ``g = θ₂/θ₁``, ``h = θ₁²/θ₂``.

    Attributes
    ----------
    channels_ : list of str
        Channel ids in model order.
    mean_, scale_ : ndarray
        Mean and standard deviation of each channel in normal operation (channel units).
    components_ : ndarray (n_channels, k)
        Retained loadings; ``eigenvalues_`` all eigenvalues of the correlation matrix.
    t2_limit_, q_limit_ : float
        Control limits the two statistics are divided by.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_components": [
            Interval(float, 0.0, 1.0, closed="neither"),
            Interval(int, 1, None, closed="left"),
        ],
        "alpha": [Interval(float, 0.0, 0.5, closed="neither")],
        "window": [Interval(int, 2, None, closed="left"), None],
        "q_limit": [Options(str, {"jackson_mudholkar", "chi2"})],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "multivariate": True,
        "handles_missing": True,
        "fixed_input_width": True,
    }

    def __init__(
        self,
        n_components: float | int = 0.9,
        alpha: float = 0.01,
        window: int | None = None,
        q_limit: str = "jackson_mudholkar",
    ) -> None:
        self.n_components = n_components
        self.alpha = alpha
        self.window = window
        self.q_limit = q_limit

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{}, {"n_components": 2, "window": 40, "q_limit": "chi2"}]

    # --- learning ----------------------------------------------------------------------

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        self.channels_: list[str] = self._channel_names(x.shape[1])
        complete = x[~np.isnan(x).any(axis=1)]
        if self.window is not None:
            complete = complete[-self.window :]
        self._reset_state(self.channels_)
        for row in complete:
            self._add_row(row)
        self._refresh()

    def _reset_state(self, channels: list[str]) -> None:
        self.channels_ = channels
        d = len(channels)
        self.n_rows_: int = 0
        self._sum_mean = np.zeros(d)
        self._scatter = np.zeros((d, d))
        self._rows: deque[FloatArray] = deque()
        self._dirty = True

    def _add_row(self, row: FloatArray) -> None:
        # Welford's update of mean and scatter matrix: exact, and stable for long runs.
        self.n_rows_ += 1
        delta = row - self._sum_mean
        self._sum_mean = self._sum_mean + delta / self.n_rows_
        self._scatter += np.outer(delta, row - self._sum_mean)
        if self.window is not None:
            self._rows.append(row)
            if len(self._rows) > self.window:
                self._remove_row(self._rows.popleft())
        self._dirty = True

    def _remove_row(self, row: FloatArray) -> None:
        old_mean = self._sum_mean
        self.n_rows_ -= 1
        self._sum_mean = old_mean - (row - old_mean) / self.n_rows_
        self._scatter -= np.outer(row - self._sum_mean, row - old_mean)

    def _learn_one(self, x: dict[str, float]) -> None:
        if "channels_" not in vars(self):
            self._reset_state(sorted(k for k, v in x.items() if not np.isnan(v)) or sorted(x))
        row = np.array([x.get(c, np.nan) for c in self.channels_], dtype=np.float64)
        if np.isnan(row).any():
            self.n_skipped_: int = vars(self).get("n_skipped_", 0) + 1
            return
        self._add_row(row)

    def _refresh(self) -> None:
        """Derive scaling, loadings and limits from the running mean and scatter."""
        d, n = len(self.channels_), self.n_rows_
        self.mean_: FloatArray = self._sum_mean.copy()
        cov = self._scatter / max(n - 1, 1)
        std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        # A channel constant in training gets a tiny scale: any later change is a departure.
        self.scale_: FloatArray = np.where(std > 0, std, 1e-6 * (1.0 + np.abs(self.mean_)))
        corr = cov / np.outer(self.scale_, self.scale_)
        eigenvalues, vectors = np.linalg.eigh(corr)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues = np.clip(eigenvalues[order], 0.0, None)
        vectors = vectors[:, order]
        self.eigenvalues_: FloatArray = eigenvalues
        k = self._n_retained(eigenvalues, d)
        self.n_components_: int = k
        self.components_: FloatArray = vectors[:, :k]
        floor = _EIG_FLOOR * max(float(eigenvalues[0]), 1e-12)
        self._inv_lam = 1.0 / np.maximum(eigenvalues[:k], floor)
        self.t2_limit_: float = t2_limit(max(n, 2), k, self.alpha)
        residual = eigenvalues[k:]
        if self.q_limit == "chi2":
            t1, t2 = float(residual.sum()), float((residual**2).sum())
            q = t2 / t1 * float(stats.chi2.ppf(1 - self.alpha, t1**2 / t2)) if t2 > 0 else 1e-12
        else:
            q = q_limit_jackson_mudholkar(residual, self.alpha)
        self.q_limit_: float = max(q, 1e-12)
        self._fast: tuple[Any, ...] | None = None
        self._dirty = False

    def _n_retained(self, eigenvalues: FloatArray, d: int) -> int:
        if isinstance(self.n_components, int | np.integer) and not isinstance(
            self.n_components, bool
        ):
            return int(min(self.n_components, d))
        total = float(eigenvalues.sum())
        if total <= 0:
            return 1
        explained = np.cumsum(eigenvalues) / total
        return min(int(np.searchsorted(explained, float(self.n_components))) + 1, d)

    # --- scoring -----------------------------------------------------------------------

    def _ready(self) -> None:
        if self._dirty:
            self._refresh()

    def _statistics(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """T², Q, the T² term per channel and the residual per channel, for rows of ``x``."""
        self._ready()
        z = (x - self.mean_) / self.scale_
        z = np.where(np.isnan(z), 0.0, z)  # masked channels sit at their normal mean
        p = self.components_
        t = z @ p
        t2 = (t**2) @ self._inv_lam
        residual = z - t @ p.T
        q = np.einsum("ij,ij->i", residual, residual)
        # Complete decomposition of T²: z_j (P Λ⁻¹ Pᵀ z)_j sums to T² over channels.
        t2_terms = z * ((t * self._inv_lam) @ p.T)
        return t2, q, t2_terms, residual

    def _score(self, x: FloatArray) -> FloatArray:
        t2, q, _, _ = self._statistics(x)
        out: FloatArray = np.maximum(t2 / self.t2_limit_, q / self.q_limit_)
        return out

    def _score_one(self, x: dict[str, float]) -> float:
        # The live service's per-sample path: one dict in, one float out. Same statistics as
        # _statistics, as two quadratic forms of the centred row; numpy's per-call cost
        # dominates at a few channels, so the fewer numpy calls the better.
        fast = self.__dict__.get("_fast")
        if self._dirty or fast is None:
            self._ready()
            fast = self._fast = self._fast_path()
        channels, mean, forms, shape = fast
        nan = math.nan
        # A masked channel (NaN, absent) sits at its normal mean: centred value exactly 0.
        c = np.array(
            [
                v - m if v == v else 0.0
                for v, m in zip([x.get(ch, nan) for ch in channels], mean, strict=True)
            ]
        )
        t2_ratio, q_ratio = forms.dot(c).reshape(shape).dot(c).tolist()
        return max(float(t2_ratio), float(q_ratio), 0.0)

    def _fast_path(self) -> tuple[Any, ...]:
        """Quadratic forms of ``_score_one``, derived from the current model.

        With ``S = diag(scale)`` and ``c = x − mean``: ``T² = cᵀ S⁻¹ P Λ⁻¹ Pᵀ S⁻¹ c`` and
        ``Q = cᵀ S⁻¹ (I − P Pᵀ) S⁻¹ c``; each form is divided by its control limit and the two
        are stacked so that ``forms · c`` reshaped to (2, d), times ``c``, gives both ratios.
        """
        d = len(self.channels_)
        p = self.components_ / self.scale_[:, None]  # S⁻¹ P
        inv_s = np.diag(1.0 / self.scale_)
        t2_form = (p * self._inv_lam) @ p.T / self.t2_limit_
        q_form = (inv_s @ inv_s - p @ p.T) / self.q_limit_
        forms = np.ascontiguousarray(np.vstack([t2_form, q_form]))  # (2d, d), symmetric blocks
        return (tuple(self.channels_), self.mean_.tolist(), forms, (2, d))

    def statistics(self, x: object) -> pd.DataFrame:
        """T², Q and both divided by their limits, one row per input row."""
        check_is_fitted(self, "statistics")
        arr = self._validate_input(x, reset=False)
        t2, q, _, _ = self._statistics(arr)
        index = x.index if isinstance(x, pd.DataFrame) else None
        return pd.DataFrame(
            {"t2": t2, "q": q, "t2_ratio": t2 / self.t2_limit_, "q_ratio": q / self.q_limit_},
            index=index,
        )

    def contributions(self, x: object) -> pd.DataFrame:
        """How much each channel drives the score of each row, columns = ``channels_``.

        ``T²_j / T²_limit + e_j² / Q_limit``: the T² term of channel ``j`` (complete
        decomposition, Alcala & Qin 2011) plus its squared residual, each on the scale of its
        limit, so the row sum is ``T²/T²_lim + Q/Q_lim``. Masked channels contribute 0.
        """
        check_is_fitted(self, "contributions")
        arr = self._validate_input(x, reset=False)
        _, _, t2_terms, residual = self._statistics(arr)
        contrib = t2_terms / self.t2_limit_ + residual**2 / self.q_limit_
        contrib[np.isnan(arr)] = 0.0
        index = x.index if isinstance(x, pd.DataFrame) else None
        return pd.DataFrame(contrib, index=index, columns=self.channels_)

    def deviations(self, x: object) -> pd.DataFrame:
        """Departure of each channel from its normal mean, in channel units and in σ."""
        check_is_fitted(self, "deviations")
        arr = self._validate_input(x, reset=False)
        self._ready()
        index = x.index if isinstance(x, pd.DataFrame) else None
        return pd.DataFrame(arr - self.mean_, index=index, columns=self.channels_)
