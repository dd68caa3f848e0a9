"""fastsim (the optional ``[hvac]`` extra) is needed by the plant tests: they skip with the reason
when it is absent, and fail under ``CI=true`` where ``./sf test`` installs it."""

from __future__ import annotations

import importlib.util
import os

import pytest


@pytest.fixture
def fastsim_available() -> None:
    if importlib.util.find_spec("fastsim") is None:
        reason = "NREL FASTSim not installed (pip install 'shopfloor[hvac]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; ./sf test installs it for CI", pytrace=False)
        pytest.skip(reason)
