"""Shared fixtures.

Real-data tests ask for ``dataset_dir("cwru")``: it returns the verified mirror folder, or
skips with the reason when the mirror is absent. Under CI (``CI=true``) a missing mirror is a
failure, never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from shopfloor.core.settings import Settings, default_data_mirror
from shopfloor.core.store import Store

# CI draws the same property-test examples on every run, so a green CI stays green for the same
# code; locally Hypothesis keeps exploring (and remembers failures in .hypothesis/).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() == "true":
    hypothesis_settings.load_profile("ci")


def _mirror() -> Path | None:
    env = os.environ.get("SHOPFLOOR_DATA")
    return Path(env) if env else default_data_mirror()


@pytest.fixture(scope="session")
def dataset_dir() -> Callable[[str], Path]:
    def get(name: str) -> Path:
        mirror = _mirror()
        folder = mirror / name if mirror is not None else None
        if folder is None or not folder.is_dir():
            reason = f"real dataset {name!r} not found (looked for {folder or '../shared/data'})"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{reason}; CI must have ../shared/data", pytrace=False)
            pytest.skip(reason)
        return folder

    return get


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "home") as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", data=_mirror(), offline=True)
