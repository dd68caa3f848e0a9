"""Every route × every role, the lifecycle through the API, and hostile inputs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shopfloor.core.errors import InputError
from shopfloor.core.store import Store
from shopfloor.service.app import create_app
from shopfloor.service.auth import Role, TokenSigner, User, hash_password, verify_password
from shopfloor.service.settings import ServiceSettings
from tests.service.conftest import PASSWORD, SECRET, Plant, pipeline_spec

# (method, OpenAPI path) -> least role (None: open). Every route of the schema must be here.
ROUTES: dict[tuple[str, str], str | None] = {
    ("GET", "/health"): None,
    ("GET", "/ready"): None,
    ("POST", "/api/v1/auth/token"): None,
    ("GET", "/metrics"): "viewer",
    ("GET", "/api/v1/stream"): "viewer",
    ("GET", "/api/v1/auth/me"): "viewer",
    ("GET", "/api/v1/assets"): "viewer",
    ("GET", "/api/v1/assets/{asset_id}"): "viewer",
    ("GET", "/api/v1/assets/{asset_id}/envelope"): "viewer",
    ("GET", "/api/v1/events"): "viewer",
    ("GET", "/api/v1/events/{event_id}"): "viewer",
    ("POST", "/api/v1/events/{event_id}/acknowledge"): "operator",
    ("POST", "/api/v1/events/{event_id}/close"): "operator",
    ("GET", "/api/v1/labels"): "viewer",
    ("GET", "/api/v1/quality"): "viewer",
    ("GET", "/api/v1/models"): "viewer",
    ("GET", "/api/v1/models/deployments/{target}"): "viewer",
    ("POST", "/api/v1/models/deployments/{target}/activate"): "admin",
    ("POST", "/api/v1/models/deployments/{target}/rollback"): "admin",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users"): "admin",
    ("GET", "/api/v1/events/changes"): "viewer",
    ("POST", "/api/v1/events/{event_id}/comment"): "operator",
    ("GET", "/api/v1/channels"): "viewer",
    ("GET", "/api/v1/assets/{asset_id}/channels"): "viewer",
    ("GET", "/api/v1/recordings"): "viewer",
    ("GET", "/api/v1/recordings/{recording_id}"): "viewer",
    ("GET", "/api/v1/recordings/{recording_id}/spectrum"): "viewer",
    ("GET", "/api/v1/pipelines"): "viewer",
    ("GET", "/api/v1/pipelines/{name}"): "viewer",
    ("PUT", "/api/v1/pipelines/{name}"): "admin",
    ("POST", "/api/v1/models/{model_id}/rebaseline"): "admin",
    ("GET", "/api/v1/assets/{asset_id}/trends"): "viewer",
}
ROLES = [None, "viewer", "operator", "admin"]


def request(plant: Plant, method: str, path: str, role: str | None, n: int = 0) -> Any:
    """A valid request for the route (the n-th event, so repeated writes stay valid)."""
    url = (
        path.replace("{asset_id}", "motor-01")
        .replace("{event_id}", plant.events[n % len(plant.events)])
        .replace("{target}", "motor-01")
        .replace("{recording_id}", "rec-01")
        .replace("{name}", "bearing-watch")
        .replace("{model_id}", plant.models[0])
    )
    kw: dict[str, Any] = {"headers": plant.auth(role)}
    if path == "/api/v1/auth/token":
        kw["data"] = {"username": "viewer", "password": PASSWORD}
    elif path.endswith("/close"):
        kw["json"] = {"resolution": "confirmed", "note": "spalled outer race"}
    elif path.endswith("/activate"):
        kw["json"] = {"model_id": plant.models[1]}
    elif path.endswith("/rebaseline"):
        kw["json"] = {"activate": True}
    elif path.endswith("/comment"):
        kw["json"] = {"note": "noise at the drive end"}
    elif method == "PUT":
        kw["json"] = {"spec": pipeline_spec()}
    elif path == "/api/v1/users":
        kw["json"] = {"name": f"new{n}", "role": "viewer", "password": PASSWORD}
    elif method == "POST":
        kw["json"] = {"note": "seen"}
    if path == "/api/v1/stream":
        url += "?once=true"
    return plant.client.request(method, url, **kw)


def test_schema_lists_exactly_the_routes_we_test(plant: Plant) -> None:
    schema = plant.client.get("/openapi.json").json()
    published = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert published == set(ROUTES)


def test_every_route_for_every_role(plant: Plant) -> None:
    rank = {r.label: r for r in Role}
    for n, ((method, path), least) in enumerate(sorted(ROUTES.items())):
        for role in ROLES:
            r = request(plant, method, path, role, n)
            where = f"{method} {path} as {role}: {r.status_code} {r.text[:200]}"
            if least is None:
                assert r.status_code < 400, where
            elif role is None:
                assert r.status_code == 401, where
            elif rank[role] < rank[least]:
                assert r.status_code == 403, where
            else:
                # Allowed: success, or a conflict from an earlier role's identical write.
                assert r.status_code in (200, 201, 409, 422), where
                if r.status_code == 422:  # the fixture's models: one, and not monitors
                    assert "no earlier model" in r.text or "anomaly monitor" in r.text, where


def test_alert_lifecycle_through_the_api(plant: Plant) -> None:
    c, op = plant.client, plant.auth("operator")
    first = plant.events[0]
    assert c.post(
        f"/api/v1/events/{first}/acknowledge", json={"note": "on it"}, headers=op
    ).is_success
    again = c.post(f"/api/v1/events/{first}/acknowledge", json={}, headers=op)
    assert again.status_code == 409
    assert "acknowledged, not open" in again.json()["detail"]
    closed = c.post(
        f"/api/v1/events/{first}/close",
        json={"resolution": "confirmed", "note": "outer race spall, 2 mm"},
        headers=op,
    )
    assert closed.is_success
    c.post(
        f"/api/v1/events/{plant.events[1]}/close", json={"resolution": "false_alarm"}, headers=op
    )
    history = c.get(f"/api/v1/events/{first}", headers=op).json()["history"]
    assert [h["action"] for h in history] == ["opened", "acknowledged", "closed:confirmed"]
    assert history[1]["who"] == "operator"
    labels = c.get("/api/v1/labels", headers=op).json()
    assert sorted(lab["label"] for lab in labels) == ["confirmed", "false_alarm"]
    precision = c.get("/api/v1/models", headers=op).json()["precision"]
    assert precision == [
        {
            "source": "advice.alerts",
            "closed": 2,
            "confirmed": 1,
            "false_alarm": 1,
            "precision": 0.5,
        }
    ]
    fleet = {a["id"]: a for a in c.get("/api/v1/assets", headers=op).json()}
    assert fleet["motor-01"]["state"] == "critical"
    assert fleet["motor-01"]["open_alerts"] == 1
    assert fleet["motor-02"]["state"] == "ok"
    with Store.open(plant.home, read_only=True) as store:
        assert store.event(first).resolution == "confirmed"


def test_models_activate_and_roll_back(plant: Plant) -> None:
    c, admin = plant.client, plant.auth("admin")
    url = "/api/v1/models/deployments/motor-01"
    assert c.get(url, headers=admin).json()["active"] == plant.models[0]
    assert c.post(url + "/activate", json={"model_id": plant.models[1]}, headers=admin).is_success
    assert c.get(url, headers=admin).json()["active"] == plant.models[1]
    back = c.post(url + "/rollback", json={"note": "more false alarms"}, headers=admin)
    assert back.json()["active"] == plant.models[0]
    unknown = c.post(url + "/activate", json={"model_id": "0" * 16}, headers=admin)
    assert unknown.status_code == 404


def test_live_feed_and_metrics(plant: Plant) -> None:
    c, v = plant.client, plant.auth("viewer")
    text = c.get("/api/v1/stream?once=true", headers=v).text
    assert "event: fleet" in text
    assert '"motor-01", "state": "critical"' in text
    metrics = c.get("/metrics", headers=v).text
    assert 'shopfloor_events{status="open",severity="critical"} 1' in metrics
    assert "shopfloor_assets 3" in metrics
    assert 'route="/api/v1/stream",status="200"' in metrics


def test_dashboard_pages_need_login_and_speak_korean(plant: Plant) -> None:
    c = plant.client
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"
    bad = c.post("/login", data={"username": "viewer", "password": "wrong password!"})
    assert bad.status_code == 401
    assert "Wrong user name or password" in bad.text
    c.post("/login", data={"username": "operator", "password": PASSWORD})
    page = c.get("/?lang=ko")
    assert "설비 현황" in page.text
    assert 'data-asset="motor-03"' in page.text
    assert "확인" in page.text  # the acknowledge button, operators only
    assert "motor-01/de_accel" in c.get("/assets/motor-01").text
    assert c.get("/assets/nope").status_code == 404
    assert c.get("/models").status_code == 200
    assert 'src="/static/app.js"' in page.text
    assert "http" not in page.text.split("<body>")[0]
    assert c.get("/static/app.js").status_code == 200
    c.post("/logout")
    assert c.get("/", follow_redirects=False).status_code == 303


# ------------------------------------------------------------------ hostile inputs
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/assets/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/assets/%2e%2e",
        "/api/v1/assets/x' OR '1'='1",
        "/api/v1/events/" + "a" * 500,
        "/api/v1/events?status=bogus",
        "/api/v1/events?limit=-1",
        "/api/v1/assets/motor-01/envelope?seconds=1e9",
        "/static/../pyproject.toml",
        "/static/%2e%2e/app.py",
    ],
)
def test_hostile_urls_get_a_clear_4xx(plant: Plant, url: str) -> None:
    r = plant.client.get(url, headers=plant.auth("admin"))
    assert 400 <= r.status_code < 500, (url, r.status_code, r.text[:200])
    assert "[tool.ruff]" not in r.text
    assert "create_app" not in r.text


def test_hostile_bodies(plant: Plant) -> None:
    c, op = plant.client, plant.auth("operator")
    url = f"/api/v1/events/{plant.events[0]}"
    huge = c.post(url + "/acknowledge", content=b"x" * 200_000, headers=op)
    assert huge.status_code == 413

    def chunks() -> Any:  # no Content-Length: the limit still holds
        for _ in range(100):
            yield b"x" * 10_000

    assert c.post(url + "/acknowledge", content=chunks(), headers=op).status_code == 413
    bad_json = c.post(
        url + "/acknowledge",
        content=b"{not json",
        headers={**op, "content-type": "application/json"},
    )
    assert bad_json.status_code == 422
    verdict = c.post(url + "/close", json={"resolution": "maybe"}, headers=op)
    assert verdict.status_code == 422
    assert "resolution" in verdict.text
    long_note = c.post(url + "/acknowledge", json={"note": "n" * 5000}, headers=op)
    assert long_note.status_code == 422
    missing = c.post("/api/v1/events/nope/acknowledge", json={}, headers=op)
    assert missing.status_code == 404
    weak = c.post(
        "/api/v1/users",
        json={"name": "Bad Name/..", "role": "admin", "password": PASSWORD},
        headers=plant.auth("admin"),
    )
    assert weak.status_code == 422
    # Nothing stored was harmed by any of it.
    with Store.open(plant.home, read_only=True) as store:
        assert store.event(plant.events[0]).status == "open"


def test_forged_expired_and_tampered_tokens(plant: Plant) -> None:
    c = plant.client
    signer = TokenSigner(SECRET, ttl_s=60)
    other = TokenSigner("another secret of thirty-two chars!", ttl_s=60)
    expired = signer.issue(User("admin", Role.ADMIN), now=time.time() - 3600)
    forged = other.issue(User("admin", Role.ADMIN))
    viewer = plant.tokens["viewer"]
    tampered = viewer.replace(".viewer.", ".admin.")
    for token in (expired, forged, tampered, "garbage", "a.b.c.d", ""):
        r = c.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    c.cookies.set("shopfloor_token", tampered)
    assert c.get("/api/v1/users").status_code == 401
    c.cookies.clear()
    wrong = c.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401


def test_credentials_are_hashed(plant: Plant) -> None:
    text = (plant.home / "service" / "users.json").read_text()
    assert PASSWORD not in text
    assert "scrypt$" in text
    stored = hash_password("s3cret-enough")
    assert verify_password("s3cret-enough", stored)
    assert not verify_password("other", stored)
    assert hash_password("same") != hash_password("same")  # salted


@pytest.mark.parametrize("secret", ["", "changeme", "secret", "short-but-not-default"])
def test_refuses_to_start_with_a_default_or_weak_secret(tmp_path: Any, secret: str) -> None:
    with pytest.raises(InputError, match="SHOPFLOOR_SERVICE_SECRET"):
        create_app(ServiceSettings(home=tmp_path, secret=secret))


def test_no_store_yet_is_503_not_500(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    app = create_app(ServiceSettings(home=tmp_path / "empty", secret=SECRET))
    app.state.users.set_user("viewer", Role.VIEWER, PASSWORD)
    c = TestClient(app)
    assert c.get("/ready").status_code == 503
    tok = c.post("/api/v1/auth/token", data={"username": "viewer", "password": PASSWORD})
    r = c.get("/api/v1/assets", headers={"Authorization": f"Bearer {tok.json()['access_token']}"})
    assert r.status_code == 503
    assert "no store" in r.json()["detail"]


def test_write_while_another_process_holds_the_writer_names_it(plant: Plant) -> None:
    with Store.open(plant.home):  # the "pipeline" holds the writer lock
        r = plant.client.post(
            f"/api/v1/events/{plant.events[0]}/acknowledge", json={}, headers=plant.auth("admin")
        )
    assert r.status_code == 503
    assert "pid" in r.json()["detail"].lower()
