"""``shopfloor serve``: refuses a missing secret; creates a one-time admin; stops on time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopfloor.acquisition.live.mqtt import free_port
from shopfloor.cli import app
from shopfloor.service.auth import UserStore
from shopfloor.service.i18n import CATALOGUE, LANGUAGES
from tests.service.conftest import SECRET


def test_serve_refuses_without_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPFLOOR_SERVICE_SECRET", raising=False)
    r = CliRunner().invoke(app, ["serve", "--home", str(tmp_path), "--json"])
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert "SHOPFLOOR_SERVICE_SECRET" in doc["error"]


def test_serve_creates_a_one_time_admin_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPFLOOR_SERVICE_SECRET", SECRET)
    r = CliRunner().invoke(
        app,
        [
            "serve",
            "--home",
            str(tmp_path),
            "--port",
            str(free_port()),
            "--duration",
            "1",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["ok"] is True
    users = UserStore(tmp_path / "service" / "users.json").users()
    assert [(u.name, u.role.label) for u in users] == [("admin", "admin")]
    assert "one-time admin login: admin / " in r.output


def test_every_ui_string_is_in_english_and_korean() -> None:
    for key, entry in CATALOGUE.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
