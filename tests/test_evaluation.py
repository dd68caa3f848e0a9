"""Leakage-free splits and metrics."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.evaluation.metrics import classification_report
from shopfloor.evaluation.splits import (
    Fold,
    leave_one_group_out,
    random_windows,
    time_blocks,
    with_extra,
)


def test_leave_one_group_out_never_shares_a_group() -> None:
    groups = np.array([0, 0, 1, 1, 2, 2, 3])
    healthy = np.array([0, 0, 0, 0, 0, 0, 1], dtype=bool)
    folds = leave_one_group_out(groups, exclude=healthy, name="load")
    assert [f.name for f in folds] == ["load 0", "load 1", "load 2"]
    for f in folds:
        assert set(groups[f.test]) & set(groups[f.train]) == set()
        assert 6 not in f.train
        assert 6 not in f.test


def test_time_blocks_keep_early_for_training() -> None:
    train, test = time_blocks([50, 10, 40, 20, 30], 0.6)
    assert sorted(np.array([50, 10, 40, 20, 30])[train]) == [10, 20, 30]
    assert list(np.array([50, 10, 40, 20, 30])[test]) == [40, 50]
    with pytest.raises(ValueError, match="cannot split"):
        time_blocks([1], 0.5)


def test_fold_refuses_overlap_and_random_split_is_seeded() -> None:
    with pytest.raises(ValueError, match="share rows"):
        Fold("bad", np.array([1, 2]), np.array([2, 3]))
    a, b = random_windows(100, 0.3, seed=4), random_windows(100, 0.3, seed=4)
    np.testing.assert_array_equal(a.test, b.test)
    assert a.test.size == 30
    extended = with_extra(a, np.array([100]), np.array([101]))
    assert 100 in extended.train
    assert 101 in extended.test


def test_report_counts_unknown_as_wrong_and_shows_it() -> None:
    labels = ["normal", "inner_race", "outer_race", "rolling_element"]
    truth = ["inner_race", "inner_race", "outer_race", "rolling_element"]
    pred = ["inner_race", "unknown", "outer_race", "outer_race"]
    r = classification_report(truth, pred, labels)
    assert r["accuracy"] == pytest.approx(0.5)
    assert r["confusion"]["cols_pred"][-1] == "unknown"
    assert r["confusion"]["matrix"][1] == [0, 1, 0, 0, 1]
    assert r["recall"]["inner_race"] == pytest.approx(0.5)
    assert "normal" not in r["recall"]  # absent classes are not averaged in
