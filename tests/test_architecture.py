"""Imports point down: core <- ISO 13374 blocks (in order) <- pipelines/service/agents.

See docs/architecture.md. The test reads every module's imports with ``ast`` (no import needed)
and fails naming the file, line and the forbidden import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "shopfloor"

ISO_BLOCKS = ["acquisition", "manipulation", "detection", "assessment", "prognostics", "advisory"]
TOP = {"pipelines", "evaluation", "agents", "service", "cli"}

# layer -> layers it may import (besides itself)
ALLOWED: dict[str, set[str]] = {"core": set(), "__init__": set()}
for i, block in enumerate(ISO_BLOCKS):
    ALLOWED[block] = {"core", *ISO_BLOCKS[:i]}
ALLOWED["datasets"] = {"core", *ISO_BLOCKS}
ALLOWED["testing"] = {"core", *ISO_BLOCKS}
ALLOWED["control"] = {"core", *ISO_BLOCKS}
ALLOWED["evaluation"] = {"core", *ISO_BLOCKS, "datasets", "testing"}
ALLOWED["pipelines"] = {"core", *ISO_BLOCKS, "datasets", "testing", "evaluation", "control"}
ALLOWED["agents"] = {"core", *ISO_BLOCKS, "datasets", "evaluation", "control", "pipelines"}
ALLOWED["service"] = ALLOWED["agents"] | {"agents"}
ALLOWED["cli"] = ALLOWED["service"] | {"service", "__init__"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "shopfloor":
        raise ValueError(module)
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path, pkg: Path = PKG) -> str:
    rel = path.relative_to(pkg.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def shopfloor_imports(path: Path, pkg: Path = PKG) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    this = module_name(path, pkg)
    package = this if path.name == "__init__.py" else this.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return [
        (line, mod) for line, mod in found if mod == "shopfloor" or mod.startswith("shopfloor.")
    ]


def all_modules() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def test_package_has_modules() -> None:
    assert len(all_modules()) > 10


def violations(path: Path, pkg: Path = PKG) -> list[str]:
    """Forbidden imports in one module, as 'file:line: rule' strings."""
    importer = layer_of(module_name(path, pkg))
    allowed = ALLOWED.get(importer)
    if allowed is None:
        return [f"{path}: package {importer!r} has no place in the architecture"]
    bad = []
    for line, mod in shopfloor_imports(path, pkg):
        target = layer_of(mod)
        if target != importer and target not in allowed:
            bad.append(f"{path}:{line}: {importer} must not import {mod}")
    return bad


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_down(path: Path) -> None:
    bad = violations(path)
    assert not bad, "\n".join(bad)


def test_checker_catches_wrong_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "shopfloor"
    (pkg / "core").mkdir(parents=True)
    (pkg / "detection").mkdir()
    (pkg / "core" / "bad.py").write_text("from shopfloor.detection import scorer\n")
    (pkg / "detection" / "up.py").write_text(
        "import shopfloor.advisory.alerts\nfrom ..pipelines import runner\n"
        "from shopfloor.manipulation import spectra\n"
    )
    assert len(violations(pkg / "core" / "bad.py", pkg)) == 1
    found = violations(pkg / "detection" / "up.py", pkg)
    assert len(found) == 2, found  # advisory and (relative) pipelines; manipulation is fine
    assert any(v.endswith("must not import shopfloor.pipelines") for v in found)


def test_layout_matches_architecture_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`shopfloor/([a-z_]+)/`", doc))
    present = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    undocumented = present - documented
    assert not undocumented, f"packages missing from docs/architecture.md: {undocumented}"
    unknown = present - set(ALLOWED)
    assert not unknown, f"packages without an import rule: {unknown}"
