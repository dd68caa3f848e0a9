"""Every discovered component passes the contract kit; discovery itself is tested here too.

Components come from crawling the ISO block packages (core/discovery.py), never from a list.
A component skipped for a missing optional dependency shows up as a skipped test with the
reason, so nothing disappears silently.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopfloor.core.base import Component, Transformer
from shopfloor.core.discovery import all_components, discover
from shopfloor.manipulation.time_indicators import TimeIndicators
from shopfloor.testing.contract import Check, parametrize_with_checks

DISCOVERED = discover()
INSTANCES = [cls(**params) for _, cls in DISCOVERED.components for params in cls._contract_params()]


@parametrize_with_checks(INSTANCES)
def test_component_contract(component: Component, check: Check) -> None:
    check(component)


def test_skipped_components_are_reported() -> None:
    if DISCOVERED.skipped:
        pytest.skip("; ".join(f"{s.name}: {s.reason}" for s in DISCOVERED.skipped))


# --- discovery -----------------------------------------------------------------------------


def test_discovery_finds_the_time_indicators() -> None:
    assert ("TimeIndicators", TimeIndicators) in all_components()
    assert ("TimeIndicators", TimeIndicators) in all_components("transformer")
    assert ("TimeIndicators", TimeIndicators) in all_components(Transformer)
    assert ("TimeIndicators", TimeIndicators) not in all_components("anomaly_scorer")
    names = [name for name, _ in all_components()]
    assert names == sorted(names)


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown component kind 'scorer'"):
        all_components("scorer")


def _write_package(root: Path, name: str, files: dict[str, str]) -> None:
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:  # each test's package is imported fresh
        if name.startswith("fakeshop"):
            del sys.modules[name]


COMPONENT = textwrap.dedent("""
    from typing import ClassVar
    import numpy as np
    from shopfloor.core.base import AnomalyScorer

    class {name}(AnomalyScorer):
        _tags: ClassVar[dict] = {tags}
        def _fit(self, x, y):
            self.center_ = x.mean(axis=0)
        def _score(self, x):
            return np.abs(x - self.center_)[:, 0]
""")


def test_crawl_skips_abstract_private_and_reexported(fake_package: Path) -> None:
    _write_package(
        fake_package,
        "fakeshop1",
        {
            "detection/__init__.py": "from fakeshop1.detection.scorers import Near\n",
            "detection/scorers.py": COMPONENT.format(name="Near", tags={})
            + "\nclass _Private(Near):\n    pass\n",
            "detection/deeper/__init__.py": "",
            "detection/deeper/more.py": COMPONENT.format(name="Deep", tags={}),
            "detection/base.py": """
                from shopfloor.core.base import AnomalyScorer
                class StillAbstract(AnomalyScorer):
                    pass
            """,
            "pipelines/__init__.py": COMPONENT.format(name="NotABlock", tags={}),
        },
    )
    found = discover(package="fakeshop1")
    assert [name for name, _ in found.components] == ["Deep", "Near"]
    assert found.skipped == ()


def test_missing_optional_dependency_is_reported_not_silent(fake_package: Path) -> None:
    _write_package(
        fake_package,
        "fakeshop2",
        {
            "detection/__init__.py": "",
            "detection/deep.py": COMPONENT.format(
                name="NeedsTorch", tags={"optional_dependency": "no_such_module_x"}
            ),
            "detection/ok.py": COMPONENT.format(name="Fine", tags={}),
            "assessment/__init__.py": "",
            "assessment/cnn.py": "import no_such_module_y\n",
        },
    )
    found = discover(package="fakeshop2")
    assert [name for name, _ in found.components] == ["Fine"]
    reasons = {s.name: s.reason for s in found.skipped}
    assert reasons["fakeshop2.detection.deep.NeedsTorch"] == (
        "optional dependency 'no_such_module_x' not installed"
    )
    assert "no_such_module_y" in reasons["fakeshop2.assessment.cnn"]


def test_broken_own_module_is_an_error_not_a_skip(fake_package: Path) -> None:
    _write_package(
        fake_package,
        "fakeshop3",
        {
            "detection/__init__.py": "",
            "detection/bad.py": "import fakeshop3.detection.missing_sibling\n",
        },
    )
    with pytest.raises(ModuleNotFoundError, match="missing_sibling"):
        discover(package="fakeshop3")


def test_duplicate_component_names_are_an_error(fake_package: Path) -> None:
    _write_package(
        fake_package,
        "fakeshop4",
        {
            "detection/__init__.py": "",
            "detection/a.py": COMPONENT.format(name="Twin", tags={}),
            "assessment/__init__.py": "",
            "assessment/b.py": COMPONENT.format(name="Twin", tags={"iso_block": "assessment"}),
        },
    )
    with pytest.raises(ValueError, match="two components are named 'Twin'"):
        discover(package="fakeshop4")


def test_importing_discovery_imports_no_blocks() -> None:
    code = (
        "import sys, shopfloor.core.discovery; "
        "print(any(m.startswith(('shopfloor.manipulation', 'shopfloor.detection')) "
        "for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
