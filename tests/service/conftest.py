"""A small plant in a store, the service over it, and a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the service extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="fastapi's TestClient needs httpx")

from fastapi.testclient import TestClient

from shopfloor.acquisition.live.simulator import default_fleet
from shopfloor.core import persistence
from shopfloor.core.events import Event, EventKind, Severity
from shopfloor.core.recording import Recording, RecordingData, TimeBase, TimeBaseKind
from shopfloor.core.store import Store
from shopfloor.service.app import create_app
from shopfloor.service.auth import Role
from shopfloor.service.settings import ServiceSettings
from shopfloor.service.specs import save_spec
from tests.test_persistence import FRAME, Centre

ROOT = Path(__file__).resolve().parents[2]
FS = 25_600.0
TONE_HZ = 160.0  # the recording's one tone: its PSD peak
SECRET = "k" * 16 + "9f3a0c7e1b2d4f6a"  # 32 characters, not a known default
PASSWORD = "correct horse battery"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Plant:
    home: Path
    client: TestClient
    tokens: dict[str, str]
    events: list[str]
    models: list[str]

    def auth(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}


def make_events() -> list[Event]:
    return [
        Event(
            asset_id="motor-01",
            kind=EventKind.ALERT,
            start=START + timedelta(minutes=i),
            severity=sev,
            summary=f"motor-01/de_accel: outer race ({i})",
            source="advice.alerts",
            channel_id="de_accel",
            evidence={"suggested_action": "plan a bearing change"},
        )
        for i, sev in enumerate([Severity.ALARM, Severity.WARNING, Severity.CRITICAL])
    ]


def make_recording() -> RecordingData:
    import numpy as np

    t = np.arange(int(FS)) / FS
    x = np.sin(2 * np.pi * TONE_HZ * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    rec = Recording(
        id="rec-01",
        asset_id="motor-01",
        channel_ids=["de_accel"],
        time_base=TimeBase(kind=TimeBaseKind.UNIFORM, sample_rate_hz=FS, start=START),
        n_samples=t.size,
    )
    return RecordingData(rec, pd.DataFrame({"de_accel": x}))


def make_windows(n: int = 30) -> list[Any]:
    """motor-01/de_accel window results as the live chain writes them: RMS rising, the
    anomaly score crossing its threshold from window 20, remaining life shrinking."""
    from shopfloor.core.store import WindowResult

    t0 = int(START.timestamp() * 1e9)
    rows = []
    for k in range(n):
        score = 0.5 if k < 20 else 0.5 * 2 ** (k - 19)
        rows.append(
            WindowResult(
                pipeline="live-demo",
                asset_id="motor-01",
                channel_id="de_accel",
                window=k,
                start_ns=t0 + k * 10**9,
                end_ns=t0 + (k + 1) * 10**9,
                results={
                    "time": {"rms": 0.1 + 0.01 * k, "kurtosis": 3.0 + 0.1 * k},
                    "diagnosis": {"label": "outer_race" if k >= 20 else "normal"},
                    "anomaly": {
                        "state": "scoring",
                        "score": score,
                        "threshold": 1.0,
                        "margin": score,
                        "alarm": score > 1,
                        "contributors": [{"feature": "env_bpfo", "share": 0.7}],
                    },
                    "rul": {
                        "state": "degrading",
                        "remaining_s": 100.0 - k,
                        "lower_s": 80.0 - k,
                        "upper_s": 120.0 - k,
                    },
                },
            )
        )
    return rows


def pipeline_spec() -> dict[str, Any]:
    """The example bearing-watch spec with its fleet inline."""
    import yaml

    live = ROOT / "examples" / "live"
    spec = dict(yaml.safe_load((live / "bearing_watch.yaml").read_text()))
    spec["fleet"] = yaml.safe_load((live / "fleet.yaml").read_text())
    spec.pop("name")
    return spec


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[Plant]:
    home = tmp_path / "home"
    with Store.open(home) as store:
        for asset in default_fleet(3, 25_600.0).core_assets():
            store.put_asset(asset)
        ids = store.add_events(make_events())
        models = []
        for seed in (0, 1):
            path = tmp_path / f"centre-{seed}.sfmodel"
            persistence.save(Centre().fit(FRAME.to_numpy() + seed), path)
            models.append(store.register_model(path, name="centre", created_by="test"))
        store.activate_model("motor-01", models[0], who="test")
        with store.batch("test") as batch:
            batch.add_recording(make_recording())
        store.append_windows(make_windows())
    save_spec(home, "bearing-watch", pipeline_spec())
    app = create_app(ServiceSettings(home=home, secret=SECRET, write_wait_s=0.5))
    for role in Role:
        app.state.users.set_user(role.label, role, PASSWORD)
    with TestClient(app) as client:
        tokens = {
            role.label: client.post(
                "/api/v1/auth/token", data={"username": role.label, "password": PASSWORD}
            ).json()["access_token"]
            for role in Role
        }
        yield Plant(home, client, tokens, ids, models)
