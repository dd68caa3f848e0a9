"""Registered pipeline components: a spec names them, the registry builds them.

A component turns one window of one channel into results (features, an anomaly score, a
diagnosis, a remaining life, an alert) written into the window's ``results`` dict. It declares
the result keys it ``requires`` and ``provides``, so a spec whose chain cannot work (a diagnosis
before the features it reads) is refused on load, not after an hour of data.

New components (anomaly scorers, remaining-life models) register with :func:`component` and are
then available to every spec by name; no list to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from shopfloor.acquisition.live.fleet_config import LiveAsset
from shopfloor.core.errors import InputError


@dataclass
class Window:
    """One window of one channel and what the chain has found so far.

    samples: the channel's values over ``[start_ns, end_ns)``, physical unit.
    state: per-channel memory of each component (e.g. a confirmation counter), kept across
        windows in order, so live and backfill evolve identically.
    """

    asset: LiveAsset
    channel_id: str
    index: int
    start_ns: int
    end_ns: int
    sample_rate_hz: float
    samples: npt.NDArray[np.float64]
    state: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)


class StoredHistory(Protocol):
    """What the store holds of one channel's earlier windows (for :meth:`Component.restore`)."""

    def first(self, n: int) -> list[tuple[dict[str, Any], int]]:
        """Results and end (ns) of the channel's first ``n`` ``ok`` windows, in order."""
        ...

    def trend(self, field: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
        """Window indices, window ends (ns) and values of one numeric result field (dotted)."""
        ...

    def first_start_ns(self) -> int | None:
        """Start (ns) of the channel's first recorded window."""
        ...


FloatArray = npt.NDArray[np.float64]


class Component:
    """Base of pipeline components. ``__init__`` takes the spec's ``with:`` parameters."""

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()

    def process(self, window: Window) -> None:
        raise NotImplementedError

    def process_batch(self, windows: list[Window]) -> None:
        """Several windows (of one or more channels, each channel's in order) at once.

        The default runs :meth:`process` on each; a vectorised component overrides it (one
        feature table for many windows costs little more than for one).
        """
        for window in windows:
            self.process(window)

    def restore(self, state: dict[str, Any], history: StoredHistory) -> None:
        """Rebuild this component's per-channel memory in ``state`` after a restart, from what
        the store holds of the channel's earlier windows. The default keeps nothing (stateless
        components, or memory that is rebuilt by the next windows)."""
        return None


def run_chain(components: list[Component], windows: list[Window]) -> dict[int, str]:
    """Run the chain over windows; returns ``{position: error}`` for windows that failed.

    A failing batch is re-run window by window so one bad window cannot take its neighbours
    with it; a failed window leaves the chain (later steps do not see it).
    """
    errors: dict[int, str] = {}
    live = list(range(len(windows)))
    for comp in components:
        batch = [windows[i] for i in live]
        try:
            comp.process_batch(batch)
            continue
        except (InputError, ValueError, FloatingPointError, KeyError):
            pass
        for i in list(live):
            try:
                comp.process(windows[i])
            except (InputError, ValueError, FloatingPointError, KeyError) as exc:
                errors[i] = f"{comp.name}: {type(exc).__name__}: {exc}"
                live.remove(i)
    return errors


_C = TypeVar("_C", bound=type[Component])
_REGISTRY: dict[str, type[Component]] = {}


def component(name: str) -> Callable[[_C], _C]:
    """Class decorator: make a component available to specs as ``name``."""

    def register(cls: _C) -> _C:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"pipeline component {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return register


def known() -> dict[str, type[Component]]:
    """Every registered component by name (the built-in ones are loaded first)."""
    import shopfloor.pipelines.live.assessments
    import shopfloor.pipelines.live.components  # noqa: F401  (registers the built-ins)

    return dict(_REGISTRY)


def build(name: str, params: dict[str, Any], where: str) -> Component:
    """Instantiate a registered component; an InputError names the step and what is wrong."""
    table = known()
    cls = table.get(name)
    if cls is None:
        raise InputError(f"{where}: unknown component {name!r}; known: {', '.join(sorted(table))}")
    try:
        return cls(**params)
    except TypeError as exc:
        raise InputError(f"{where}: bad parameters for {name!r}: {exc}") from None
