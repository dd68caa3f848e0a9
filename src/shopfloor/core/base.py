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

import numbers
from abc import ABCMeta, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self, TypeAlias, cast, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator

from shopfloor.core.errors import InputError, NotFittedError

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
INPUT_KINDS = ("windows", "table")


class InvalidParameterError(InputError, TypeError):
    """A hyperparameter has a value outside its declared constraints.

    Subclasses both ``ValueError`` and ``TypeError`` (as scikit-learn's error does): a wrong type
    and a wrong value are reported the same way. ``parameter`` names the offending parameter.
    """

    def __init__(self, message: str, *, parameter: str) -> None:
        self.parameter = parameter
        super().__init__(message)


# --- parameter constraints ------------------------------------------------------------------


class Constraint(metaclass=ABCMeta):
    """One allowed kind of value for a hyperparameter; a parameter may list several."""

    @abstractmethod
    def is_satisfied_by(self, value: object) -> bool:
        """Whether ``value`` is allowed."""

    @abstractmethod
    def __str__(self) -> str:
        """What is allowed, phrased to follow 'must be'."""

    def invalid_examples(self) -> tuple[object, ...]:
        """Values near this constraint that it rejects (the contract kit tries them)."""
        return ()


def _is_number(value: object) -> bool:
    # bool is an int to Python, but True as "n_bins" is a mistake, not a number.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class InstanceOf(Constraint):
    """An instance of one of ``types`` (``bool`` does not count as an ``int``)."""

    def __init__(self, *types: type) -> None:
        self.types = types

    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def __str__(self) -> str:
        if self.types == (type(None),):
            return "None"
        return "an instance of " + " or ".join(t.__name__ for t in self.types)


class Interval(Constraint):
    """A number of type ``kind`` (``int`` or ``float``) between ``left`` and ``right``.

    ``None`` for a bound means unbounded. ``closed`` is ``"both"``, ``"left"``, ``"right"`` or
    ``"neither"``. A ``float`` interval accepts ints too; neither accepts ``bool`` or NaN.
    """

    def __init__(
        self,
        kind: type[int] | type[float],
        left: float | None,
        right: float | None,
        *,
        closed: str = "both",
    ) -> None:
        # Checked here because a bad constraint is a bug in the class, found at import time.
        if kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float, got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both, left, right or neither, got {closed!r}")
        if left is not None and right is not None and left > right:
            raise ValueError(f"Interval left bound {left} exceeds right bound {right}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def is_satisfied_by(self, value: object) -> bool:
        if not _is_number(value):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        v = float(value)  # type: ignore[arg-type]  # _is_number guarantees a Real
        if np.isnan(v):
            return False
        open_left = self.closed in ("right", "neither")
        open_right = self.closed in ("left", "neither")
        if self.left is not None and (v < self.left or (v == self.left and open_left)):
            return False
        return not (self.right is not None and (v > self.right or (v == self.right and open_right)))

    def __str__(self) -> str:
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        open_left = self.left is None or self.closed in ("right", "neither")
        open_right = self.right is None or self.closed in ("left", "neither")
        return (
            f"{'an' if self.kind is int else 'a'} {self.kind.__name__} in the range "
            f"{'(' if open_left else '['}{lo}, {hi}{')' if open_right else ']'}"
        )

    def invalid_examples(self) -> tuple[object, ...]:
        # Open bounds themselves are the values most likely to slip through.
        out: list[object] = [float("nan")]
        if self.left is not None:
            out += [self.left - 1] + ([self.left] if self.closed in ("right", "neither") else [])
        if self.right is not None:
            out += [self.right + 1] + ([self.right] if self.closed in ("left", "neither") else [])
        if self.kind is int:
            out.append(1.5)
        return tuple(out)


class Options(Constraint):
    """One of a fixed set of values, e.g. ``Options(str, {"outer", "inner"})``."""

    def __init__(self, kind: type, options: Iterable[object]) -> None:
        self.kind = kind
        self.options = frozenset(options)

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, self.kind) and value in self.options

    def __str__(self) -> str:
        listed = ", ".join(sorted(repr(o) for o in self.options))
        return f"a {self.kind.__name__} among {{{listed}}}"

    def invalid_examples(self) -> tuple[object, ...]:
        return ("__not_an_option__",) if self.kind is str else ()


class Subset(Constraint):
    """A non-empty list or tuple of distinct values, each among ``options``."""

    def __init__(self, options: Iterable[object]) -> None:
        self.options = frozenset(options)

    def is_satisfied_by(self, value: object) -> bool:
        if not isinstance(value, list | tuple) or not value:
            return False
        return len(set(value)) == len(value) and all(v in self.options for v in value)

    def __str__(self) -> str:
        listed = ", ".join(sorted(repr(o) for o in self.options))
        return f"a non-empty list of distinct values among {{{listed}}}"

    def invalid_examples(self) -> tuple[object, ...]:
        return ((), ("__not_an_option__",))


class RandomStateLike(Constraint):
    """A seed: ``None`` (fresh entropy), a non-negative int, or a ``numpy.random.Generator``."""

    def is_satisfied_by(self, value: object) -> bool:
        if value is None or isinstance(value, np.random.Generator):
            return True
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return False
        return int(value) >= 0

    def __str__(self) -> str:
        return "None, a non-negative int or a numpy.random.Generator"

    def invalid_examples(self) -> tuple[object, ...]:
        return (-1, "seed")


ConstraintLike: TypeAlias = Constraint | type | None


def make_constraint(constraint: ConstraintLike) -> Constraint:
    """A :class:`Constraint` from a table entry: ``None`` allows None, a type means
    ``InstanceOf(type)``."""
    if isinstance(constraint, Constraint):
        return constraint
    if constraint is None:
        return InstanceOf(type(None))
    if isinstance(constraint, type):
        return InstanceOf(constraint)
    raise TypeError(f"unknown parameter constraint {constraint!r}")


def validate_params(
    params: Mapping[str, object],
    constraints: Mapping[str, Sequence[ConstraintLike]],
    *,
    owner: str,
) -> None:
    """Check every parameter against its constraints.

    Raises
    ------
    InvalidParameterError
        A parameter's value satisfies none of its constraints.
    TypeError
        A parameter has no entry in ``constraints`` (a bug in the class, not the caller).
    """
    for name, value in params.items():
        if name not in constraints:
            raise TypeError(
                f"{owner} has no constraint for parameter {name!r}: "
                "declare it in _parameter_constraints"
            )
        allowed = [make_constraint(c) for c in constraints[name]]
        if any(c.is_satisfied_by(value) for c in allowed):
            continue
        texts = [str(c) for c in allowed]
        must = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {must}. Got {value!r} instead.",
            parameter=name,
        )


def as_generator(random_state: object) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed that satisfies :class:`RandomStateLike`.

    A Generator passed in is used as is, so repeated fits draw different numbers, as in
    scikit-learn; pass an int for repeatable fits.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)  # type: ignore[arg-type]
    raise InvalidParameterError(
        f"random_state must be {RandomStateLike()}. Got {random_state!r} instead.",
        parameter="random_state",
    )


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
        cls: type = component
        dynamic: dict[str, Any] = {}
    else:
        cls = type(component)
        # mypy cannot narrow a class with an untyped (sklearn) base; this is an instance.
        dynamic = cast(Component, component)._dynamic_tags()
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


class Component(BaseEstimator, metaclass=ABCMeta):  # type: ignore[misc]  # sklearn has no stubs
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

    def score_samples(self, x: object) -> FloatArray:
        """Anomaly score of each row of ``x``, shape (n_rows,); higher = more abnormal."""
        check_is_fitted(self, "score_samples")
        return self._score(self._validate_input(x, reset=False))


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
        owner = type(self).__name__
        if not isinstance(x, Mapping) or not x:
            raise InputError(f"{owner}: x must be a non-empty dict of channel -> value, got {x!r}")
        allow_nan = get_tags(self).handles_missing
        out: dict[str, float] = {}
        for key, value in x.items():
            if not isinstance(key, str):
                raise InputError(f"{owner}: channel ids must be str, got {key!r}")
            try:
                v = float("nan") if value is None else float(value)
            except (TypeError, ValueError) as exc:
                raise InputError(f"{owner}: value is not numeric: {value!r}", column=key) from exc
            if np.isinf(v) or (np.isnan(v) and not allow_nan):
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
        check_is_fitted(self, "score_one")
        return float(self._score_one(self._validate_one(x)))
