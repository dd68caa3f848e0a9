"""Re-baselining a registered anomaly monitor from operator verdicts (false alarm / confirmed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.core.assets import Asset, AssetKind, Channel
from shopfloor.core.errors import InputError
from shopfloor.core.recording import Recording, RecordingData, TimeBase, TimeBaseKind
from shopfloor.core.store import Store
from shopfloor.pipelines.rebaseline import rebaseline

START = pd.Timestamp("2026-06-01 08:00", tz="UTC")
NEW_NORMAL = (1200, 1800)  # rows (s): a warmer day; the pump is fine
FAULT = (2700, 3000)  # rows (s): pressure no longer follows flow (a leaking seal)


def _store_pump(home: Path) -> None:
    rng = np.random.default_rng(3)
    n = 3600
    flow = 100 + rng.normal(0, 1.0, n)
    table = pd.DataFrame(
        {
            "timestamp": np.arange(n, dtype=float),
            "flow": flow,
            "pressure": 2.0 + 0.01 * flow + rng.normal(0, 0.005, n),
            "temp": 40 + rng.normal(0, 0.2, n),
        }
    )
    table.loc[NEW_NORMAL[0] : NEW_NORMAL[1] - 1, "temp"] += 1.5
    table.loc[FAULT[0] : FAULT[1] - 1, "pressure"] += 0.08
    asset = Asset(
        id="pump-1",
        kind=AssetKind.PUMP,
        channels=[
            Channel(id="flow", quantity="volume_flow", unit="m^3/h"),
            Channel(id="pressure", quantity="pressure", unit="bar"),
            Channel(id="temp", quantity="temperature", unit="degC"),
        ],
    )
    rec = Recording(
        id="pump-1-day",
        asset_id="pump-1",
        channel_ids=["flow", "pressure", "temp"],
        time_base=TimeBase(kind=TimeBaseKind.TIMESTAMPS, start=START.to_pydatetime()),
        n_samples=n,
    )
    with Store.open(home) as store, store.batch("plant") as batch:
        batch.add_asset(asset)
        batch.add_recording(RecordingData(rec, table))


def _row(ts: str) -> float:
    return (pd.Timestamp(ts) - START).total_seconds()


def test_false_alarms_widen_normal_and_confirmed_faults_stay_caught(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store_pump(home)
    r = CliRunner().invoke(
        app, ["detect", "pump-1", "--baseline-hours", "0.25", "--home", str(home), "--json"]
    )
    assert r.exit_code == 1, r.output  # it found something
    parent = json.loads(r.stdout.splitlines()[0])["model_id"]
    with Store.open(home) as store:
        raised = store.events(asset_id="pump-1", kind="anomaly")
        assert raised[0].model_id == parent
        assert NEW_NORMAL[0] <= _row(raised[0].start.isoformat()) < NEW_NORMAL[1]
        # detect folds repeats of one condition into the open event; on a plant floor the
        # operator closes the first alert before the second comes. Their verdicts:
        verdicts = [(NEW_NORMAL, "false_alarm"), (FAULT, "confirmed")]
        for (lo, hi), label in verdicts:
            (event_id,) = store.add_events(
                [
                    raised[0].model_copy(
                        update={
                            "id": f"verdict-{label}",
                            "start": (START + pd.Timedelta(seconds=lo)).to_pydatetime(),
                            "end": (START + pd.Timedelta(seconds=hi - 1)).to_pydatetime(),
                            "dedup_key": None,
                        }
                    )
                ]
            )
            store.close_event(event_id, who="olga", resolution=label)
        result = rebaseline(store, parent, who="olga")
        models = {m["id"]: m for m in store.models()}
    new, old = result.comparison["new"], result.comparison["parent"]
    assert old["false_alarm_periods_alarmed"] == old["false_alarm_periods"] > 0
    assert new["false_alarm_periods_alarmed_in_sample"] == 0
    assert new["confirmed_periods_alarmed"] == old["confirmed_periods_alarmed"] > 0
    assert new["alarm_events_on_stored_data"] < old["alarm_events_on_stored_data"]
    child = models[result.model_id]
    assert child["feature_config"]["parent_model_id"] == parent
    assert child["name"] == models[parent]["name"]
    assert child["created_by"] == "olga"
    assert "re-baselined from" in child["training_data"]
    assert result.healthy_rows > 900  # the baseline plus the false-alarm periods


def test_rebaseline_needs_verdicts_and_a_stored_asset(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store_pump(home)
    r = CliRunner().invoke(
        app, ["detect", "pump-1", "--baseline-hours", "0.25", "--home", str(home), "--json"]
    )
    parent = json.loads(r.stdout.splitlines()[0])["model_id"]
    with Store.open(home) as store:
        with pytest.raises(InputError, match="nothing to re-baseline from"):
            rebaseline(store, parent, who="olga")
        with pytest.raises(InputError, match="say who"):
            rebaseline(store, parent, who=" ")
        with pytest.raises(KeyError):
            rebaseline(store, "0" * 16, who="olga")
