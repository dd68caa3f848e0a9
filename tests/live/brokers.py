"""Mosquitto for the tests: skipped with a reason when absent, a failure under CI=true."""

from __future__ import annotations

import os

import pytest

from shopfloor.testing.mosquitto import Mosquitto, find_mosquitto

__all__ = ["Mosquitto", "mosquitto_or_skip"]


def mosquitto_or_skip() -> str:
    """Path of Debian's mosquitto; skip (fail under CI=true) when it is not installed."""
    exe = find_mosquitto()
    if exe is None:
        reason = "mosquitto is not installed (./sf test installs Debian's package with apt-get)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(reason)
    return exe
