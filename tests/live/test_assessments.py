"""Anomaly detection, the fused diagnosis and remaining life in the live chain: live equals the
backfill, a restart keeps the baseline, bad parameters are refused."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from shopfloor.acquisition.live.connector import MemoryTransport
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store
from shopfloor.pipelines.live.offline import run_offline
from shopfloor.pipelines.live.spec import spec_from_dict
from shopfloor.pipelines.live.training import write_training_table
from tests.live.fleet import spec
from tests.live.helpers import run_live

TOPIC = "shopfloor/p1/l1/m1/de_accel"


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rtf") / "rtf.csv"
    return write_training_table(path, healthy_s=(8.0, 10.0, 9.0), degrading_s=(10.0, 14.0, 12.0))


def full_spec(training: Path) -> dict[str, Any]:
    return spec(
        steps=[
            {"use": "features.time"},
            {"use": "features.bearing"},
            {"use": "anomaly.monitor", "with": {"baseline_windows": 10}},
            {"use": "diagnosis.fused"},
            {
                "use": "rul.health_index",
                "with": {"train": str(training), "baseline_windows": 8, "every_windows": 3},
            },
            {"use": "advice.alerts"},
        ]
    )


def _messages(loaded: Any, seconds: float) -> list[tuple[str, bytes]]:
    motor = DegradingMotor("m1", onset_s=12.0, severe_s=20.0)
    sim = FleetSimulator(loaded.fleet, [motor], seed=5)
    out: list[tuple[str, bytes]] = []

    async def collect(topic: str, payload: bytes) -> None:
        out.append((topic, payload))

    asyncio.run(sim.run(collect, seconds, realtime=False))
    return out


def _results(rows: list[dict[str, Any]]) -> dict[int, Any]:
    return {r["window"]: r["results"] for r in rows if r["status"] == "ok"}


def test_live_chain_equals_backfill_and_degradation_shows_in_every_step(
    tmp_path: Path, training: Path
) -> None:
    loaded = spec_from_dict(full_spec(training))
    messages = _messages(loaded, 24.0)

    async def feed(tr: MemoryTransport) -> None:
        for m in messages:
            await tr.publish(*m)

    rt, _ = asyncio.run(run_live(loaded, tmp_path, feed))
    live = _results(rt.ledger.windows())
    with Store.open(tmp_path, read_only=True) as store:
        offline = _results(run_offline(loaded, store))
        trend = store.window_trend("m1", "de_accel", "anomaly.score", pipeline="test")
    assert sorted(live) == list(range(24))
    assert offline == live  # the backfill gives the live answers, every key of every window
    first, last = live[0], live[23]
    assert first["anomaly"]["state"] == "baseline"
    assert last["anomaly"]["state"] == "scoring"
    assert last["anomaly"]["alarm"] is True  # a severe defect is far outside the baseline
    assert live[10]["anomaly"]["anomalous"] is False  # healthy right after the baseline
    assert last["anomaly"]["contributors"][0]["share"] > 0.2
    assert trend.values.size == 14  # windows 10..23 scored
    assert last["diagnosis"]["label"] == "outer_race"
    assert last["diagnosis"]["method"].startswith("fused:")
    assert first["rul"]["state"] == "baseline"
    rul = last["rul"]
    assert rul["lower_s"] <= rul["remaining_s"] <= rul["upper_s"]
    assert rul["state"] == "degrading"
    alerts = [r["alert"] for r in live.values() if r.get("alert")]
    assert alerts
    assert "anomaly score" in alerts[0]["summary"]
    assert "rul" in alerts[0]["evidence"]


def test_a_restart_keeps_the_anomaly_baseline_and_the_rul_history(
    tmp_path: Path, training: Path
) -> None:
    loaded = spec_from_dict(full_spec(training))
    messages = [m for m in _messages(loaded, 20.0) if m[0] == TOPIC]

    async def first(tr: MemoryTransport) -> None:
        for m in messages[:125]:  # 12.5 windows: past the baseline
            await tr.publish(*m)

    async def second(tr: MemoryTransport) -> None:
        for m in messages[120:]:
            await tr.publish(*m)

    asyncio.run(run_live(loaded, tmp_path, first))
    rt, _ = asyncio.run(run_live(loaded, tmp_path, second))
    live = _results(rt.ledger.windows())
    with Store.open(tmp_path, read_only=True) as store:
        offline = _results(run_offline(loaded, store))
    assert sorted(live) == list(range(20))
    # the restarted service scores against the same baseline and keeps the RUL history:
    # scores, thresholds and remaining life equal the backfill's; only the alarm's
    # persistence counter restarts (it is not part of the stored state)
    for k in range(20):
        for key in ("score", "threshold", "state"):
            assert live[k]["anomaly"][key] == offline[k]["anomaly"][key], (k, key)
        assert live[k]["rul"] == offline[k]["rul"], k
        assert live[k]["diagnosis"] == offline[k]["diagnosis"], k


@pytest.mark.parametrize(
    ("step", "match"),
    [
        ({"use": "anomaly.monitor", "with": {"baseline_windows": 3}}, "baseline_windows 3 < 10"),
        ({"use": "rul.health_index", "with": {"train": "/nonexistent.csv"}}, "no training table"),
        ({"use": "rul.health_index", "with": {"trian": "x"}}, "bad parameters"),
    ],
)
def test_bad_parameters_are_refused_on_load(step: dict[str, Any], match: str) -> None:
    doc = spec()
    doc["steps"] = [{"use": "features.time"}, copy.deepcopy(step)]
    with pytest.raises(InputError, match=match):
        spec_from_dict(doc).components()
