"""SKAB metrics against values worked out by hand from the reference definitions
(waico/SKAB core/metrics.py), and the reference T²+Q rule reproducing the leaderboard row."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopfloor.core.errors import InputError
from shopfloor.evaluation.skab_metrics import (
    changepoints_from_alarms,
    detection_windows,
    nab_score,
    outlier_metrics,
)

INDEX = pd.date_range("2020-01-01", periods=200, freq="s")


def _series(ones: list[int], n: int = 200) -> pd.Series:
    s = pd.Series(np.zeros(n), index=INDEX[:n])
    s.iloc[ones] = 1.0
    return s


def _sigmoid(fraction: float, a_tp: float, a_fp: float) -> float:
    # the reference's scaled sigmoid at grid point int(fraction * 1000)
    x = np.linspace(-math.pi / 2, math.pi / 2, 1000)[min(int(fraction * 1000), 999)]
    return (a_tp - a_fp) / 2 * -math.tanh(x) / math.tanh(math.pi / 2) + (a_tp - a_fp) / 2 + a_fp


def test_outlier_metrics_by_hand() -> None:
    truth = _series(list(range(10, 20)), 40)
    pred = _series(list(range(15, 25)), 40)  # TP 5, FP 5, FN 5, TN 25
    r = outlier_metrics([truth], [pred])
    assert (r.tp, r.fp, r.fn, r.tn) == (5, 5, 5, 25)
    assert r.f1 == pytest.approx(5 / (5 + 5))
    assert r.far == pytest.approx(100 * 5 / 30)
    assert r.mar == pytest.approx(50.0)
    assert r.rounded() == {"f1": 0.5, "far": 16.67, "mar": 50.0}


def test_flag_everything_has_high_f1_but_full_far() -> None:
    truth = _series(list(range(100, 200)))
    r = outlier_metrics([truth], [pd.Series(1.0, index=INDEX)])
    assert r.f1 == pytest.approx(100 / (100 + 50))
    assert (r.far, r.mar) == (100.0, 0.0)


def test_nab_perfect_null_and_one_early_hit() -> None:
    truth = _series([50, 150])
    assert nab_score([truth], [truth]).standard == pytest.approx(
        100 * (2 * _sigmoid(0, 1, -0.11) + 2) / 4
    )
    null = nab_score([truth], [_series([])])
    assert (null.standard, null.low_fp, null.low_fn, null.missed) == (0.0, 0.0, 0.0, 2)
    # one hit 30 s into the first 60 s window, one false positive, second window missed
    r = nab_score([truth], [_series([80, 10])])
    for name, (a_tp, a_fp, a_fn) in {
        "standard": (1.0, -0.11, -1.0),
        "low_fp": (1.0, -0.22, -1.0),
        "low_fn": (1.0, -0.11, -2.0),
    }.items():
        score = _sigmoid(0.5, a_tp, a_fp) + a_fp + a_fn
        expected = 100 * (score - 2 * a_fn) / (2 * a_tp - 2 * a_fn)
        assert getattr(r, name) == pytest.approx(expected)
    assert (r.missed, r.false_positives, r.detected_delays_s) == (1, 1, (30.0,))


def test_only_first_hit_in_a_window_counts_and_right_edge_is_inside() -> None:
    truth = _series([50])
    r = nab_score([truth], [_series([60, 70, 110])])  # 110 = 50 + 60 s, inside (closed)
    assert r.false_positives == 0
    assert r.detected_delays_s == (10.0,)
    assert nab_score([truth], [_series([111])]).false_positives == 1


def test_overlapping_windows_cut_the_right_one() -> None:
    ns = 10**9
    assert detection_windows(np.array([0, 30 * ns]), 60 * ns) == [(0, 60 * ns), (60 * ns, 90 * ns)]


def test_changepoints_from_alarms_are_both_edges() -> None:
    alarm = _series([0, 1, 5, 6, 7], 10)
    assert changepoints_from_alarms(alarm).tolist() == [1, 0, 1, 0, 0, 1, 0, 0, 1, 0]


def test_bad_inputs_are_named() -> None:
    truth = _series([5], 10)
    with pytest.raises(InputError, match="must be 0/1"):
        outlier_metrics([truth], [truth * 2])
    with pytest.raises(InputError, match="share one index"):
        outlier_metrics([truth], [_series([5], 9)])
    with pytest.raises(InputError, match="1 truth series but 2"):
        nab_score([truth], [truth, truth])
    with pytest.raises(InputError, match="window_s"):
        nab_score([truth], [truth], window_s=0)
    with pytest.raises(InputError, match="DatetimeIndex"):
        nab_score([truth.reset_index(drop=True)], [truth.reset_index(drop=True)])


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.realdata
def test_reference_t2q_reproduces_the_leaderboard_row(
    dataset_dir: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopfloor.evaluation.anomaly_protocol import evaluate_alarms, load_labelled, split_runs

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    t2q = importlib.import_module("baselines.skab_t2q")
    splits = split_runs(load_labelled("skab", dataset_dir("skab")))
    r = evaluate_alarms(splits, t2q.t2q_alarms)
    # SKAB README leaderboards: T-squared+Q (PCA-based)
    assert (r["f1"], r["far"], r["mar"]) == (0.76, 26.62, 24.92)
    assert (r["nab_standard"], r["nab_low_fp"], r["nab_low_fn"]) == (25.35, 14.51, 31.33)
    assert (r["changepoints_missed"], r["changepoint_false_positives"]) == (72, 232)
