"""The contract kit passes a well-behaved component and demonstrably fails broken ones."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pytest

from shopfloor.core.base import (
    AnomalyScorer,
    ConstraintLike,
    FloatArray,
    Interval,
    RandomStateLike,
    StreamingMixin,
    as_generator,
)
from shopfloor.testing.contract import (
    Check,
    ContractError,
    check_component,
    iter_checks,
    parametrize_with_checks,
)


class RobustZ(StreamingMixin, AnomalyScorer):
    """Largest absolute z-score over channels, per-channel mean and std from (a random
    ``subsample`` of) the training rows; online via Welford's update."""

    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "subsample": [Interval(float, 0, 1, closed="right")],
        "random_state": [RandomStateLike()],
    }
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True}

    def __init__(self, subsample: float = 1.0, random_state: Any = None) -> None:
        self.subsample = subsample
        self.random_state = random_state

    def _dynamic_tags(self) -> dict[str, Any]:
        return {"streaming_matches_batch": self.subsample == 1.0}

    def _fit(self, x: FloatArray, y: Any) -> None:
        if self.subsample < 1.0:
            rng = as_generator(self.random_state)
            keep = rng.choice(x.shape[0], max(2, int(self.subsample * x.shape[0])), replace=False)
            x = x[np.sort(keep)]
        names = self._channel_names(x.shape[1])
        mean, var = x.mean(axis=0), x.var(axis=0)
        n = x.shape[0]
        self.stats_ = {c: (n, mean[i], var[i] * n) for i, c in enumerate(names)}

    def _score(self, x: FloatArray) -> FloatArray:
        names = self._channel_names(x.shape[1])
        mean = np.array([self.stats_[c][1] for c in names])
        std = np.array([math.sqrt(self.stats_[c][2] / self.stats_[c][0]) for c in names])
        return np.asarray(np.max(np.abs(x - mean) / np.maximum(std, 1e-12), axis=1))

    def _learn_one(self, x: dict[str, float]) -> None:
        stats = self.__dict__.setdefault("stats_", {})
        for channel, value in x.items():
            n, mean, m2 = stats.get(channel, (0, 0.0, 0.0))
            n += 1
            delta = value - mean
            mean += delta / n
            stats[channel] = (n, mean, m2 + delta * (value - mean))

    def _score_one(self, x: dict[str, float]) -> float:
        z = [
            abs(v - self.stats_[c][1])
            / max(math.sqrt(self.stats_[c][2] / self.stats_[c][0]), 1e-12)
            for c, v in x.items()
            if c in self.stats_ and self.stats_[c][0] >= 2  # a channel new to us scores nothing
        ]
        return max(z, default=0.0)


# --- the good component passes -------------------------------------------------------------


@parametrize_with_checks([RobustZ(), RobustZ(subsample=0.5, random_state=3)])
def test_good_component_passes_every_check(component: RobustZ, check: Check) -> None:
    check(component)


def test_check_component_reports_all_checks() -> None:
    results = check_component(RobustZ())
    names = [r.name for r in results]
    assert {r.status for r in results} == {"passed"}
    for expected in (
        "check_init_stores_params",
        "check_clone",
        "check_refit",
        "check_not_fitted",
        "check_deterministic",
        "check_persistence",
        "check_output_shape",
        "check_bad_params_rejected",
        "check_channels_appear_vanish",
        "check_streaming_matches_batch",
    ):
        assert expected in names
    # order-dependent subsampling: the batch/stream check does not apply
    assert "check_streaming_matches_batch" not in [c.name for c in iter_checks(RobustZ(0.5))]


# --- broken components are caught ---------------------------------------------------------


class ValidatesInInit(RobustZ):
    def __init__(self, subsample: float = 1.0, random_state: Any = None) -> None:
        if not 0 < subsample <= 1:
            raise ValueError("subsample out of range")
        self.subsample = float(subsample)
        self.random_state = random_state


class DerivesInInit(RobustZ):
    def __init__(self, subsample: float = 1.0, random_state: Any = None) -> None:
        super().__init__(subsample, random_state)
        self.rng = np.random.default_rng(random_state)


class NonDeterministic(RobustZ):
    def _fit(self, x: FloatArray, y: Any) -> None:
        super()._fit(x + np.random.default_rng().normal(0, 0.1, x.shape), y)  # ignores the seed


class ForgetsNotFitted(RobustZ):
    def score_samples(self, x: object) -> FloatArray:  # bypasses the base class's check
        stats = getattr(self, "stats_", {})
        return np.zeros(np.asarray(x).shape[0]) if not stats else super().score_samples(x)


class UndeclaredParameter(RobustZ):
    def __init__(self, subsample: float = 1.0, random_state: Any = None, extra: int = 1) -> None:
        super().__init__(subsample, random_state)
        self.extra = extra


class LeaksBetweenFits(RobustZ):
    def _fit(self, x: FloatArray, y: Any) -> None:
        previous = getattr(self, "stats_", None)
        super()._fit(x, y)
        if previous is not None:  # "warm start" nobody asked for
            self.stats_ = {c: (n, m + previous[c][1], v) for c, (n, m, v) in self.stats_.items()}


class MutatesInput(RobustZ):
    def _fit(self, x: FloatArray, y: Any) -> None:
        x -= x.mean(axis=0)  # in place: changes the caller's array
        super()._fit(x, y)


class WrongShape(RobustZ):
    def _score(self, x: FloatArray) -> FloatArray:
        return super()._score(x)[:, np.newaxis]


class ChokesOnNewChannels(RobustZ):
    def _score_one(self, x: dict[str, float]) -> float:
        return float(max(abs(v - self.stats_[c][1]) for c, v in x.items()))  # KeyError if new


class SkipsValidation(RobustZ):
    def _validate_params(self) -> None:  # "too slow", someone said
        pass


class AcceptsAnything(RobustZ):
    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "subsample": [float, object],
        "random_state": [RandomStateLike()],
    }


@pytest.mark.parametrize(
    ("broken", "failing_check"),
    [
        (ValidatesInInit(), "check_init_stores_params"),
        (DerivesInInit(), "check_init_stores_params"),
        (NonDeterministic(), "check_deterministic"),
        (NonDeterministic(), "check_refit"),
        (ForgetsNotFitted(), "check_not_fitted"),
        (UndeclaredParameter(), "check_params_declared"),
        (LeaksBetweenFits(), "check_refit"),
        (MutatesInput(), "check_input_not_mutated"),
        (WrongShape(), "check_output_shape"),
        (ChokesOnNewChannels(), "check_channels_appear_vanish"),
        (SkipsValidation(), "check_bad_params_rejected"),
        (AcceptsAnything(), "check_bad_params_rejected"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_kit_catches_broken_component(broken: RobustZ, failing_check: str) -> None:
    results = {r.name: r for r in check_component(broken, raise_on_failure=False)}
    assert results[failing_check].status == "failed", results[failing_check]
    with pytest.raises(ContractError, match=failing_check):
        check_component(broken)


def test_failure_messages_say_what_to_fix() -> None:
    results = {r.name: r for r in check_component(ValidatesInInit(), raise_on_failure=False)}
    assert "validation belongs in fit" in results["check_init_stores_params"].message
    results = {r.name: r for r in check_component(ForgetsNotFitted(), raise_on_failure=False)}
    assert "instead of NotFittedError" in results["check_not_fitted"].message


# --- skipping is explicit -----------------------------------------------------------------


class SkipsPersistence(RobustZ):
    _tags: ClassVar[dict[str, Any]] = {
        "skipped_checks": (("check_persistence", "holds an open socket"),),
    }


class SkipsUnknown(RobustZ):
    _tags: ClassVar[dict[str, Any]] = {"skipped_checks": (("check_typo", "no reason"),)}


class Random(RobustZ):
    _tags: ClassVar[dict[str, Any]] = {"non_deterministic": True}


def test_skips_need_a_named_check_and_a_reason() -> None:
    results = {r.name: r for r in check_component(SkipsPersistence())}
    assert results["check_persistence"].status == "skipped"
    assert results["check_persistence"].message == "holds an open socket"
    with pytest.raises(ValueError, match="check_typo"):
        list(iter_checks(SkipsUnknown()))
    results = {r.name: r for r in check_component(Random())}
    assert results["check_deterministic"].status == "skipped"


def test_the_kit_works_on_a_clone() -> None:
    component = RobustZ()
    check_component(component)
    assert not hasattr(component, "stats_")
    assert component.random_state is None
