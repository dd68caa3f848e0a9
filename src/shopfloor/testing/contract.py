"""The contract-test kit: one set of checks every component must pass (like scikit-learn's
``check_estimator``).

Run all checks on an instance with :func:`check_component`, or, under pytest, one test per
check with :func:`parametrize_with_checks`::

    @parametrize_with_checks([TimeIndicators(), MyScorer(window=8)])
    def test_contract(component, check):
        check(component)

Each check gets a fresh :func:`~sklearn.base.clone` of the component, with ``random_state``
set to 0 where the component has one. Checks are chosen from the component's base classes and
tags; a component can skip a check only by naming it, with a reason, in its
``skipped_checks`` tag.

The kit feeds small generated inputs: windows of shape (8, 1024) for ``input_kind="windows"``,
tables of 64 rows and 3 channels ``c0``, ``c1``, ``c2`` (1 when not multivariate) for
``"table"``, and 0/1 labels where ``needs_labels``.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone

from shopfloor.core import persistence
from shopfloor.core.base import (
    ISO_BLOCKS,
    AnomalyScorer,
    Classifier,
    Component,
    InvalidParameterError,
    Predictor,
    StreamingMixin,
    Tags,
    Transformer,
    get_tags,
    make_constraint,
)
from shopfloor.core.errors import InputError, NotFittedError

if TYPE_CHECKING:
    import pytest

__all__ = [
    "Check",
    "CheckResult",
    "ContractError",
    "check_component",
    "iter_checks",
    "parametrize_with_checks",
]

N_ROWS, N_CHANNELS, WINDOW_LENGTH, N_WINDOWS = 64, 3, 1024, 8
# Public batch methods, by base class; the first that applies gives a component's output.
_BATCH_OUTPUTS: tuple[tuple[type[Component], str], ...] = (
    (Transformer, "transform"),
    (AnomalyScorer, "score_samples"),
    (Predictor, "predict"),
)


class ContractError(AssertionError):
    """A component breaks the contract; the message lists every failed check."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``status`` is ``"passed"``, ``"failed"`` or ``"skipped"``."""

    name: str
    status: str
    message: str = ""


@dataclass(frozen=True)
class Check:
    """A named check; call it with a component (it works on a clone)."""

    name: str
    func: Callable[[Component], None]
    skip_reason: str | None = None

    def __call__(self, component: Component) -> None:
        self.func(_prepared(component))


# --- inputs and outputs ------------------------------------------------------------------


def _prepared(component: Component) -> Component:
    fresh: Component = clone(component)
    if "random_state" in fresh.get_params(deep=False):
        fresh.set_params(random_state=0)
    return fresh


def _data(
    source: Component | Tags, seed: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any] | None]:
    """Test input for a component: its own ``_contract_data(seed)`` when the class defines one
    (components whose columns have a meaning, e.g. physics features), else generic data."""
    if isinstance(source, Component):
        from shopfloor.testing.contract_data import contract_data_for

        own = contract_data_for(type(source))
        if own is not None:
            x, y = own(seed)
            return np.asarray(x, dtype=np.float64), None if y is None else np.asarray(y)
        tags = get_tags(source)
    else:
        tags = source
    rng = np.random.default_rng(seed)
    if tags.input_kind == "windows":
        t = np.arange(WINDOW_LENGTH) / WINDOW_LENGTH
        tone = np.sin(2 * np.pi * 37 * t)  # a tone plus noise: both spectra and moments matter
        x = tone + rng.normal(0.0, 0.5, (N_WINDOWS, WINDOW_LENGTH))
    else:
        x = rng.normal(0.0, 1.0, (N_ROWS, N_CHANNELS if tags.multivariate else 1))
    labels: npt.NDArray[Any] | None = (np.arange(x.shape[0]) % 2) if tags.needs_labels else None
    return x, labels


def _frame(x: npt.NDArray[np.float64]) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=x.shape[0], freq="s", tz="UTC")
    return pd.DataFrame(x, index=index, columns=[f"c{i}" for i in range(x.shape[1])])


def _rows(x: npt.NDArray[np.float64]) -> list[dict[str, float]]:
    return [{f"c{i}": float(v) for i, v in enumerate(row)} for row in x]


def _batch_method(component: Component) -> str | None:
    return next((m for base, m in _BATCH_OUTPUTS if isinstance(component, base)), None)


def _fit_output(component: Component, x: npt.NDArray[np.float64], y: Any) -> npt.NDArray[Any]:
    """Fit (batch, or learn_one over rows for streaming-only components); output on ``x``."""
    method = _batch_method(component)
    if method is not None:
        component.fit(x, y)
        return np.asarray(getattr(component, method)(x))
    assert isinstance(component, StreamingMixin)
    rows = _rows(x)
    for row in rows:
        component.learn_one(row)
    return np.array([component.score_one(row) for row in rows])


def _output(component: Component, x: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    method = _batch_method(component)
    if method is not None:
        return np.asarray(getattr(component, method)(x))
    assert isinstance(component, StreamingMixin)
    return np.array([component.score_one(row) for row in _rows(x)])


def _assert_same(a: npt.NDArray[Any], b: npt.NDArray[Any], what: str) -> None:
    assert a.shape == b.shape, f"{what}: shapes differ, {a.shape} vs {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def _same_value(a: object, b: object) -> bool:
    if a is b:
        return True
    if isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator):
        return bool(a.bit_generator.state == b.bit_generator.state)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, Component) and isinstance(b, Component):
        return type(a) is type(b) and _same_params(a, b)
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return repr(a) == repr(b)


def _same_params(a: Component, b: Component) -> bool:
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    return pa.keys() == pb.keys() and all(_same_value(pa[k], pb[k]) for k in pa)


# --- the checks ----------------------------------------------------------------------------


class _Unusual:
    """A value no constraint accepts (unless it allows anything)."""

    def __repr__(self) -> str:
        return "<unusual value>"


def check_init_stores_params(component: Component) -> None:
    """``__init__`` stores each parameter unchanged and nothing else, and validates nothing."""
    params = component.get_params(deep=False)
    cls = type(component)
    rebuilt = cls(**params)
    extra = sorted(set(vars(rebuilt)) - set(params))
    assert not extra, f"__init__ sets attributes other than its parameters: {extra}"
    for name, value in params.items():
        assert getattr(rebuilt, name) is value, (
            f"__init__ changed parameter {name!r} (got {getattr(rebuilt, name)!r}, "
            f"passed {value!r}): store it unchanged, derive in fit"
        )
    unusual = {name: _Unusual() for name in params}
    try:
        cls(**unusual)
    except Exception as exc:  # any exception here is the finding
        raise AssertionError(
            f"__init__ raised {type(exc).__name__}: {exc} on unusual values: validation "
            "belongs in fit (via _parameter_constraints), not in __init__"
        ) from exc


def check_params_declared(component: Component) -> None:
    """Every parameter has a constraint entry, and every entry is a parameter."""
    params = set(component.get_params(deep=False))
    declared = set(component._parameter_constraints)
    assert params <= declared, f"parameters without constraints: {sorted(params - declared)}"
    assert declared <= params, f"constraints for unknown parameters: {sorted(declared - params)}"


def check_clone(component: Component) -> None:
    """``clone`` reproduces the parameters; a clone of a fitted component is unfitted."""
    twin = clone(component)
    assert type(twin) is type(component)
    assert _same_params(twin, component), "clone changed parameters"
    x, y = _data(component)
    _fit_output(component, x, y)
    fresh = clone(component)
    learned = [k for k in vars(fresh) if k.endswith("_") and not k.startswith("__")]
    assert not learned, f"a clone of a fitted component carries learned state {learned}"


def _first_call(component: Component, x: npt.NDArray[np.float64], y: Any) -> None:
    if _batch_method(component) is not None:
        component.fit(x, y)
    else:
        assert isinstance(component, StreamingMixin)
        component.learn_one(_rows(x)[0])


def check_bad_params_rejected(component: Component) -> None:
    """Each parameter set to a value outside its constraints makes fit raise
    :class:`InvalidParameterError` naming the parameter."""
    x, y = _data(component)
    for name, entries in component._parameter_constraints.items():
        constraints = [make_constraint(c) for c in entries]
        unusual = _Unusual()
        assert not any(c.is_satisfied_by(unusual) for c in constraints), (
            f"the constraints of {name!r} accept any value; declare what is allowed"
        )
        candidates = [unusual, *(v for c in constraints for v in c.invalid_examples())]
        for value in candidates:
            if any(c.is_satisfied_by(value) for c in constraints):
                continue  # allowed by another constraint of the same parameter
            bad = clone(component).set_params(**{name: value})
            try:
                _first_call(bad, x, y)
            except InvalidParameterError as exc:
                named = exc.parameter
            else:
                raise AssertionError(f"{name}={value!r} was accepted by fit; allowed: {entries}")
            assert named == name, f"{name}={value!r}: the error names {named!r} instead"


def check_not_fitted(component: Component) -> None:
    """Using an unfitted component raises NotFittedError (not AttributeError or garbage)."""
    x, _ = _data(component)
    calls: list[tuple[str, Callable[[], object]]] = []
    method = _batch_method(component)
    if method is not None:
        calls.append((method, partial(getattr(component, method), x)))
    if isinstance(component, Transformer):
        calls.append(("get_feature_names_out", component.get_feature_names_out))
    if isinstance(component, StreamingMixin):
        calls.append(("score_one", lambda: component.score_one(_rows(x)[0])))
    for name, call in calls:
        try:
            call()
        except NotFittedError:
            continue
        except Exception as exc:
            raise AssertionError(
                f"unfitted {name} raised {type(exc).__name__}: {exc}, not NotFittedError"
            ) from exc
        raise AssertionError(f"unfitted {name} returned a result instead of NotFittedError")


def check_fit_returns_self(component: Component) -> None:
    """``fit`` returns the component itself and leaves its parameters alone."""
    before = clone(component)
    x, y = _data(component)
    assert component.fit(x, y) is component, "fit must return self"
    assert _same_params(before, component), "fit changed a hyperparameter"


def check_refit(component: Component) -> None:
    """Fitting again on the same data gives the same result (no state leaks between fits)."""
    x1, y1 = _data(component, seed=0)
    x2, y2 = _data(component, seed=1)
    first = _fit_output(component, x1, y1)
    component.fit(x2, y2)
    again = _fit_output(component, x1, y1)
    _assert_same(first, again, "output after refitting on the same data")


def check_deterministic(component: Component) -> None:
    """Two fresh fits with the same ``random_state`` (0) give identical results."""
    x, y = _data(component)
    a = _fit_output(_prepared(component), x, y)
    b = _fit_output(_prepared(component), x, y)
    _assert_same(a, b, "outputs of two fits with the same seed")


def check_output_shape(component: Component) -> None:
    """Outputs have one row per input row; DataFrame in gives DataFrame out for transformers."""
    tags = get_tags(component)
    x, y = _data(component)
    out = _fit_output(component, x, y)
    n = x.shape[0]
    if isinstance(component, Transformer):
        assert out.ndim == 2, f"transform gave shape {out.shape}, expected 2-D"
        assert out.shape[0] == n, f"transform gave {out.shape[0]} rows for {n}"
        names = component.get_feature_names_out()
        if names is not None:
            assert len(names) == out.shape[1], f"{len(names)} names for {out.shape[1]} columns"
        frame = component.transform(_frame(x) if tags.input_kind == "table" else pd.DataFrame(x))
        assert isinstance(frame, pd.DataFrame), "transform(DataFrame) must return a DataFrame"
        assert frame.shape == out.shape, f"DataFrame output {frame.shape} vs array {out.shape}"
    else:
        assert out.shape == (n,), f"expected one output per row, shape ({n},), got {out.shape}"
    if out.dtype.kind == "f" and not tags.handles_missing:
        assert np.isfinite(out).all(), "output has NaN or infinite values on clean input"


def check_persistence(component: Component) -> None:
    """Save and load (trusted) through core.persistence reproduce parameters and outputs."""
    x, y = _data(component)
    expected = _fit_output(component, x, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.sfmodel"
        persistence.save(component, path)
        loaded = persistence.load(path, trusted=True, expected_class=type(component))
    assert _same_params(loaded, component), "parameters changed through save/load"
    _assert_same(expected, _output(loaded, x), "output after save/load")
    pickle.dumps(loaded)  # still picklable for multiprocessing


def check_input_not_mutated(component: Component) -> None:
    """Neither fitting nor output changes the caller's array."""
    x, y = _data(component)
    original = x.copy()
    _fit_output(component, x, y)
    np.testing.assert_array_equal(x, original, err_msg="the component modified its input")


def check_rejects_nan(component: Component) -> None:
    """Without ``handles_missing``, NaN input is a clear InputError, never silent garbage."""
    x, y = _data(component)
    x_nan = x.copy()
    x_nan[1, 0] = np.nan
    calls: list[Callable[[], object]] = []
    if _batch_method(component) is not None:
        calls.append(lambda: clone(component).fit(x_nan, y))
        fitted = clone(component).fit(x, y)
        calls.append(lambda: _output(fitted, x_nan))
    if isinstance(component, StreamingMixin):
        calls.append(lambda: clone(component).learn_one({"c0": float("nan")}))
    for call in calls:
        try:
            call()
        except InputError:
            continue
        raise AssertionError("NaN input was accepted without handles_missing")


def check_tags(component: Component) -> None:
    """Tags parse, name an ISO block (the one the module lives in) and match the class."""
    tags = get_tags(component)
    assert tags.iso_block in ISO_BLOCKS, f"declare iso_block, one of {ISO_BLOCKS}"
    parts = type(component).__module__.split(".")
    if parts[0] == "shopfloor" and len(parts) > 1 and parts[1] in ISO_BLOCKS:
        assert tags.iso_block == parts[1], f"iso_block {tags.iso_block!r} in {parts[1]}/"
    assert tags.streaming == isinstance(component, StreamingMixin), (
        "the streaming tag must match the StreamingMixin base"
    )


def check_channels_appear_vanish(component: Component) -> None:
    """Streaming: channels appearing and vanishing between calls are ordinary."""
    assert isinstance(component, StreamingMixin)
    x, _ = _data(Tags(input_kind="table", multivariate=True))
    rows = _rows(x)
    for row in rows[:32]:
        component.learn_one(row)
    variants = [{"c0": 0.1}, {"c0": 0.1, "c1": -0.2}, {**rows[0], "c_new": 0.3}, {"c_new": 1.0}]
    for row in variants:
        score = component.score_one(row)
        assert np.isfinite(score), f"score_one({row}) gave {score}"
        component.learn_one(row)
    assert np.isfinite(component.score_one(rows[1])), "score after channel changes is not finite"


def check_streaming_matches_batch(component: Component) -> None:
    """learn_one over all rows then score_one equals fit then score_samples."""
    assert isinstance(component, AnomalyScorer)
    assert isinstance(component, StreamingMixin)
    x, y = _data(component)
    frame = _frame(x)
    batch = clone(component).fit(frame, y).score_samples(frame)
    stream = clone(component)
    rows = _rows(x)
    for row in rows:
        stream.learn_one(row)
    online = np.array([stream.score_one(row) for row in rows])
    np.testing.assert_allclose(online, batch, rtol=1e-6, atol=1e-9, err_msg="stream vs batch")


# --- selection and running -----------------------------------------------------------------

_COMMON: tuple[Callable[[Component], None], ...] = (
    check_init_stores_params,
    check_params_declared,
    check_tags,
    check_clone,
    check_bad_params_rejected,
    check_not_fitted,
    check_output_shape,
    check_deterministic,
    check_input_not_mutated,
    check_persistence,
)


# --- classifier checks ----------------------------------------------------------------------


def check_classifier_probabilities(component: Component) -> None:
    """``predict_proba`` rows are probabilities summing to one over ``classes_``; ``predict``
    returns only ``classes_`` (or the declared ``abstain_label``) and agrees with the most
    probable class wherever it does not abstain."""
    assert isinstance(component, Classifier)
    x, y = _data(component)
    component.fit(x, y)
    proba = np.asarray(component.predict_proba(x))
    classes = np.asarray(component.classes_)
    assert proba.shape == (x.shape[0], classes.size), (
        f"predict_proba shape {proba.shape}, expected ({x.shape[0]}, {classes.size})"
    )
    assert np.all(proba >= -1e-12), "negative probabilities"
    assert np.all(proba <= 1 + 1e-12), "probabilities above 1"
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6, err_msg="rows must sum to 1")
    pred = np.asarray(component.predict(x)).astype(str)
    allowed = {str(c) for c in classes}
    abstain = get_tags(component).abstain_label
    extra = set(pred) - allowed - ({abstain} if abstain else set())
    assert not extra, f"predict returned labels outside classes_: {sorted(extra)}"
    decided = pred != (abstain or "\0")
    top = classes[np.argmax(proba, axis=1)].astype(str)
    assert np.array_equal(pred[decided], top[decided]), "predict disagrees with predict_proba"


def check_classifier_predict_is_pure(component: Component) -> None:
    """``predict`` / ``predict_proba`` leave the fitted model unchanged (same pickled state)."""
    assert isinstance(component, Classifier)
    x, y = _data(component)
    component.fit(x, y)
    before = pickle.dumps(component)
    component.predict(x)
    component.predict_proba(x)
    assert pickle.dumps(component) == before, "predict changed the fitted model"


def check_classifier_one_row(component: Component) -> None:
    """A single row is predicted like the same row inside a batch."""
    assert isinstance(component, Classifier)
    x, y = _data(component)
    component.fit(x, y)
    one = np.asarray(component.predict_proba(x[:1]))
    assert one.shape == (1, np.asarray(component.classes_).size)
    np.testing.assert_allclose(one[0], np.asarray(component.predict_proba(x))[0], atol=1e-9)
    assert np.asarray(component.predict(x[:1])).shape == (1,)


def check_get_params_deep(component: Component) -> None:
    """``get_params(deep=True)`` works and contains every shallow parameter unchanged."""
    deep = component.get_params(deep=True)
    shallow = component.get_params(deep=False)
    assert set(shallow) <= set(deep)
    assert all(_same_value(deep[k], v) for k, v in shallow.items())


def _applicable(component: Component, tags: Tags) -> Iterator[Callable[[Component], None]]:
    yield from _COMMON
    batch = _batch_method(component) is not None
    if batch:
        yield check_fit_returns_self
        yield check_refit
    if not tags.handles_missing:
        yield check_rejects_nan
    yield check_get_params_deep
    if isinstance(component, Classifier):
        yield check_classifier_probabilities
        yield check_classifier_predict_is_pure
        yield check_classifier_one_row
    if isinstance(component, StreamingMixin):
        yield check_channels_appear_vanish
        if isinstance(component, AnomalyScorer) and tags.streaming_matches_batch:
            yield check_streaming_matches_batch
    # Role checks for detection (thresholds, alarm logic, scorer index) live in their own module.
    from shopfloor.testing.detection_checks import detection_checks

    yield from detection_checks(component, tags)
    # Prognostics checks (intervals, coverage, grouped calibration) likewise.
    from shopfloor.testing.prognostics import prognostics_checks

    yield from prognostics_checks(component)


def iter_checks(component: Component) -> Iterator[Check]:
    """The checks that apply to ``component``, given its base classes and tags."""
    tags = get_tags(component)
    skipped = dict(tags.skipped_checks)
    known = set()
    for func in _applicable(component, tags):
        known.add(func.__name__)
        reason = skipped.get(func.__name__)
        if reason is None and tags.non_deterministic and func in (check_deterministic, check_refit):
            reason = "tagged non_deterministic"
        yield Check(func.__name__, func, reason)
    unknown = sorted(set(skipped) - known)
    if unknown:
        raise ValueError(f"skipped_checks names unknown checks {unknown}; known: {sorted(known)}")


def check_component(component: Component, *, raise_on_failure: bool = True) -> list[CheckResult]:
    """Run every applicable check on ``component``.

    Parameters
    ----------
    component:
        An (unfitted) instance; it is not modified, each check works on a clone.
    raise_on_failure:
        Raise :class:`ContractError` listing all failures (default); else only report them.

    Returns
    -------
    list of CheckResult
        One per check, in order.
    """
    results: list[CheckResult] = []
    for check in iter_checks(component):
        if check.skip_reason is not None:
            results.append(CheckResult(check.name, "skipped", check.skip_reason))
            continue
        try:
            check(component)
        except Exception as exc:  # report every failure, not just the first
            results.append(CheckResult(check.name, "failed", f"{type(exc).__name__}: {exc}"))
        else:
            results.append(CheckResult(check.name, "passed"))
    failed = [r for r in results if r.status == "failed"]
    if failed and raise_on_failure:
        lines = "\n".join(f"  {r.name}: {r.message}" for r in failed)
        raise ContractError(f"{component!r} fails {len(failed)} contract checks:\n{lines}")
    return results


def parametrize_with_checks(components: Iterable[Component]) -> pytest.MarkDecorator:
    """A ``pytest.mark.parametrize`` over (component, check) pairs, ids ``Repr-check_name``.

    Checks a component skips (by tag) are marked skipped with their reason.
    """
    import pytest  # a test-time dependency; keep the library importable without it

    params = []
    for component in components:
        for check in iter_checks(component):
            marks = [pytest.mark.skip(reason=check.skip_reason)] if check.skip_reason else []
            name = " ".join(repr(component).split())  # one line, whatever the repr
            params.append(pytest.param(component, check, id=f"{name}-{check.name}", marks=marks))
    return pytest.mark.parametrize(("component", "check"), params)
