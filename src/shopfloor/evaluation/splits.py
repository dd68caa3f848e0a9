"""Leakage-free evaluation splits for windowed recordings.

Windows cut from one recording are near copies of each other: a random split of windows puts
the same recording (the same physical bearing, load and sensor mount) in train and test and
reports memorisation as accuracy. Splits here keep whole groups apart: all windows of a load, a
fault size, or a recording go to one side. The random-window split exists only as a labelled
contrast to show how much it leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Fold:
    """One train/test split: row indices into the window table, and what was held out."""

    name: str
    train: IntArray
    test: IntArray

    def __post_init__(self) -> None:
        if np.intersect1d(self.train, self.test).size:
            raise ValueError(f"fold {self.name!r}: train and test share rows")


def leave_one_group_out(
    groups: ArrayLike, *, exclude: ArrayLike | None = None, name: str = "held out"
) -> list[Fold]:
    """One fold per distinct group value: that group is the test set, the rest train.

    Rows where ``exclude`` is True take part in no fold (e.g. healthy windows, which are split
    in time separately because only one healthy recording exists).
    """
    g = np.asarray(groups)
    skip = np.zeros(g.shape[0], dtype=bool) if exclude is None else np.asarray(exclude, bool)
    folds = []
    for value in sorted(set(g[~skip].tolist())):
        test = np.flatnonzero((g == value) & ~skip)
        train = np.flatnonzero((g != value) & ~skip)
        folds.append(Fold(f"{name} {value}", train.astype(np.int64), test.astype(np.int64)))
    return folds


def time_blocks(positions: ArrayLike, train_fraction: float) -> tuple[IntArray, IntArray]:
    """Split rows of ONE recording into an early (train) and a late (test) block in time.

    ``positions`` are the windows' start positions (any unit that increases with time).
    Windows are cut from disjoint stretches, so the blocks share no samples when windows do not
    overlap across the boundary (the caller makes windows that do not overlap).
    """
    pos = np.asarray(positions, dtype=np.float64)
    order = np.argsort(pos, kind="stable")
    n_train = round(train_fraction * pos.size)
    if not 0 < n_train < pos.size:
        raise ValueError(f"cannot split {pos.size} windows with train_fraction {train_fraction}")
    return order[:n_train].astype(np.int64), order[n_train:].astype(np.int64)


def random_windows(n_rows: int, test_fraction: float, seed: int, *, name: str = "random") -> Fold:
    """The common leaky split: windows shuffled regardless of recording. Contrast only."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_rows)
    n_test = round(test_fraction * n_rows)
    return Fold(
        name, np.sort(perm[n_test:]).astype(np.int64), np.sort(perm[:n_test]).astype(np.int64)
    )


def with_extra(fold: Fold, train: IntArray, test: IntArray) -> Fold:
    """The fold with extra rows added to each side (e.g. the healthy time blocks)."""
    return Fold(fold.name, np.concatenate([fold.train, train]), np.concatenate([fold.test, test]))
