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


# --- WDCNN with AdaBN ----------------------------------------------------------------------


def test_adabn_takes_target_statistics_and_keeps_every_weight(wdcnn: ModuleType) -> None:
    import torch

    x, y = windows_of(6, seed=4)
    model = wdcnn.train(x, y, seed=0, epochs=1, batch_size=4)
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    shifted = 3.0 * x[::-1] + 0.5  # same windows, another gain and offset: a domain shift
    adapted = wdcnn.adapt_batchnorm(model, shifted)
    after = adapted.net.state_dict()
    stats = [k for k in after if k.endswith(("running_mean", "running_var"))]
    assert stats
    for key, value in before.items():
        if key in stats:
            assert not torch.equal(after[key], value), f"{key} not re-estimated"
        elif not key.endswith("num_batches_tracked"):
            assert torch.equal(after[key], value), f"{key} changed: only statistics may"
        assert torch.equal(model.net.state_dict()[key], value), "the trained model is a copy"
    # exact statistics of the target: the first conv's outputs over every window and position
    with torch.no_grad():
        conv = adapted.net[0](torch.from_numpy(shifted.astype(np.float32)).unsqueeze(1)).double()
    np.testing.assert_allclose(after["1.running_mean"], conv.mean(dim=(0, 2)), rtol=1e-4)
    np.testing.assert_allclose(
        after["1.running_var"], conv.var(dim=(0, 2), unbiased=False), rtol=1e-3
    )
    # a gain change is undone exactly: the first batch norm divides it out again
    x_ref = wdcnn.predict_proba(wdcnn.adapt_batchnorm(model, x), x)
    x_gain = wdcnn.predict_proba(wdcnn.adapt_batchnorm(model, 3.0 * x), 3.0 * x)
    np.testing.assert_allclose(x_gain, x_ref, atol=1e-4)


def test_adabn_in_fit_predict_uses_only_the_test_windows(wdcnn: ModuleType) -> None:
    x, y = windows_of(6, seed=5)
    test = x[:4] * 2.0
    classes, both = wdcnn.fit_predict_variants(x, y, test, seed=1, epochs=1, batch_size=4)
    assert list(classes) == ["normal", "outer_race"]
    _, adabn = wdcnn.fit_predict(x, y, test, seed=1, epochs=1, batch_size=4, adabn=True)
    np.testing.assert_allclose(both["wdcnn_adabn"], adabn, rtol=1e-6)
    assert not np.allclose(both["wdcnn"], both["wdcnn_adabn"])
    with pytest.raises(ValueError, match="two target windows"):
        wdcnn.adapt_batchnorm(wdcnn.train(x, y, epochs=1, batch_size=4), x[:1])


# --- FRESH selection -----------------------------------------------------------------------


def test_fresh_selection_is_fitted_on_training_rows_only(tsfresh_rf: ModuleType) -> None:
    rng = np.random.default_rng(0)
    n = 40
    y_train = np.repeat(["inner_race", "normal"], n // 2)
    y_test = np.repeat(["inner_race", "normal"], 5)
    # 'train_signal' separates the classes in training; 'test_signal' is noise in training
    # and separates them perfectly only in the test rows: a selection that looked at the test
    # rows (or their labels) would keep it.
    train = pd.DataFrame(
        {
            "train_signal": (y_train == "inner_race") * 5.0 + rng.normal(size=n),
            "test_signal": rng.normal(size=n),
            "constant": np.ones(n),
        }
    )
    test = pd.DataFrame(
        {
            "train_signal": (y_test == "inner_race") * 5.0 + rng.normal(size=10),
            "test_signal": (y_test == "inner_race") * 100.0,
            "constant": np.ones(10),
        }
    )
    assert tsfresh_rf.fresh_select(train, y_train) == ["train_signal"]
    classes, proba, selected = tsfresh_rf.fit_predict_variants(train, y_train, test, seed=0)
    assert selected == ["train_signal"]
    assert list(classes) == ["inner_race", "normal"]
    assert set(proba) == {"tsfresh_rf", "tsfresh_fresh_rf"}
    np.testing.assert_allclose(proba["tsfresh_fresh_rf"].sum(axis=1), 1.0)
    assert np.mean(classes[proba["tsfresh_fresh_rf"].argmax(axis=1)] == y_test) >= 0.9
    # changing the test rows changes nothing in what was selected
    _, _, again = tsfresh_rf.fit_predict_variants(train, y_train, test * -3.0, seed=0)
    assert again == selected


def test_fresh_without_a_relevant_feature_forecasts_the_prior(tsfresh_rf: ModuleType) -> None:
    rng = np.random.default_rng(1)
    y = np.array(["a"] * 15 + ["b"] * 5)
    noise = pd.DataFrame({"f": rng.normal(size=20), "g": rng.normal(size=20)})
    _, proba, selected = tsfresh_rf.fit_predict_variants(noise, y, noise.iloc[:3], seed=0)
    assert selected == []
    np.testing.assert_allclose(proba["tsfresh_fresh_rf"], [[0.75, 0.25]] * 3)


# --- one decision per second ----------------------------------------------------------------


@pytest.fixture
def peers(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("diagnosis_peers")


def test_soft_vote_known_answer(peers: ModuleType) -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7], [1.0, 0.0]])
    ids, mean = peers.soft_vote(proba, [7, 7, 7, 2, 2])
    assert ids.tolist() == [2, 7]
    np.testing.assert_allclose(mean, [[0.65, 0.35], [0.5, 0.5]])
    # a vote of probabilities, not of labels: two weak "b" lose to one strong "a"
    ids, mean = peers.soft_vote([[0.45, 0.55], [0.45, 0.55], [0.95, 0.05]], [0, 0, 0])
    assert mean.argmax(axis=1).tolist() == [0]
    with pytest.raises(ValueError, match="decision"):
        peers.soft_vote(proba, [0, 1])


def test_decision_blocks_match_the_one_second_table(peers: ModuleType) -> None:
    from diagnosis_windows import Corpus, Segment, cut_windows

    from shopfloor.core.assets import BearingGeometry

    rng = np.random.default_rng(2)
    segments = [
        Segment("r1", rng.normal(size=30_500), 1797.0, "inner_race", 0.0, 0.18, "any"),
        Segment("r2", rng.normal(size=12_000), 1772.0, "normal", 1.0, None, "test_only"),
    ]
    geometry = BearingGeometry(n_elements=9, element_diameter_mm=7.94, pitch_diameter_mm=39.04)
    corpus = Corpus(segments, 12_000.0, geometry, [])
    data = peers.peer_windows(corpus)
    _, meta = cut_windows(corpus, 12_000)
    pd.testing.assert_frame_equal(data.decisions, meta)
    starts = peers.block_starts(12_000, 2048)
    assert starts.size == 6
    assert starts[0] == 0
    assert starts[-1] + 2048 == 12_000
    assert data.windows.shape == (3 * 6, 2048)  # 2 + 1 whole seconds, tail of 6,500 dropped
    second = data.meta.loc[7]  # second window of the second block of r1
    assert (second["decision"], second["start"]) == (1, 12_000 + starts[1])
    np.testing.assert_array_equal(
        data.windows[7], segments[0].signal[12_000 + starts[1] : 12_000 + starts[1] + 2048]
    )
    # WDCNN's overlapping training windows stay inside their block
    assert data.train_windows.shape[0] == 3 * ((12_000 - 2048) // 512 + 1)


def test_p3_and_p4_folds_keep_bearings_and_healthy_blocks_apart(peers: ModuleType) -> None:
    # segments 0-3: drive end (two faults, healthy early and late block); 4-6: fan end
    table = pd.DataFrame(
        {
            "segment": [0, 0, 1, 2, 3, 4, 5, 6],
            "size_mm": [0.18, 0.18, 0.36, None, None, 0.18, None, None],
            "role": [
                "any",
                "any",
                "any",
                "train_only",
                "test_only",
                "any",
                "train_only",
                "test_only",
            ],
        }
    )
    p3 = peers.p3_folds(table, n_segments=4)
    assert [(f.name, sorted(f.train), sorted(f.test)) for f in p3] == [
        ("size_mm=0.18", [2, 3], [0, 1, 4]),
        ("size_mm=0.36", [0, 1, 3], [2, 4]),
    ]
    de_fe, fe_de = peers.p4_folds(table, 4)
    assert (sorted(de_fe.train), sorted(de_fe.test)) == ([0, 1, 2, 3], [5, 7])
    assert (sorted(fe_de.train), sorted(fe_de.test)) == ([5, 6], [0, 1, 2, 4])
