"""Pipeline specs kept for the service: ``<home>/pipelines/<name>.yaml``.

Viewers list and read them; admins create or replace them. A spec is validated by the live
pipeline's own loader (:func:`shopfloor.pipelines.live.spec.spec_from_dict`: unknown keys,
unknown components, bad parameters, a chain whose steps lack their inputs) before it is
written, and written atomically, so a bad spec never replaces a good one. The fleet must be
inline or a plain file name in the same folder: a spec sent over the API cannot point the
loader at any other file on the machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from shopfloor.core.errors import InputError

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\.ya?ml$")


def folder(home: Path) -> Path:
    return home / "pipelines"


def _path(home: Path, name: str) -> Path:
    if not re.match(NAME, name) or ".." in name:
        raise InputError(f"pipeline name {name!r} must match {NAME}", column="name")
    return folder(home) / f"{name}.yaml"


def list_specs(home: Path) -> list[dict[str, Any]]:
    """Every stored spec: name, steps, sinks (as written; validated when it was written)."""
    import yaml

    out: list[dict[str, Any]] = []
    for path in sorted(folder(home).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            out.append({"name": path.stem, "error": f"{path.name}: {exc}"})
            continue
        if not isinstance(data, dict):
            out.append({"name": path.stem, "error": f"{path.name}: not a mapping"})
            continue
        out.append(
            {
                "name": path.stem,
                "steps": [s.get("use") for s in data.get("steps", []) if isinstance(s, dict)],
                "window_s": data.get("window_s"),
            }
        )
    return out


def read_spec(home: Path, name: str) -> dict[str, Any]:
    """The stored spec as a mapping; KeyError when there is none."""
    import yaml

    path = _path(home, name)
    if not path.exists():
        raise KeyError(f"no pipeline spec {name!r}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(data) if isinstance(data, dict) else {}


def save_spec(home: Path, name: str, spec: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Validate ``spec`` with the pipeline loader and store it as ``name``; returns a summary
    and whether an earlier spec was replaced. :class:`InputError` names the bad field."""
    import yaml

    from shopfloor.pipelines.live.spec import spec_from_dict

    path = _path(home, name)
    fleet = spec.get("fleet")
    if isinstance(fleet, str) and not _FILE.match(fleet):
        raise InputError(
            f"fleet {fleet!r}: give the fleet inline, or the name of a .yaml file in the "
            "pipelines folder (no path)",
            column="fleet",
        )
    if spec.get("name") not in (None, name):
        raise InputError(
            f"the spec is named {spec.get('name')!r} but is stored as {name!r}", column="name"
        )
    spec = {**spec, "name": name}
    loaded = spec_from_dict(spec, base=folder(home), source=f"pipelines/{name}.yaml")
    folder(home).mkdir(parents=True, exist_ok=True)
    replaced = path.exists()
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    os.replace(tmp, path)
    return {
        "name": name,
        "steps": [s.use for s in loaded.spec.steps],
        "assets": [a.id for a in loaded.fleet.assets],
    }, replaced
