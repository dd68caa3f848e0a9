"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright) against
``shopfloor serve --simulate`` running as its own process: log in, watch motor-01 turn from
healthy to faulty through the live feed, open it, see the defect-frequency markers on its
envelope spectrum, acknowledge the alert, log out. Screenshots go to the test's tmp folder;
the pages must show their elements and log no console error.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopfloor.service.auth import Role, UserStore
from shopfloor.testing.browser import launch, missing_browser, start_serve, stop
from tests.service.conftest import PASSWORD, SECRET

SIMULATE_S = 40  # motor-01: healthy for 8 s, incipient to 24 s, severe after


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    home = tmp_path / "home"
    UserStore(home / "service" / "users.json").set_user("olga", Role.OPERATOR, PASSWORD)
    args = ["--simulate", str(SIMULATE_S), "--motors", "3"]
    proc, url = start_serve(home, SECRET, args, tmp_path / "serve.log")
    try:
        yield url
    finally:
        stop(proc)


def test_engineer_sees_a_fault_and_acknowledges_it(service: str, tmp_path: Path) -> None:
    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run the browser test", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    errors: list[str] = []
    with sync_playwright() as pw:
        ctx = launch(pw, tmp_path / "chromium-profile", viewport={"width": 1280, "height": 900})
        try:
            page = ctx.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(service)
            assert page.url.endswith("/login")
            page.fill("#username", "olga")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_selector("#grid .cell[data-asset='motor-03']", timeout=30_000)
            page.wait_for_selector("#live.on", timeout=10_000)
            cell = "#grid .cell[data-asset='motor-01']"
            before = page.get_attribute(cell, "data-state")
            page.screenshot(path=str(shots / "fleet-before.png"), full_page=True)

            # The live feed (no reload) turns motor-01 from healthy to faulty.
            page.wait_for_function(
                f"""() => ["warning", "alarm", "critical"].includes(
                    document.querySelector("{cell}").dataset.state)""",
                timeout=(SIMULATE_S + 30) * 1000,
                polling=100,
            )
            seen_at = time.time()
            after = page.get_attribute(cell, "data-state")
            page.wait_for_selector("#alerts tr[data-event] button.ack")
            page.screenshot(path=str(shots / "fleet-faulty.png"), full_page=True)
            assert before == "ok"
            assert after in ("warning", "alarm", "critical")
            assert page.locator("#grid .cell").count() == 3
            assert page.get_attribute("#grid .cell[data-asset='motor-02']", "data-state") == "ok"

            events = page.request.get(service + "api/v1/events?asset_id=motor-01").json()
            alert = next(e for e in events if "data_quality" not in e["evidence"])
            (tmp_path / "live_latency.json").write_text(
                json.dumps({"event_created": alert["created"], "seen_in_browser": seen_at})
            )

            page.click(cell)
            page.wait_for_url("**/assets/motor-01")
            page.wait_for_selector("#envelope[data-markers]", timeout=15_000)
            markers = page.get_attribute("#envelope", "data-markers") or ""
            assert "bpfo" in markers.split(",")
            assert "BPFO" in page.inner_text("#envelope-legend")
            assert page.locator(".evidence").count() >= 1
            # Live trends read from the store's window results: RMS, the anomaly score against
            # its threshold with the contributing features, remaining life and its interval.
            for chart in ("trend-rms", "trend-kurtosis", "trend-anomaly", "trend-rul"):
                page.wait_for_function(
                    f"() => Number(document.getElementById('{chart}').dataset.points) > 0",
                    timeout=20_000,
                )
            page.wait_for_function(
                "() => document.getElementById('anomaly-now').dataset.contributors",
                timeout=20_000,
            )
            assert " / " in page.inner_text("#anomaly-now")
            assert "[" in page.inner_text("#rul-now")
            page.screenshot(path=str(shots / "asset.png"), full_page=True)

            row = f"#alerts tr[data-event='{alert['id']}']"
            page.click(f"{row} button.ack")
            page.wait_for_selector(f"{row}[data-acted='acknowledged']", timeout=10_000)
            stored = page.request.get(service + f"api/v1/events/{alert['id']}").json()
            assert stored["event"]["status"] == "acknowledged"
            assert stored["history"][-1]["who"] == "olga"

            # A comment from the asset page lands in the alert's history.
            form = f"form.comment[data-event='{alert['id']}']"
            page.fill(f"{form} textarea", "drive end louder than motor-02, by ear")
            page.click(f"{form} button")
            page.wait_for_selector(
                f"ul[data-history='{alert['id']}'] .note:has-text('louder than motor-02')"
            )
            stored = page.request.get(service + f"api/v1/events/{alert['id']}").json()
            assert stored["history"][-1]["action"] == "commented"

            # The same page in Korean (Hangul needs a CJK font: ./sf installs fonts-nanum).
            page.goto(service + "assets/motor-01?lang=ko")
            page.wait_for_selector("#envelope[data-markers]", timeout=15_000)
            assert "이력 및 의견" in page.inner_text("main")
            page.screenshot(path=str(shots / "asset-ko.png"), full_page=True)

            page.click("#logout")
            page.wait_for_url("**/login")
            assert page.request.get(service + "api/v1/assets").status == 401
        finally:
            ctx.close()
    assert errors == [], errors
    for name in ("fleet-before.png", "fleet-faulty.png", "asset.png", "asset-ko.png"):
        assert (shots / name).stat().st_size > 10_000, name
    keep = os.environ.get("SHOPFLOOR_KEEP_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
        shutil.copy(tmp_path / "live_latency.json", keep)
