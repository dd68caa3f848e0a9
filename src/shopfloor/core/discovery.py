"""Find every component by crawling the ISO 13374 block packages; no hand-kept lists.

A component is a concrete (non-abstract), public subclass of
:class:`~shopfloor.core.base.Component` defined in a module of one of the block packages
(:data:`~shopfloor.core.base.ISO_BLOCKS`). Blocks that do not exist yet are passed over.
Components whose optional dependency (tag ``optional_dependency``) is not installed, and modules
that cannot be imported for want of a third-party package, are skipped *with a reason*
(:attr:`Discovery.skipped`, and logged), never silently. Any other import error propagates: a
broken module is a bug to see, not a component to drop.

Nothing is imported until :func:`discover` or :func:`all_components` is called.

>>> names = [name for name, _ in all_components("transformer")]
>>> "TimeIndicators" in names
True
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import pkgutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType

from shopfloor.core.base import (
    ISO_BLOCKS,
    AnomalyScorer,
    Component,
    Predictor,
    StreamingMixin,
    Transformer,
    get_tags,
)
from shopfloor.core.detection_roles import AlarmLogic, Threshold

__all__ = ["KINDS", "Discovery", "SkippedComponent", "all_components", "discover"]

_log = logging.getLogger(__name__)

#: Names accepted for ``kind``, mapped to the base class they select.
KINDS: Mapping[str, type[Component]] = {
    "transformer": Transformer,
    "anomaly_scorer": AnomalyScorer,
    "predictor": Predictor,
    "streaming": StreamingMixin,
    "threshold": Threshold,
    "alarm_logic": AlarmLogic,
}


@dataclass(frozen=True)
class SkippedComponent:
    """A component class (``module.Class``) or a whole module that could not be offered."""

    name: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    """What a crawl found: ``(class name, class)`` pairs sorted by name, and what it skipped."""

    components: tuple[tuple[str, type[Component]], ...]
    skipped: tuple[SkippedComponent, ...]


def _base_for(kind: str | type[Component] | None) -> type[Component]:
    if kind is None:
        return Component
    if isinstance(kind, str):
        try:
            return KINDS[kind]
        except KeyError:
            raise ValueError(f"unknown component kind {kind!r}; known: {sorted(KINDS)}") from None
    return kind


def _missing_dependency(exc: ModuleNotFoundError, package: str) -> str | None:
    """The third-party module whose absence caused ``exc``, or None if it is our own."""
    missing = exc.name or ""
    return None if not missing or missing.split(".")[0] == package else missing


def _walk(pkg: ModuleType, package: str, skipped: list[SkippedComponent]) -> Iterator[ModuleType]:
    # Our own recursion, not pkgutil.walk_packages: that one swallows ImportErrors of
    # subpackages, and a missing module must be reported.
    infos = pkgutil.iter_modules(pkg.__path__, prefix=f"{pkg.__name__}.")
    for info in sorted(infos, key=lambda i: i.name):
        leaf = info.name.rsplit(".", 1)[1]
        if leaf in ("tests", "conftest"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            missing = _missing_dependency(exc, package)
            if missing is None:
                raise
            skipped.append(SkippedComponent(info.name, f"module needs {missing!r}: {exc}"))
            continue
        yield module
        if info.ispkg:
            yield from _walk(module, package, skipped)


def _modules(package: str, skipped: list[SkippedComponent]) -> Iterator[ModuleType]:
    for block in ISO_BLOCKS:
        name = f"{package}.{block}"
        if importlib.util.find_spec(name) is None:
            continue  # a block not written yet
        block_pkg = importlib.import_module(name)
        yield block_pkg
        yield from _walk(block_pkg, package, skipped)


def _dependency_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose parent package is missing
        return False


def discover(kind: str | type[Component] | None = None, *, package: str = "shopfloor") -> Discovery:
    """Crawl ``package``'s block subpackages for components.

    Parameters
    ----------
    kind:
        None for all; a name from :data:`KINDS` (``"transformer"``, ``"anomaly_scorer"``,
        ``"predictor"``, ``"streaming"``) or a base class to select subclasses of.
    package:
        Top-level package to crawl (a test can point this at a package of its own).

    Raises
    ------
    ValueError
        Unknown ``kind``, or two components share a class name (names are what pipeline
        specs refer to, so they must be unique).
    """
    base = _base_for(kind)
    skipped: list[SkippedComponent] = []
    found: dict[str, type[Component]] = {}
    for module in _modules(package, skipped):
        for name, obj in vars(module).items():
            if not (isinstance(obj, type) and issubclass(obj, base)):
                continue
            if obj.__module__ != module.__name__ or name.startswith("_"):
                continue  # re-exported elsewhere, or private
            if inspect.isabstract(obj):
                continue
            path = f"{obj.__module__}.{obj.__qualname__}"
            dependency = get_tags(obj).optional_dependency
            if dependency is not None and not _dependency_installed(dependency):
                skipped.append(
                    SkippedComponent(path, f"optional dependency {dependency!r} not installed")
                )
                continue
            other = found.get(name)
            if other is not None and other is not obj:
                raise ValueError(
                    f"two components are named {name!r}: {other.__module__} and {obj.__module__}"
                )
            found[name] = obj
    for item in skipped:
        _log.info("component skipped: %s (%s)", item.name, item.reason)
    return Discovery(tuple(sorted(found.items())), tuple(skipped))


def all_components(
    kind: str | type[Component] | None = None, *, package: str = "shopfloor"
) -> list[tuple[str, type[Component]]]:
    """``(class name, class)`` of every usable component, sorted by name.

    Skipped components are logged (INFO, logger ``shopfloor.core.discovery``); use
    :func:`discover` to get them with their reasons.
    """
    return list(discover(kind, package=package).components)
