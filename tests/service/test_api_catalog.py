"""Paged events and the change cursor, comments, channels, recordings and spectra, specs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from shopfloor.core.store import Store
from tests.service.conftest import TONE_HZ, Plant, pipeline_spec


def test_events_are_paged_newest_first(plant: Plant) -> None:
    c, v = plant.client, plant.auth("viewer")
    first = c.get("/api/v1/events?limit=2", headers=v)
    assert first.headers["X-Total-Count"] == "3"
    assert [e["summary"][-2:] for e in first.json()] == ["2)", "1)"]
    rest = c.get("/api/v1/events?limit=2&offset=2", headers=v).json()
    assert [e["summary"][-2:] for e in rest] == ["0)"]
    assert c.get("/api/v1/events?limit=5000", headers=v).status_code == 422


def test_change_cursor_and_comments(plant: Plant) -> None:
    c, op = plant.client, plant.auth("operator")
    start = c.get("/api/v1/events/changes", headers=op).json()
    assert len(start["events"]) == 3
    cursor = start["cursor"]
    assert c.get(f"/api/v1/events/changes?since={cursor}", headers=op).json() == {
        "cursor": cursor,
        "events": [],
    }
    target = plant.events[1]
    r = c.post(
        f"/api/v1/events/{target}/comment", json={"note": "grease nipple blocked"}, headers=op
    )
    assert r.status_code == 201
    changed = c.get(f"/api/v1/events/changes?since={cursor}", headers=op).json()
    assert [e["id"] for e in changed["events"]] == [target]
    assert changed["cursor"] > cursor
    history = c.get(f"/api/v1/events/{target}", headers=op).json()["history"]
    assert history[-1] == {**history[-1], "who": "operator", "action": "commented"}
    assert history[-1]["note"] == "grease nipple blocked"
    # The comment is on the page, with the form to add another.
    c.post("/login", data={"username": "operator", "password": "correct horse battery"})
    page = c.get("/assets/motor-01").text
    assert "grease nipple blocked" in page
    assert 'class="comment"' in page
    # Empty or blank comments, and viewers, are refused; nothing is stored for them.
    assert (
        c.post(f"/api/v1/events/{target}/comment", json={"note": " "}, headers=op).status_code
        == 422
    )
    viewer = plant.auth("viewer")
    assert (
        c.post(f"/api/v1/events/{target}/comment", json={"note": "x"}, headers=viewer).status_code
        == 403
    )
    with Store.open(plant.home, read_only=True) as store:
        assert [h["action"] for h in store.event_history(target)] == ["opened", "commented"]


def test_channels_route(plant: Plant) -> None:
    c, v = plant.client, plant.auth("viewer")
    every = c.get("/api/v1/channels", headers=v).json()
    assert {(ch["asset_id"], ch["id"]) for ch in every} >= {("motor-01", "de_accel")}
    assert len(every) == 6
    one = c.get("/api/v1/assets/motor-02/channels", headers=v).json()
    assert [ch["id"] for ch in one] == ["de_accel", "de_temp"]
    assert one[0]["unit"] == "m/s^2"
    assert c.get("/api/v1/assets/nope/channels", headers=v).status_code == 404


def test_recordings_and_their_spectra(plant: Plant) -> None:
    c, v = plant.client, plant.auth("viewer")
    listed = c.get("/api/v1/recordings", headers=v)
    assert listed.headers["X-Total-Count"] == "1"
    assert listed.json()[0]["id"] == "rec-01"
    assert c.get("/api/v1/recordings/rec-01", headers=v).json()["duration_s"] == 1.0
    psd = c.get("/api/v1/recordings/rec-01/spectrum?max_hz=500", headers=v).json()
    peak = psd["freqs_hz"][psd["values"].index(max(psd["values"]))]
    assert abs(peak - TONE_HZ) <= psd["resolution_hz"]
    assert psd["freqs_hz"][-1] <= 500
    assert set(psd["markers_hz"]) == {"bpfo", "bpfi", "bsf2", "ftf"}
    env = c.get("/api/v1/recordings/rec-01/spectrum?kind=envelope", headers=v).json()
    assert env["kind"] == "envelope"
    assert len(env["freqs_hz"]) == len(env["values"])
    bad = c.get("/api/v1/recordings/rec-01/spectrum?channel=de_temp", headers=v)
    assert bad.status_code == 422
    assert "no channel 'de_temp'" in bad.json()["detail"]
    assert c.get("/api/v1/recordings/nope/spectrum", headers=v).status_code == 404


def test_pipeline_specs_validated_and_admin_only(plant: Plant) -> None:
    c, admin = plant.client, plant.auth("admin")
    assert [p["name"] for p in c.get("/api/v1/pipelines", headers=admin).json()] == [
        "bearing-watch"
    ]
    good = pipeline_spec()
    made = c.put("/api/v1/pipelines/watch-2", json={"spec": good}, headers=admin)
    assert made.status_code == 201
    assert made.json()["steps"][0] == "features.time"
    assert c.put("/api/v1/pipelines/watch-2", json={"spec": good}, headers=admin).status_code == 200
    before = (plant.home / "pipelines" / "watch-2.yaml").read_text()
    bad_step = {**good, "steps": [{"use": "features.nonsense"}]}
    r = c.put("/api/v1/pipelines/watch-2", json={"spec": bad_step}, headers=admin)
    assert r.status_code == 422
    assert "features.nonsense" in r.json()["detail"]
    bad_key = {**good, "window": 3}
    assert (
        c.put("/api/v1/pipelines/watch-2", json={"spec": bad_key}, headers=admin).status_code == 422
    )
    for fleet in ("../../etc/passwd", "/etc/passwd", "sub/fleet.yaml"):
        r = c.put(
            "/api/v1/pipelines/watch-2", json={"spec": {**good, "fleet": fleet}}, headers=admin
        )
        assert r.status_code == 422, fleet
        assert "no path" in r.json()["detail"]
    assert (plant.home / "pipelines" / "watch-2.yaml").read_text() == before
    got = c.get("/api/v1/pipelines/watch-2", headers=plant.auth("viewer")).json()
    assert got["name"] == "watch-2"
    assert got["steps"] == good["steps"]
    assert c.put("/api/v1/pipelines/..", json={"spec": good}, headers=admin).status_code in (
        404,
        422,
    )
    assert c.get("/api/v1/pipelines/nope", headers=admin).status_code == 404


def test_rebaseline_through_the_api_then_compare_and_roll_back(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from shopfloor.cli import app as cli
    from shopfloor.service.app import create_app
    from shopfloor.service.auth import Role
    from shopfloor.service.settings import ServiceSettings
    from tests.service.conftest import PASSWORD, SECRET
    from tests.test_rebaseline import FAULT, NEW_NORMAL, START, _store_pump

    home = tmp_path / "home"
    _store_pump(home)
    r = CliRunner().invoke(
        cli, ["detect", "pump-1", "--baseline-hours", "0.25", "--home", str(home), "--json"]
    )
    parent = json.loads(r.stdout.splitlines()[0])["model_id"]
    with Store.open(home) as store:
        store.activate_model("pump-1", parent, who="test")
        raised = store.events(asset_id="pump-1", kind="anomaly")[0]
        for (lo, hi), label in [(NEW_NORMAL, "false_alarm"), (FAULT, "confirmed")]:
            (eid,) = store.add_events(
                [
                    raised.model_copy(
                        update={
                            "id": f"v-{label}",
                            "start": (START + pd.Timedelta(seconds=lo)).to_pydatetime(),
                            "end": (START + pd.Timedelta(seconds=hi - 1)).to_pydatetime(),
                            "dedup_key": None,
                        }
                    )
                ]
            )
            store.close_event(eid, who="olga", resolution=label)
    service = create_app(ServiceSettings(home=home, secret=SECRET))
    service.state.users.set_user("boss", Role.ADMIN, PASSWORD)
    c = TestClient(service)
    h = {
        "Authorization": "Bearer "
        + c.post("/api/v1/auth/token", data={"username": "boss", "password": PASSWORD}).json()[
            "access_token"
        ]
    }
    done = c.post(f"/api/v1/models/{parent}/rebaseline", json={"activate": True}, headers=h)
    assert done.status_code == 201, done.text
    child = done.json()["model_id"]
    assert done.json()["comparison"]["new"]["false_alarm_periods_alarmed_in_sample"] == 0
    dep = c.get("/api/v1/models/deployments/pump-1", headers=h).json()
    assert dep["active"] == child
    models = c.get("/api/v1/models", headers=h).json()
    assert {p["model_id"] for p in models["precision_by_model"]} == {parent}
    assert models["precision_by_model"][0]["precision"] == 0.5
    c.post("/login", data={"username": "boss", "password": PASSWORD})
    page = c.get("/models").text
    assert child in page
    assert f"<code>{parent}</code>" in page  # the new version names its parent
    assert "new_confirmed_periods_alarmed" in page
    assert 'class="rollback" data-target="pump-1"' in page
    back = c.post("/api/v1/models/deployments/pump-1/rollback", json={}, headers=h)
    assert back.json()["active"] == parent


def test_live_trends_from_the_store(plant: Plant) -> None:
    c, v = plant.client, plant.auth("viewer")
    doc = c.get("/api/v1/assets/motor-01/trends?since_s=9.5", headers=v).json()
    (ch,) = doc["channels"]
    assert ch["channel_id"] == "de_accel"
    s = ch["series"]
    # since_s counts back from the newest window (end 30 s): windows ending 20.5..30 s.
    assert len(s["rms"]["v"]) == 10
    assert s["rms"]["v"][-1] == 0.1 + 0.01 * 29
    assert s["anomaly_threshold"]["v"] == [1.0] * 10
    assert s["rul_lower_s"]["v"][-1] < s["rul_s"]["v"][-1] < s["rul_upper_s"]["v"][-1]
    assert ch["anomaly"]["contributors"][0]["feature"] == "env_bpfo"
    thin = c.get("/api/v1/assets/motor-01/trends?since_s=60&max_points=10", headers=v).json()
    rms = thin["channels"][0]["series"]["rms"]
    assert len(rms["v"]) == 10
    assert rms["t_ms"][-1] == s["rms"]["t_ms"][-1]  # the newest point is kept
    assert c.get("/api/v1/assets/motor-02/trends", headers=v).json()["channels"] == []
    assert c.get("/api/v1/assets/nope/trends", headers=v).status_code == 404
    # Another process's pipeline: the fleet and the asset page read the latest from the store.
    fleet = {a["id"]: a for a in c.get("/api/v1/assets", headers=v).json()}
    assert fleet["motor-01"]["health"] == "outer_race"
    assert fleet["motor-02"]["health"] is None
    c.post("/login", data={"username": "viewer", "password": "correct horse battery"})
    page = c.get("/assets/motor-01").text
    assert 'id="trend-anomaly"' in page
    assert "outer_race" in page
