"""The base contract (core/base.py): constraints, validation at fit, not-fitted errors, tags,
input checks and the streaming mixin."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from shopfloor.core.base import (
    AnomalyScorer,
    ConstraintLike,
    FloatArray,
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    Predictor,
    RandomStateLike,
    StreamingMixin,
    Subset,
    Tags,
    Transformer,
    as_generator,
    check_is_fitted,
    get_tags,
    make_constraint,
    validate_params,
)
from shopfloor.core.errors import InputError, NotFittedError

# --- small components used below ---------------------------------------------------------


class Scale(Transformer):
    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "factor": [Interval(float, 0, None, closed="neither")],
        "mode": [Options(str, {"mul", "div"})],
    }
    _tags: ClassVar[dict[str, Any]] = {"input_kind": "table", "multivariate": True}

    def __init__(self, factor: float = 2.0, mode: str = "mul") -> None:
        self.factor = factor
        self.mode = mode

    def _fit(self, x: FloatArray, y: Any) -> None:
        self.seen_rows_ = x.shape[0]

    def _transform(self, x: FloatArray) -> FloatArray:
        return x * self.factor if self.mode == "mul" else x / self.factor

    def _feature_names_out(self) -> list[str]:
        return [f"scaled_{i}" for i in range(self.n_features_in_)]


class Failing(Transformer):
    _tags: ClassVar[dict[str, Any]] = {"input_kind": "table"}

    def _fit(self, x: FloatArray, y: Any) -> None:
        raise RuntimeError("boom")

    def _transform(self, x: FloatArray) -> FloatArray:
        return x


class Distance(AnomalyScorer):
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True, "handles_missing": True}

    def _fit(self, x: FloatArray, y: Any) -> None:
        self.center_ = np.nanmean(x, axis=0)

    def _score(self, x: FloatArray) -> FloatArray:
        return np.asarray(np.nansum(np.abs(x - self.center_), axis=1), dtype=np.float64)


class Labelled(Predictor):
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "assessment",
        "needs_labels": True,
        "multivariate": True,
    }

    def _fit(self, x: FloatArray, y: Any) -> None:
        self.majority_ = int(np.bincount(y).argmax())

    def _predict(self, x: FloatArray) -> Any:
        return np.full(x.shape[0], self.majority_)


class Counter(StreamingMixin, AnomalyScorer):
    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "limit": [Interval(int, 1, None)]
    }

    def __init__(self, limit: int = 3) -> None:
        self.limit = limit

    def _learn_one(self, x: dict[str, float]) -> None:
        self.last_ = dict(x)

    def _score_one(self, x: dict[str, float]) -> float:
        return float(len(x))

    def _score(self, x: FloatArray) -> FloatArray:
        return np.zeros(x.shape[0])


X = np.arange(12.0).reshape(4, 3)


# --- constraints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "good", "bad"),
    [
        (Interval(int, 1, None), [1, 5, np.int64(7)], [0, 1.5, True, "3", None]),
        (Interval(float, 0, 1, closed="left"), [0, 0.5, 0.999], [1, 1.0, -0.1, np.nan, False]),
        (Interval(float, 0, 1, closed="neither"), [0.5], [0.0, 1.0]),
        (Interval(float, None, 0, closed="right"), [-1e9, 0.0], [0.1]),
        (Options(str, {"a", "b"}), ["a", "b"], ["c", 1, None]),
        (Subset({"x", "y"}), [["x"], ("y", "x")], [[], ["x", "x"], ["z"], "x"]),
        (RandomStateLike(), [None, 0, 42, np.random.default_rng(0)], [-1, 1.5, "seed", True]),
        (InstanceOf(int), [1], [True, 1.0]),
        (InstanceOf(bool), [True], [1]),
        (make_constraint(None), [None], [0, ""]),
        (make_constraint(str), ["s"], [b"s"]),
    ],
)
def test_constraints_accept_and_reject(constraint: Any, good: list[Any], bad: list[Any]) -> None:
    assert all(constraint.is_satisfied_by(v) for v in good)
    assert not any(constraint.is_satisfied_by(v) for v in bad)
    assert not any(constraint.is_satisfied_by(v) for v in constraint.invalid_examples())


def test_constraint_descriptions_read_as_english() -> None:
    assert str(Interval(int, 1, None)) == "an int in the range [1, inf)"
    assert str(Interval(float, 0, 1, closed="right")) == "a float in the range (0, 1]"
    assert str(Options(str, {"b", "a"})) == "a str among {'a', 'b'}"
    assert str(make_constraint(None)) == "None"


def test_bad_constraint_definitions_fail_early() -> None:
    with pytest.raises(TypeError):
        Interval(complex, 0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="closed"):
        Interval(float, 0, 1, closed="open")
    with pytest.raises(ValueError, match="exceeds"):
        Interval(float, 2, 1)
    with pytest.raises(TypeError, match="unknown parameter constraint"):
        make_constraint("int")  # type: ignore[arg-type]


def test_validate_params_names_parameter_and_allowed_values() -> None:
    table: dict[str, list[ConstraintLike]] = {"n": [None, Interval(int, 1, None)]}
    validate_params({"n": None}, table, owner="Thing")
    with pytest.raises(InvalidParameterError) as info:
        validate_params({"n": 0}, table, owner="Thing")
    assert info.value.parameter == "n"
    assert str(info.value) == (
        "The 'n' parameter of Thing must be None or an int in the range [1, inf). Got 0 instead."
    )
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, InputError)
    with pytest.raises(TypeError, match="no constraint for parameter 'm'"):
        validate_params({"m": 1}, table, owner="Thing")


def test_as_generator() -> None:
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng
    assert as_generator(3).random() == np.random.default_rng(3).random()
    assert isinstance(as_generator(None), np.random.Generator)
    with pytest.raises(InvalidParameterError):
        as_generator("seed")


# --- parameters are checked at fit, never in __init__ ------------------------------------


def test_init_stores_and_fit_validates() -> None:
    bad = Scale(factor=-1.0, mode="pow")  # no error yet: __init__ only stores
    assert bad.get_params() == {"factor": -1.0, "mode": "pow"}
    with pytest.raises(InvalidParameterError, match="'factor' parameter of Scale"):
        bad.fit(X)
    bad.set_params(factor=3.0)
    with pytest.raises(InvalidParameterError, match="'mode'"):
        bad.fit(X)
    assert bad.set_params(mode="div").fit(X).transform(X)[0, 1] == pytest.approx(1 / 3)


def test_clone_and_params_work_like_sklearn() -> None:
    s = Scale(factor=4.0).fit(X)
    twin = clone(s)
    assert twin.get_params() == s.get_params()
    assert not hasattr(twin, "n_features_in_")
    assert repr(twin) == "Scale(factor=4.0)"


# --- fitted state --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "call"),
    [
        (Scale(), lambda c: c.transform(X)),
        (Scale(), lambda c: c.get_feature_names_out()),
        (Distance(), lambda c: c.score_samples(X)),
        (Labelled(), lambda c: c.predict(X)),
        (Counter(), lambda c: c.score_one({"a": 1.0})),
    ],
)
def test_unfitted_use_raises_not_fitted(component: Any, call: Any) -> None:
    with pytest.raises(NotFittedError, match=f"This {type(component).__name__} instance is not"):
        call(component)


def test_failed_fit_does_not_look_fitted() -> None:
    f = Failing()
    with pytest.raises(RuntimeError, match="boom"):
        f.fit([[1.0], [2.0]])
    with pytest.raises(NotFittedError):
        check_is_fitted(f)


def test_fit_records_schema_and_returns_self() -> None:
    s = Scale()
    assert s.fit(pd.DataFrame(X, columns=["a", "b", "c"])) is s
    assert s.n_features_in_ == 3
    assert s.feature_names_in_ == ["a", "b", "c"]
    assert s.fit(X).n_features_in_ == 3
    assert not hasattr(s, "feature_names_in_")  # refit on an array forgets old names


# --- tags ----------------------------------------------------------------------------------


def test_tags_merge_along_the_hierarchy() -> None:
    tags = get_tags(Counter)
    assert tags.streaming  # from StreamingMixin
    assert tags.iso_block == "detection"  # from AnomalyScorer
    assert tags.input_kind == "table"
    assert get_tags(Scale()).multivariate
    assert get_tags(Scale).iso_block == "manipulation"
    assert get_tags(Labelled()).needs_labels


def test_dynamic_tags_and_unknown_tags() -> None:
    class Dynamic(Scale):
        def _dynamic_tags(self) -> dict[str, Any]:
            return {"non_deterministic": self.mode == "div"}

    assert not get_tags(Dynamic()).non_deterministic
    assert get_tags(Dynamic(mode="div")).non_deterministic
    assert not get_tags(Dynamic).non_deterministic  # a class has no parameter values

    class Typo(Scale):
        _tags: ClassVar[dict[str, Any]] = {"multivarate": True}

    with pytest.raises(TypeError, match=r"unknown tags \['multivarate'\]"):
        get_tags(Typo)


def test_tags_are_checked_and_frozen() -> None:
    with pytest.raises(ValueError, match="iso_block"):
        Tags(iso_block="diagnosis")
    with pytest.raises(ValueError, match="input_kind"):
        Tags(input_kind="image")
    with pytest.raises(AttributeError):
        Tags().streaming = True  # type: ignore[misc]


# --- input ---------------------------------------------------------------------------------


def test_input_shape_and_values_are_checked() -> None:
    s = Scale().fit(X)
    with pytest.raises(InputError, match="2-D"):
        s.transform(np.arange(3.0))
    with pytest.raises(InputError, match="empty"):
        s.transform(np.empty((0, 3)))
    with pytest.raises(InputError, match="not numeric"):
        s.transform([["a", "b", "c"]])
    with pytest.raises(InputError, match="fitted on 3 columns, got 2"):
        s.transform(X[:, :2])
    nan = X.copy()
    nan[2, 1] = np.nan
    with pytest.raises(InputError, match=r"1 NaN or infinite values \(first at row 2, column 1"):
        s.transform(nan)


def test_feature_names_must_match() -> None:
    s = Scale().fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    with pytest.raises(InputError, match="fitted on columns"):
        s.transform(pd.DataFrame(X, columns=["a", "c", "b"]))
    s.transform(X)  # an array carries no names to compare


def test_dataframe_in_dataframe_out() -> None:
    index = pd.date_range("2024-01-01", periods=4, freq="min")
    frame = pd.DataFrame(X, index=index, columns=["a", "b", "c"])
    out = Scale().fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(index)
    assert list(out.columns) == ["scaled_0", "scaled_1", "scaled_2"]


def test_handles_missing_allows_nan_but_not_inf() -> None:
    data = X.copy()
    data[0, 0] = np.nan
    scores = Distance().fit(data).score_samples(data)
    assert scores.shape == (4,)
    data[1, 1] = np.inf
    with pytest.raises(InputError, match="infinite"):
        Distance().fit(data)


def test_univariate_tables_reject_several_columns() -> None:
    class Uni(Distance):
        _tags: ClassVar[dict[str, Any]] = {"multivariate": False}

    with pytest.raises(InputError, match="univariate: expected 1 column, got 3"):
        Uni().fit(X)


def test_labels() -> None:
    with pytest.raises(InputError, match="needs labels"):
        Labelled().fit(X)
    with pytest.raises(InputError, match="one label per row"):
        Labelled().fit(X, [0, 1])
    with pytest.raises(InputError, match="NaN"):
        Labelled().fit(X, [0.0, 1.0, np.nan, 1.0])
    assert Labelled().fit(X, [1, 1, 0, 1]).predict(X).tolist() == [1, 1, 1, 1]


# --- streaming -----------------------------------------------------------------------------


def test_streaming_validates_one_observation() -> None:
    with pytest.raises(InputError, match="not finite"):
        Counter().learn_one({"a": None})  # None is missing; Counter does not handle missing
    for bad in ({}, [("a", 1.0)], {1: 1.0}, {"a": "x"}, {"a": np.inf}):
        with pytest.raises(InputError):
            Counter().learn_one(bad)  # type: ignore[arg-type]


def test_streaming_learns_and_scores_by_channel() -> None:
    c = Counter()
    result = c.learn_one({"a": 1.0, "b": 2})  # type: ignore[func-returns-value]
    assert result is None  # river's convention
    assert c.n_learned_ == 1
    assert c.last_ == {"a": 1.0, "b": 2.0}
    assert c.score_one({"a": 0.0, "c": 1.0, "d": 2.0}) == 3.0


def test_streaming_checks_params_on_first_learn_one() -> None:
    c = Counter(limit=0)
    with pytest.raises(InvalidParameterError, match="'limit'"):
        c.learn_one({"a": 1.0})


def test_streaming_validation_fast_path_keeps_every_rule() -> None:
    # finite values whose sum overflows are still accepted; numpy scalars and ints convert
    c = Counter()
    c.learn_one({"a": 1e308, "b": 1e308, "c": np.float32(2.0), "d": 3})
    assert c.last_ == {"a": 1e308, "b": 1e308, "c": 2.0, "d": 3.0}
    for bad, match in (
        ({"a": 1.0, "b": np.nan}, "not finite"),
        ({"a": 1.0, "b": -np.inf}, "not finite"),
        ({"a": 1.0, 2: 1.0}, "channel ids must be str"),
        ({"a": 1.0, "b": "x"}, "not numeric"),
        ({"a": 1.0, "b": None}, "not finite"),
    ):
        with pytest.raises(InputError, match=match):
            Counter().learn_one(bad)  # type: ignore[arg-type]

    class Missing(Counter):  # handles_missing decided per instance
        def _dynamic_tags(self) -> dict[str, Any]:
            return {"handles_missing": True}

    m = Missing()
    m.learn_one({"a": None, "b": 1.0})
    assert np.isnan(m.last_["a"])
    assert m.last_["b"] == 1.0
    with pytest.raises(InputError, match="not finite"):
        m.learn_one({"a": np.inf})


def test_class_tags_are_merged_once_per_class() -> None:
    assert get_tags(Counter) is get_tags(Counter)
    assert get_tags(Counter()) is get_tags(Counter)  # no dynamic tags: the cached merge
