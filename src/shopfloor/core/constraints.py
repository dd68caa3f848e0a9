"""Hyperparameter constraints: what values each parameter of a component may take.

A component declares ``_parameter_constraints = {name: [constraint, ...]}``; :func:`validate_params`
checks the values at ``fit`` (never in ``__init__``) and raises :class:`InvalidParameterError`
naming the parameter, the allowed values and the value given.
"""

from __future__ import annotations

import numbers
from abc import ABCMeta, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

import numpy as np

from shopfloor.core.errors import InputError


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
