"""Contract checks for remaining-life models (:class:`~shopfloor.core.prognostics.RULPredictor`)
and the generated fleet they run on.

The fleet has a known answer: every unit degrades exponentially from its first step to failure
at a known life, so the true remaining life of every row is known. The kit runs these checks
on top of the common ones (see :func:`shopfloor.testing.contract.iter_checks`):

* intervals hold the point (lower <= point <= upper) and quantiles are ordered;
* 90 % intervals cover the true RUL of units never seen in training, in a sensible range,
  without being uselessly wide;
* a second call gives the same predictions;
* no unit is ever split between a model's training and calibration sets;
* a non-monotone time counter and missing channels are clear input errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import Component
from shopfloor.core.errors import InputError
from shopfloor.core.prognostics import RULPredictor, as_unit_sequences, run_to_failure_rul

__all__ = ["degradation_fleet", "fleet_rows", "prognostics_checks"]

#: the kit fits on this many units and checks coverage on as many new ones
FLEET_UNITS = 24
# Fraction of truth inside nominal 90 % intervals that still passes with 24 test units and
# strongly dependent rows; a model whose intervals mean nothing lands far from it either way.
COVERAGE_RANGE = (0.7, 1.0)


def degradation_fleet(
    n_units: int, seed: int, *, life_range: tuple[int, int] = (60, 140)
) -> pd.DataFrame:
    """A fleet run to failure, as unit sequences with columns unit, time, c0, c1, c2.

    Unit ``k`` lives ``L_k`` steps (uniform in ``life_range``); ``c0`` grows exponentially
    from 1 to 20 at failure with 5 % multiplicative noise (like an RMS ratio), ``c1`` falls
    linearly with life plus noise, ``c2`` is noise only. The true RUL of a row is ``L_k - t``.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_units):
        life = int(rng.integers(life_range[0], life_range[1] + 1))
        t = np.arange(1, life + 1, dtype=np.float64)
        rate = np.log(20.0) / life
        c0 = np.exp(rate * t) * np.exp(rng.normal(0.0, 0.05, life))
        c1 = -t / life + rng.normal(0.0, 0.05, life)
        c2 = rng.normal(0.0, 1.0, life)
        parts.append(pd.DataFrame({"unit": float(k + 1), "time": t, "c0": c0, "c1": c1, "c2": c2}))
    return pd.concat(parts, ignore_index=True)


def fleet_rows(seed: int) -> tuple[npt.NDArray[np.float64], None]:
    """Contract-kit input for RUL models: a small fleet as an array (unit, time, c0..c2)."""
    return degradation_fleet(12, seed).to_numpy(dtype=np.float64), None


def check_interval_holds_point(component: Component) -> None:
    """lower <= point <= upper for every row; quantiles non-decreasing and never negative."""
    assert isinstance(component, RULPredictor)
    x = degradation_fleet(12, 0)
    component.fit(x)
    point = component.predict(x)
    bounds = component.predict_interval(x, 0.1)
    assert bounds.shape == (len(x), 2), f"predict_interval shape {bounds.shape}"
    assert (bounds[:, 0] <= point + 1e-9).all(), "an interval's lower bound is above the point"
    assert (point <= bounds[:, 1] + 1e-9).all(), "an interval's upper bound is below the point"
    q = component.predict_quantiles(x, [0.05, 0.5, 0.95])
    assert (np.diff(q, axis=1) >= -1e-9).all(), "quantiles are not ordered"
    assert (q >= 0).all(), "a remaining-life quantile is negative"
    assert (point >= 0).all(), "a remaining life is negative"


def check_coverage_known_answer(component: Component) -> None:
    """90 % intervals cover the true RUL of unseen units at a rate in COVERAGE_RANGE and are
    narrower than the spread of the truth."""
    assert isinstance(component, RULPredictor)
    train, test = degradation_fleet(FLEET_UNITS, 10), degradation_fleet(FLEET_UNITS, 11)
    component.fit(train)
    truth = run_to_failure_rul(as_unit_sequences(test))
    cap = component.get_params().get("rul_cap")
    if cap is not None:
        truth = np.minimum(truth, cap)
    bounds = component.predict_interval(test, 0.1)
    inside = float(((truth >= bounds[:, 0]) & (truth <= bounds[:, 1])).mean())
    width = float((bounds[:, 1] - bounds[:, 0]).mean())
    lo, hi = COVERAGE_RANGE
    assert lo <= inside <= hi, f"90 % intervals cover {inside:.2f} of the truth"
    assert width < float(np.ptp(truth)), f"mean width {width:.1f} >= spread of the truth"


def check_second_call_unchanged(component: Component) -> None:
    """Predicting twice gives identical points and intervals (no state changes in predict)."""
    assert isinstance(component, RULPredictor)
    x = degradation_fleet(12, 0)
    component.fit(x)
    a, ia = component.predict(x), component.predict_interval(x, 0.2)
    b, ib = component.predict(x), component.predict_interval(x, 0.2)
    np.testing.assert_array_equal(a, b, err_msg="second predict differs")
    np.testing.assert_array_equal(ia, ib, err_msg="second predict_interval differs")


def check_units_never_split(component: Component) -> None:
    """Every (training units, calibration units) pair is disjoint and names real units."""
    assert isinstance(component, RULPredictor)
    x = degradation_fleet(12, 0)
    component.fit(x)
    folds = getattr(component, "calibration_folds_", None)
    assert folds is not None, "fitted RUL models record calibration_folds_"
    units = set(x["unit"].tolist())
    for train, cal in folds:
        shared = set(np.asarray(train).tolist()) & set(np.asarray(cal).tolist())
        assert not shared, f"units {sorted(shared)} are both training and calibration units"
        assert set(np.asarray(train).tolist()) | set(np.asarray(cal).tolist()) <= units


def check_bad_sequences_rejected(component: Component) -> None:
    """A non-monotone time counter, a missing channel and NaN are InputErrors."""
    assert isinstance(component, RULPredictor)
    x = degradation_fleet(12, 0)
    component.fit(x)
    backwards = x.copy()
    times = x["time"].to_numpy().copy()
    times[5] = times[3]
    backwards["time"] = times
    missing = x.drop(columns=["c1"])
    nan = x.copy()
    nan.loc[7, "c0"] = np.nan
    for name, bad in (("non-monotone time", backwards), ("missing channel", missing), ("NaN", nan)):
        try:
            component.predict(bad)
        except InputError:
            continue
        raise AssertionError(f"{name} was accepted by predict")


CHECKS: tuple[Callable[[Component], None], ...] = (
    check_interval_holds_point,
    check_coverage_known_answer,
    check_second_call_unchanged,
    check_units_never_split,
    check_bad_sequences_rejected,
)


def prognostics_checks(component: Component) -> Iterator[Callable[[Component], None]]:
    """The checks above, for RUL models; nothing for other components."""
    if isinstance(component, RULPredictor):
        yield from CHECKS


def contract_data(cls: type) -> Callable[[int], tuple[Any, Any]] | None:
    """Kit input for a RUL model class (a generated fleet), else None."""
    return fleet_rows if isinstance(cls, type) and issubclass(cls, RULPredictor) else None
