"""Messages that never became records (dead letters) reach the engineer: counted and listed
with their reasons in the data-quality API and on the fleet page."""

from __future__ import annotations

import time

from shopfloor.core.store import DeadLetterRecord, Store
from tests.service.conftest import PASSWORD, Plant


def _letters(plant: Plant) -> None:
    now = time.time_ns()
    with Store.open(plant.home) as store:
        store.add_dead_letters(
            [
                DeadLetterRecord(
                    source="mqtt",
                    reason="payload is not a waveform block: bad magic b'GARB'",
                    received_ns=now - 2_000_000_000,
                    topic="shopfloor/p1/l1/motor-09/de_accel",
                    payload=b"GARBAGE",
                    payload_bytes=7,
                ),
                DeadLetterRecord(
                    source="folder",
                    reason="drops/vib_3.csv, line 12: 'abc' is not a number",
                    received_ns=now - 1_000_000_000,
                    topic="file:drops/vib_3.csv",
                ),
            ]
        )


def test_quality_route_counts_and_lists_dead_letters_newest_first(plant: Plant) -> None:
    empty = plant.client.get("/api/v1/quality", headers=plant.auth("viewer")).json()
    assert empty["dead_letters"] == {"count": 0, "latest": []}
    _letters(plant)
    q = plant.client.get("/api/v1/quality", headers=plant.auth("viewer")).json()
    assert q["dead_letters"]["count"] == 2
    latest = q["dead_letters"]["latest"]
    assert [d["source"] for d in latest] == ["folder", "mqtt"]  # newest first
    assert latest[1]["topic"] == "shopfloor/p1/l1/motor-09/de_accel"
    assert latest[1]["payload_bytes"] == 7
    assert "payload" not in latest[1]  # the bytes stay in the store


def test_fleet_page_shows_dead_letters_with_their_reason(plant: Plant) -> None:
    plant.client.post("/login", data={"username": "viewer", "password": PASSWORD})
    page = plant.client.get("/")
    assert page.status_code == 200
    assert 'id="dead-count">0<' in page.text
    _letters(plant)
    page = plant.client.get("/")
    assert 'id="dead-count">2<' in page.text
    assert "line 12: &#39;abc&#39; is not a number" in page.text
