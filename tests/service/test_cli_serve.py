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
from tests.service.conftest import SECRET, Plant


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


def test_one_time_login_link_works_once(plant: Plant) -> None:
    from shopfloor.service.auth import Role, User

    c = plant.client
    token = c.app.state.one_time.issue(User("admin", Role.ADMIN))  # type: ignore[attr-defined]
    first = c.get(f"/login/once?token={token}", follow_redirects=False)
    assert first.status_code == 200
    assert 'url=/"' in first.text
    assert first.headers["cache-control"] == "no-store"
    assert "shopfloor_token" in first.cookies
    assert "Fleet" in c.get("/").text
    assert c.get("/api/v1/users").status_code == 200  # an admin session
    c.cookies.clear()
    again = c.get(f"/login/once?token={token}", follow_redirects=False)
    assert again.status_code == 401
    assert "already used or has expired" in again.text
    assert c.get("/login/once?token=forged", follow_redirects=False).status_code == 401
    assert c.get("/", follow_redirects=False).status_code == 303
    old = c.app.state.one_time.issue(User("admin", Role.ADMIN), now=0.0)  # type: ignore[attr-defined]
    assert c.get(f"/login/once?token={old}", follow_redirects=False).status_code == 401


@pytest.mark.slow
def test_demo_ends_with_the_dashboard_and_a_one_time_login(tmp_path: Path) -> None:
    """``shopfloor demo --dashboard`` (what a terminal gets by default): after the summary it
    prints the dashboard URL and a one-time admin link that opens a session, serves the
    simulated plant, and stops cleanly on Ctrl-C."""
    pytest.importorskip("amqtt", reason="the simulated plant needs the mqtt extra (amqtt)")
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    import httpx

    env = {
        **os.environ,
        "SHOPFLOOR_DATA": str(tmp_path / "no-mirror"),
        "SHOPFLOOR_HOME": str(tmp_path / "home"),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("SHOPFLOOR_SERVICE_SECRET", None)
    log = tmp_path / "demo.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shopfloor.cli",
                "demo",
                "--offline",
                "--dashboard",
                "--port",
                str(free_port()),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        link = None
        deadline = time.monotonic() + 120
        while link is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            found = re.search(r"(http://127\.0\.0\.1:\d+/login/once\?token=\S+)", log.read_text())
            link = found.group(1) if found else None
        assert link is not None, log.read_text()[-2000:]
        assert "dashboard: http://127.0.0.1:" in log.read_text()
        with httpx.Client(follow_redirects=True, timeout=30) as c:
            assert c.get(link).status_code == 200
            assert c.get(link.split("login/once")[0] + "api/v1/auth/me").json() == {
                "name": "admin",
                "role": "admin",
            }
            for _ in range(60):  # the simulated plant creates its store as it starts
                r = c.get(link.split("login/once")[0] + "api/v1/assets")
                if r.status_code != 503 and len(r.json()) == 3:
                    break
                time.sleep(0.5)
            assets = r.json()
            assert [a["id"] for a in assets] == ["motor-01", "motor-02", "motor-03"]
        with httpx.Client() as other:
            assert other.get(link, follow_redirects=False).status_code == 401  # used once
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0, log.read_text()[-2000:]
