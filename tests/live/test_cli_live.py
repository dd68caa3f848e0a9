"""``shopfloor run``, ``simulate`` and ``demo --live`` from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shopfloor.acquisition.live.connector import MemoryTransport
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator
from shopfloor.cli import app
from shopfloor.pipelines.live.spec import spec_from_dict
from tests.live.fleet import FLEET, spec
from tests.live.helpers import run_live

runner = CliRunner()


def _write_spec(tmp_path: Path, **overrides: object) -> Path:
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(FLEET))
    doc = spec(fleet="fleet.yaml", source={"kind": "mqtt", "port": 1}, **overrides)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_run_over_stored_data_gives_the_live_answers_and_exit_1_for_an_alert(
    tmp_path: Path,
) -> None:
    loaded = spec_from_dict(spec())
    sim = FleetSimulator(loaded.fleet, [DegradingMotor("m1", onset_s=0.0, severe_s=0.5)])

    async def feed(tr: MemoryTransport) -> None:
        await sim.run(tr.publish, 5.0, realtime=False)

    home = tmp_path / "home"
    rt, _ = asyncio.run(run_live(loaded, home, feed))
    path = _write_spec(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--stored", "--home", str(home), "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    live = {w["window"]: w["results"] for w in rt.ledger.windows()}
    assert {w["window"]: w["results"] for w in doc["windows"]} == live
    assert doc["alerts"][0]["finding"] == "outer_race"


def test_run_with_a_bad_spec_is_a_one_line_error_naming_the_line(tmp_path: Path) -> None:
    path = _write_spec(tmp_path)
    text = path.read_text().replace("use: features.time", "use: features.tiem")
    path.write_text(text)
    result = runner.invoke(app, ["run", str(path), "--stored", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown component 'features.tiem'" in result.output
    assert "Traceback" not in result.output


def test_run_live_against_no_broker_is_a_clear_error(tmp_path: Path) -> None:
    path = _write_spec(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--home", str(tmp_path / "h")])
    assert result.exit_code == 2
    assert "not reachable" in result.output


def test_simulate_refuses_an_unknown_asset() -> None:
    result = runner.invoke(app, ["simulate", "--degrade", "motor-99", "--duration", "1"])
    assert result.exit_code == 2
    assert "--degrade motor-99: not in the fleet" in result.output


@pytest.mark.slow
def test_demo_live_degrades_a_motor_and_raises_an_alert(tmp_path: Path) -> None:
    pytest.importorskip("amqtt", reason="the live demo needs the mqtt extra (amqtt)")
    result = runner.invoke(
        app,
        ["demo", "--live", "--duration", "15", "--motors", "1", "--home", str(tmp_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counters"]["windows"] >= 12
    assert [a["finding"] for a in doc["alerts"]][:1] == ["outer_race"]
    assert doc["assets"][0]["health"] == "outer_race"


def test_the_example_spec_loads() -> None:
    from shopfloor.pipelines.live.spec import load_spec

    root = Path(__file__).resolve().parents[2]
    loaded = load_spec(root / "examples" / "live" / "bearing_watch.yaml")
    assert [a.id for a in loaded.fleet.assets] == ["motor-01", "motor-02"]


def test_simulate_replays_a_stored_recording_over_an_embedded_broker(tmp_path: Path) -> None:
    pytest.importorskip("amqtt", reason="needs the mqtt extra (amqtt)")
    from shopfloor.acquisition.live.mqtt import free_port
    from shopfloor.acquisition.live.simulator import replay_from_store
    from shopfloor.core.store import Store
    from shopfloor.pipelines.synthetic import FS_HZ, store_synthetic_fleet

    with Store.open(tmp_path) as store:
        name = store_synthetic_fleet(store, duration_s=2.0)
        played = replay_from_store(store, name)
        first = store.recordings(dataset=name)[0]
        expected = store.load(first.id).samples[first.channel_ids[0]].to_numpy()
    assert played.fs_hz == FS_HZ
    assert played.take(10).tolist() == expected[:10].tolist()
    port = str(free_port())
    args = ["simulate", "--replay", name, "--embedded-broker", "--port", port]
    args += ["--duration", "1", "--motors", "1", "--home", str(tmp_path), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages"] == 11  # 10 blocks + 1 temperature
    bad = runner.invoke(app, ["simulate", "--replay", "nope", "--home", str(tmp_path)])
    assert bad.exit_code == 2
    assert "no recordings of dataset 'nope'" in bad.output
