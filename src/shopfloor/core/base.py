"""The one contract for everything that learns, after scikit-learn.

A :class:`Component` is a :class:`sklearn.base.BaseEstimator`, so ``get_params``,
``set_params`` and :func:`sklearn.base.clone` work. The rules:

* ``__init__`` stores keyword hyperparameters unchanged: no checks, no derived state.
* Public methods (``fit``, ``transform``, ``score_samples``, ``predict``, ``learn_one``,
  ``score_one``) live once, in the base classes below. They check the parameters against the
  class's ``_parameter_constraints`` table, check the input, then call a private hook
  (``_fit``, ``_transform``, ``_score``, ``_predict``, ``_learn_one``, ``_score_one``).
  Algorithm code does not re-validate.
* Learned state ends in ``_``; using an unfitted component raises
  :class:`~shopfloor.core.errors.NotFittedError`.
* Capabilities are declared as :class:`Tags` (class attribute ``_tags``, merged along the class
  hierarchy) and read with :func:`get_tags`.

A minimal transformer:

>>> class Offset(Transformer):
...     _parameter_constraints = {"by": [Interval(float, None, None)]}
...     def __init__(self, by=0.0):
...         self.by = by
...     def _transform(self, x):
...         return x + self.by
>>> Offset(by=1.5).fit([[0.0, 1.0]]).transform([[0.0, 1.0]])
array([[1.5, 2.5]])
>>> try:
...     Offset(by="one").fit([[0.0, 1.0]])
... except InvalidParameterError as err:
...     print(err)
The 'by' parameter of Offset must be a float in the range (-inf, inf). Got 'one' instead.
"""

from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator

if TYPE_CHECKING:
    # scikit-learn ships no type stubs: deriving from its untyped class would make every
    # component an ``Any`` subclass, and mypy would then miss a misspelt hook (``_transfrom``)
    # or a missing abstract one. mypy sees this typed stand-in; at run time it is BaseEstimator.
    class _EstimatorBase:
        def get_params(self, deep: bool = True) -> dict[str, Any]: ...
        def set_params(self, **params: Any) -> Self: ...

else:
    _EstimatorBase = BaseEstimator

from shopfloor.core.constraints import (
    Constraint,
    ConstraintLike,
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    RandomStateLike,
    Subset,
    as_generator,
    make_constraint,
    validate_params,
)
from shopfloor.core.errors import InputError, NotFittedError

__all__ = [
    "ISO_BLOCKS",
    "AnomalyScorer",
    "Classifier",
    "Component",
    "Constraint",
    "ConstraintLike",
    "FloatArray",
    "InstanceOf",
    "Interval",
    "InvalidParameterError",
    "Options",
    "Predictor",
    "RandomStateLike",
    "StreamingMixin",
    "Subset",
    "Tags",
    "Transformer",
    "as_generator",
    "check_is_fitted",
    "get_tags",
    "make_constraint",
    "validate_params",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

#: ISO 13374 blocks a component can belong to (plus ``control``, the sibling chain).
ISO_BLOCKS = (
    "acquisition",
    "manipulation",
    "detection",
    "assessment",
    "prognostics",
    "advisory",
    "control",
)
#: ``windows``: rows are windows of one signal, columns consecutive samples.
#: ``table``: rows are observations (time steps, windows), columns are channels or features.
#: ``unit_sequences``: rows are time steps of several units (see core/prognostics.py).
INPUT_KINDS = ("windows", "table", "unit_sequences")


# --- tags -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tags:
    """What a component can do, declared by its class and read with :func:`get_tags`.

    Attributes
    ----------
    iso_block: the ISO 13374 block it belongs to (one of :data:`ISO_BLOCKS`), "" if undeclared.
    input_kind: ``"windows"`` or ``"table"`` (see :data:`INPUT_KINDS`).
    multivariate: accepts several channels (table: several columns).
    handles_missing: accepts NaN in its input (otherwise NaN is an :class:`InputError`).
    streaming: offers ``learn_one`` / ``score_one``.
    needs_labels: ``fit`` needs ``y``.
    optional_dependency: importable module name the component needs beyond the core install.
    non_deterministic: results differ between runs even with a fixed ``random_state``.
    stateless: ``fit`` learns nothing from the data (it only records the input schema).
    fixed_input_width: later calls must have as many columns as ``fit`` saw.
    streaming_matches_batch: ``learn_one`` over rows then ``score_one`` equals ``fit`` then
        ``score_samples`` (false for order-dependent learners such as exponential forgetting).
    skipped_checks: ``(check name, reason)`` pairs the contract kit must skip.
    abstain_label: label a classifier's ``predict`` may return instead of one of its
        ``classes_`` when no class is likely enough (diagnosers: ``"unknown"``); None if never.
    """

    iso_block: str = ""
    input_kind: str = "table"
    multivariate: bool = False
    handles_missing: bool = False
    streaming: bool = False
    needs_labels: bool = False
    optional_dependency: str | None = None
    non_deterministic: bool = False
    stateless: bool = False
    fixed_input_width: bool = True
    streaming_matches_batch: bool = True
    skipped_checks: tuple[tuple[str, str], ...] = ()
    abstain_label: str | None = None

    def __post_init__(self) -> None:
        if self.iso_block not in ("", *ISO_BLOCKS):
            raise ValueError(f"iso_block must be one of {ISO_BLOCKS}, got {self.iso_block!r}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")


_TAG_NAMES = frozenset(f.name for f in fields(Tags))


def get_tags(component: Component | type[Component]) -> Tags:
    """The tags of a component class or instance.

    ``_tags`` dicts are merged from the most general class to the most specific; an instance
    adds what its ``_dynamic_tags()`` returns (tags that depend on parameters).
    """
    if isinstance(component, type):
        return _class_tags(component)
    cls = type(component)
    dynamic = component._dynamic_tags()
    if not dynamic:
        return _class_tags(cls)
    return _merge_tags(cls, dynamic)


# Class tags are declared once, at class definition, so their merge along the MRO is cached
# per class: streaming hooks read them on every sample.
_CLASS_TAGS: dict[type, Tags] = {}


def _class_tags(cls: type) -> Tags:
    tags = _CLASS_TAGS.get(cls)
    if tags is None:
        tags = _CLASS_TAGS[cls] = _merge_tags(cls, {})
    return tags


def _merge_tags(cls: type, dynamic: dict[str, Any]) -> Tags:
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if issubclass(klass, Component):
            merged.update(vars(klass).get("_tags", {}))
    merged.update(dynamic)
    unknown = sorted(set(merged) - _TAG_NAMES)
    if unknown:
        raise TypeError(
            f"{cls.__name__} declares unknown tags {unknown}; known: {sorted(_TAG_NAMES)}"
        )
    return Tags(**merged)


# --- fitted state ---------------------------------------------------------------------------


def check_is_fitted(component: object, method: str = "this method") -> None:
    """Raise :class:`NotFittedError` unless ``component`` has learned state (``name_``)."""
    fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(component))
    if not fitted:
        name = type(component).__name__
        raise NotFittedError(
            f"This {name} instance is not fitted yet: call fit (or learn_one) before {method}."
        )


# --- base classes ---------------------------------------------------------------------------


class Component(_EstimatorBase, metaclass=ABCMeta):
    """Base of everything that learns. Subclass :class:`Transformer`, :class:`AnomalyScorer`,
    :class:`Predictor` and/or :class:`StreamingMixin` rather than this class directly.

    Class attributes
    ----------------
    _parameter_constraints: ``{parameter: [constraint, ...]}``; every ``__init__`` parameter
        must appear. Checked at ``fit`` / first ``learn_one``, never in ``__init__``.
    _tags: partial :class:`Tags` as a dict, merged along the class hierarchy.
    """

    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {}
    _tags: ClassVar[dict[str, Any]] = {}

    # Overrides BaseEstimator._validate_params on purpose: same table name, our constraints.
    def _validate_params(self) -> None:
        validate_params(
            self.get_params(deep=False), self._parameter_constraints, owner=type(self).__name__
        )

    def _dynamic_tags(self) -> dict[str, Any]:
        """Tags that depend on parameter values; merged over the class's ``_tags``."""
        return {}

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        """Parameter sets the contract kit builds instances from (fast, small settings)."""
        return [{}]

    def _validate_input(self, x: object, *, reset: bool) -> FloatArray:
        """``x`` as a float64 2-D array, checked against the tags; unless ``reset`` (i.e. in
        ``fit``), also checked against the schema seen by ``fit``."""
        tags = get_tags(self)
        owner = type(self).__name__
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{owner}: input is not numeric: {exc}") from exc
        if arr.ndim != 2:
            hint = "n_windows, n_samples" if tags.input_kind == "windows" else "n_rows, n_channels"
            raise InputError(f"{owner}: expected a 2-D array ({hint}), got shape {arr.shape}")
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise InputError(f"{owner}: input is empty, shape {arr.shape}")
        if tags.input_kind == "table" and not tags.multivariate and arr.shape[1] != 1:
            raise InputError(f"{owner} is univariate: expected 1 column, got {arr.shape[1]}")
        _check_finite(arr, allow_nan=tags.handles_missing, owner=owner)
        if not reset:
            self._check_schema(arr, _column_names(x, tags), tags)
        return arr

    def _check_schema(self, arr: FloatArray, names: list[str] | None, tags: Tags) -> None:
        owner = type(self).__name__
        # A component fitted through learn_one only has no batch schema to compare with.
        expected: int | None = getattr(self, "n_features_in_", None)
        if tags.fixed_input_width and expected is not None and arr.shape[1] != expected:
            raise InputError(f"{owner} was fitted on {expected} columns, got {arr.shape[1]}")
        fitted_names: list[str] | None = getattr(self, "feature_names_in_", None)
        if fitted_names is not None and names is not None and names != fitted_names:
            raise InputError(f"{owner} was fitted on columns {fitted_names}, got {names}")

    def _validate_labels(self, y: object, n_rows: int) -> npt.NDArray[Any] | None:
        if y is None:
            if get_tags(self).needs_labels:
                raise InputError(f"{type(self).__name__} needs labels: call fit(x, y)")
            return None
        arr = np.asarray(y)
        if arr.ndim != 1 or arr.shape[0] != n_rows:
            raise InputError(
                f"{type(self).__name__}: y must be 1-D with one label per row ({n_rows}), "
                f"got shape {arr.shape}"
            )
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise InputError(f"{type(self).__name__}: y contains NaN or infinite values")
        return arr

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        """Learn from validated input. The default learns nothing (stateless components)."""

    def fit(self, x: object, y: object = None) -> Self:
        """Learn from ``x`` (2-D array or DataFrame); ``y`` is used where ``needs_labels``.

        Records ``n_features_in_`` (and ``feature_names_in_`` for a table given as a
        DataFrame) before the hook runs, so ``_fit`` may use them, and removes them again if
        the hook fails, so a failed fit does not look fitted.

        Returns
        -------
        self
        """
        self._validate_params()
        arr = self._validate_input(x, reset=True)
        labels = self._validate_labels(y, arr.shape[0])
        self.n_features_in_: int = arr.shape[1]
        names = _column_names(x, get_tags(self))
        self.__dict__.pop("feature_names_in_", None)
        if names is not None:
            self.feature_names_in_: list[str] = names
        try:
            self._fit(arr, labels)
        except BaseException:
            self.__dict__.pop("n_features_in_", None)
            self.__dict__.pop("feature_names_in_", None)
            raise
        return self


def _column_names(x: object, tags: Tags) -> list[str] | None:
    # Window columns are sample positions, not names worth checking.
    if tags.input_kind == "table" and isinstance(x, pd.DataFrame):
        return [str(c) for c in x.columns]
    return None


def _check_finite(arr: FloatArray, *, allow_nan: bool, owner: str) -> None:
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        what = "infinite" if allow_nan else "NaN or infinite"
        why = "" if allow_nan else " and this component does not handle missing values"
        raise InputError(
            f"{owner}: input contains {int(bad.sum())} {what} values (first at row {row}, "
            f"column {col}){why}; fill or drop them first"
        )


class Transformer(Component):
    """Turns a batch of windows (or a table) into features or other windows.

    ``transform`` of a DataFrame returns a DataFrame with the same index; of an array, an array.
    Hooks: ``_fit(x, y)`` (optional), ``_transform(x) -> 2-D array``,
    ``_feature_names_out() -> list[str] | None``.
    """

    _tags: ClassVar[dict[str, Any]] = {"iso_block": "manipulation", "input_kind": "windows"}

    @abstractmethod
    def _transform(self, x: FloatArray) -> FloatArray:
        """Transform validated input; return one row per input row."""

    def _feature_names_out(self) -> list[str] | None:
        return None

    def get_feature_names_out(self) -> list[str] | None:
        """Names of the output columns, or None where they have no names (e.g. samples)."""
        check_is_fitted(self, "get_feature_names_out")
        return self._feature_names_out()

    @overload
    def transform(self, x: pd.DataFrame) -> pd.DataFrame: ...
    @overload
    def transform(self, x: npt.ArrayLike) -> FloatArray: ...
    def transform(self, x: object) -> FloatArray | pd.DataFrame:
        """Transform ``x``: shape (n_rows, n_columns) in, (n_rows, n_outputs) out."""
        check_is_fitted(self, "transform")
        out = self._transform(self._validate_input(x, reset=False))
        if isinstance(x, pd.DataFrame):
            return pd.DataFrame(out, index=x.index, columns=self._feature_names_out())
        return out

    @overload
    def fit_transform(self, x: pd.DataFrame, y: object = None) -> pd.DataFrame: ...
    @overload
    def fit_transform(self, x: npt.ArrayLike, y: object = None) -> FloatArray: ...
    def fit_transform(self, x: object, y: object = None) -> FloatArray | pd.DataFrame:
        """``fit(x, y)`` then ``transform(x)``."""
        return self.fit(x, y).transform(x)  # type: ignore[no-any-return, call-overload]


class AnomalyScorer(Component):
    """Scores rows of a table; higher means more abnormal, everywhere.

    Hooks: ``_fit(x, y)`` and ``_score(x) -> 1-D array``. Thresholds are separate components.
    """

    _tags: ClassVar[dict[str, Any]] = {"iso_block": "detection", "input_kind": "table"}

    @abstractmethod
    def _score(self, x: FloatArray) -> FloatArray:
        """Anomaly score per validated row (higher = more abnormal)."""

    @overload
    def score_samples(self, x: pd.DataFrame) -> pd.Series: ...
    @overload
    def score_samples(self, x: npt.ArrayLike) -> FloatArray: ...
    def score_samples(self, x: object) -> FloatArray | pd.Series:
        """Anomaly score of each row of ``x``, shape (n_rows,); higher = more abnormal.

        A DataFrame in gives a Series on the same index (its timestamps make events).
        """
        check_is_fitted(self, "score_samples")
        scores = self._score(self._validate_input(x, reset=False))
        if isinstance(x, pd.DataFrame):
            return pd.Series(scores, index=x.index, name="score")
        return scores


class Predictor(Component):
    """Maps rows to predictions: 0/1 for thresholds, classes for diagnosis, hours for RUL.

    Hooks: ``_fit(x, y)`` and ``_predict(x) -> 1-D array``. Declare ``iso_block`` yourself.
    """

    @abstractmethod
    def _predict(self, x: FloatArray) -> npt.NDArray[Any]:
        """Prediction per validated row."""

    def predict(self, x: object) -> npt.NDArray[Any]:
        """Prediction for each row of ``x``, shape (n_rows,)."""
        check_is_fitted(self, "predict")
        return self._predict(self._validate_input(x, reset=False))


class Classifier(Predictor):
    """Assigns each row one of ``classes_``, with class probabilities.

    Hooks: ``_fit(x, y)``, which must set ``classes_`` (1-D array of class labels), and
    ``_predict_proba(x) -> (n_rows, n_classes)`` with rows summing to one. ``predict`` returns
    the most probable class; a classifier with an explicit "cannot tell" outcome overrides
    ``_predict``.
    """

    classes_: npt.NDArray[Any]  # set by ``_fit``; declared here so mypy knows it

    @abstractmethod
    def _predict_proba(self, x: FloatArray) -> FloatArray:
        """Class probabilities per validated row, columns in the order of ``classes_``."""

    def _predict(self, x: FloatArray) -> npt.NDArray[Any]:
        classes: npt.NDArray[Any] = self.classes_
        best: npt.NDArray[Any] = classes[np.argmax(self._predict_proba(x), axis=1)]
        return best

    def predict_proba(self, x: object) -> FloatArray:
        """Probability of each class in ``classes_`` for each row, shape (n_rows, n_classes)."""
        check_is_fitted(self, "predict_proba")
        return self._predict_proba(self._validate_input(x, reset=False))


class StreamingMixin(Component):
    """river's one-at-a-time API, keyed by channel: ``learn_one(x)`` and ``score_one(x)``.

    ``x`` maps channel id to a value; a channel may appear or vanish between calls and the
    hooks must cope. ``None`` or NaN values count as missing. Put the mixin first:
    ``class Scorer(StreamingMixin, AnomalyScorer)``.
    Hooks: ``_learn_one(x)`` and ``_score_one(x) -> float``.
    """

    _tags: ClassVar[dict[str, Any]] = {"streaming": True}

    @abstractmethod
    def _learn_one(self, x: dict[str, float]) -> None:
        """Update learned state from one validated observation."""

    @abstractmethod
    def _score_one(self, x: dict[str, float]) -> float:
        """Anomaly score of one validated observation (higher = more abnormal)."""

    def _channel_names(self, n_columns: int) -> list[str]:
        """Channel ids of batch columns: the DataFrame's names, else "0", "1", ... (for a
        ``_fit`` that feeds rows to ``_learn_one``)."""
        names: list[str] | None = getattr(self, "feature_names_in_", None)
        return list(names) if names is not None else [str(i) for i in range(n_columns)]

    def _validate_one(self, x: object) -> dict[str, float]:
        # The per-sample hot path of the live service: tags come from the per-class cache and
        # values are checked with math (a numpy call per value costs more than the scoring).
        if (type(x) is not dict and not isinstance(x, Mapping)) or not x:
            raise InputError(
                f"{type(self).__name__}: x must be a non-empty dict of channel -> value, got {x!r}"
            )
        try:
            # Fast path, same rules in C loops: join raises TypeError unless every channel id
            # is a str; float() raises for None (missing, handled below) and non-numbers.
            "".join(x)
            values = list(map(float, x.values()))
        except (TypeError, ValueError):
            return self._validate_one_each(x)
        # A finite sum means no value is inf or NaN; otherwise check value by value.
        if not math.isfinite(sum(values)):
            return self._validate_one_each(x)
        return dict(zip(x, values, strict=True))

    def _validate_one_each(self, x: Mapping[Any, Any]) -> dict[str, float]:
        """Value-by-value check of ``_validate_one``, naming the first bad channel or value."""
        allow_nan = get_tags(self).handles_missing
        out: dict[str, float] = {}
        for key, value in x.items():
            if type(key) is not str and not isinstance(key, str):
                raise InputError(f"{type(self).__name__}: channel ids must be str, got {key!r}")
            try:
                v = math.nan if value is None else float(value)
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"{type(self).__name__}: value is not numeric: {value!r}", column=key
                ) from exc
            if math.isinf(v) or (v != v and not allow_nan):  # v != v: NaN
                owner = type(self).__name__
                raise InputError(f"{owner}: value {value!r} is not finite", column=key)
            out[key] = v
        return out

    def learn_one(self, x: Mapping[str, float | None]) -> None:
        """Learn from one observation ``{channel: value}``. Returns None, as river does."""
        # Parameters are checked once per learning run: per-sample checks would dominate the
        # cost of cheap online updates. set_params between calls is not re-checked.
        if "n_learned_" not in vars(self):
            self._validate_params()
        self._learn_one(self._validate_one(x))
        self.n_learned_: int = vars(self).get("n_learned_", 0) + 1

    def score_one(self, x: Mapping[str, float | None]) -> float:
        """Anomaly score of one observation ``{channel: value}``; higher = more abnormal."""
        # fit records n_features_in_ and learn_one n_learned_: either proves learned state,
        # so the full scan of check_is_fitted runs only when both are absent.
        state = self.__dict__
        if "n_features_in_" not in state and "n_learned_" not in state:
            check_is_fitted(self, "score_one")
        return float(self._score_one(self._validate_one(x)))


# The prognostics contract lives in its own module (this one is near its size limit) and is
# re-exported here lazily, because that module imports this one.
_PROGNOSTICS_NAMES = ("RULPredictor", "RemainingLife", "UnitSequences", "as_unit_sequences")


def __getattr__(name: str) -> Any:
    if name in _PROGNOSTICS_NAMES:
        from shopfloor.core import prognostics

        return getattr(prognostics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
