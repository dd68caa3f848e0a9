"""Smoke tests of the benchmark peers (benchmarks/baselines): shapes, determinism, and that
WDCNN learns a trivially separable problem. Skipped with the reason when torch or tsfresh is
missing; marked slow (a few seconds each)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from shopfloor.testing.signals import bearing_signal

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
N = 2048


def _baseline(name: str, needs: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    pytest.importorskip(needs, reason=f"baselines.{name} needs {needs} (benchmark-only)")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module(f"baselines.{name}")


@pytest.fixture
def wdcnn(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _baseline("wdcnn", "torch", monkeypatch)


@pytest.fixture
def tsfresh_rf(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _baseline("tsfresh_rf", "tsfresh", monkeypatch)


def windows_of(n_per_class: int, seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """Outer-race defect (1 m/s² impacts) vs. a healthy bearing (none): trivially separable."""
    rows, labels = [], []
    for label, amplitude in (("outer_race", 1.0), ("normal", 0.0)):
        x, _ = bearing_signal(
            "outer", impulse_amplitude=amplitude, duration_s=n_per_class * N / 12_000.0, seed=seed
        )
        rows.append(x[: n_per_class * N].reshape(n_per_class, N))
        labels += [label] * n_per_class
    return np.vstack(rows), np.asarray(labels)


# --- WDCNN ---------------------------------------------------------------------------------


def test_wdcnn_architecture(wdcnn: ModuleType) -> None:
    import torch

    assert wdcnn.count_parameters(10) == 54_510
    net = wdcnn.build(4).eval()
    with torch.no_grad():
        out = net(torch.zeros(3, 1, 2048))
        after_wide = net[:4](torch.zeros(3, 1, 2048))
    assert tuple(out.shape) == (3, 4)
    assert tuple(after_wide.shape) == (3, 16, 64)  # 128 after the stride-16 kernel, pooled


def test_wdcnn_learns_a_separable_problem(wdcnn: ModuleType) -> None:
    train_x, train_y = windows_of(24, seed=0)
    test_x, test_y = windows_of(8, seed=1)
    losses: list[float] = []
    # 60 small steps: with fewer (5 epochs of 16) the batch-norm running statistics used at
    # prediction time have not caught up yet and every window gets one class.
    pred, proba = wdcnn.fit_predict(
        train_x,
        train_y,
        test_x,
        seed=0,
        epochs=10,
        batch_size=8,
        progress=lambda epoch, total, loss: losses.append(loss),
    )
    assert pred.shape == (16,)
    assert proba.shape == (16, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert len(losses) == 10
    assert losses[-1] < losses[0]
    assert np.mean(pred == test_y) >= 0.9


def test_wdcnn_is_deterministic_and_checks_input(wdcnn: ModuleType) -> None:
    x, y = windows_of(6, seed=2)
    a = wdcnn.fit_predict(x, y, x, seed=3, epochs=1, batch_size=4)[1]
    b = wdcnn.fit_predict(x, y, x, seed=3, epochs=1, batch_size=4)[1]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"shape \(n, 2048\)"):
        wdcnn.fit_predict(x[:, :1024], y, x, epochs=1)
    with pytest.raises(ValueError, match="two classes"):
        wdcnn.fit_predict(x, np.full(len(y), "normal"), x, epochs=1)


# --- tsfresh + random forest ---------------------------------------------------------------


def test_tsfresh_features_and_forest(tsfresh_rf: ModuleType) -> None:
    train_x, train_y = windows_of(3, seed=0)
    test_x, test_y = windows_of(2, seed=1)
    features = tsfresh_rf.extract_features(np.vstack([train_x, test_x]), chunk=4)
    assert isinstance(features, pd.DataFrame)
    assert features.shape[0] == 10
    assert features.shape[1] > 700  # EfficientFCParameters: ~780 features per window
    assert list(features.index) == list(range(10))
    assert "value__kurtosis" in features.columns
    pred = tsfresh_rf.fit_predict(features.iloc[:6], train_y, features.iloc[6:], seed=0)
    assert pred.shape == (4,)
    assert np.mean(pred == test_y) >= 0.75


def test_tsfresh_imputes_with_training_statistics(tsfresh_rf: ModuleType) -> None:
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "b": [0.0, 0.0, 1.0, 1.0]})
    test = pd.DataFrame({"a": [np.nan, np.inf, -np.inf], "b": [0.0, 1.0, np.nan]})
    pred = tsfresh_rf.fit_predict(train, ["x", "x", "y", "y"], test, seed=0)
    assert pred.shape == (3,)
    assert np.isnan(test.loc[0, "a"]), "the caller's frame is not imputed in place"


def test_tsfresh_throughput_is_positive(tsfresh_rf: ModuleType) -> None:
    x, _ = windows_of(1, seed=0)
    assert tsfresh_rf.throughput(x) > 0.0
    with pytest.raises(ValueError, match="2-D"):
        tsfresh_rf.throughput(x[0])
