"""Remaining life against a real store: replacements reset a life, estimates and models are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopfloor.core import persistence
from shopfloor.core.assets import Asset, Channel, Component
from shopfloor.core.errors import InputError
from shopfloor.core.recording import Recording, RecordingData, TimeBase, TimeBaseKind
from shopfloor.core.store import Store
from shopfloor.prognostics.asset_store import (
    asset_history,
    latest_remaining_life,
    predict_asset,
    register_rul_model,
    registered_model_id,
    save_remaining_life,
)
from shopfloor.prognostics.boosted import GradientBoostedRUL
from shopfloor.testing.prognostics import degradation_fleet

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
CHANNELS = ("c0", "c1", "c2")


def pump(components: tuple[str, ...] = ("de-bearing",)) -> Asset:
    return Asset(
        id="pump-1",
        kind="pump",
        components=[Component(id=c, kind="rolling_bearing") for c in components],
        channels=[Channel(id=c, quantity="acceleration", unit="g") for c in CHANNELS],
    )


def _recording(
    rec_id: str, start: datetime, rows: pd.DataFrame, cycles: bool = False
) -> RecordingData:
    if cycles:
        samples = rows[["time", *CHANNELS]].rename(columns={"time": "cycle"})
        base = TimeBase(kind=TimeBaseKind.CYCLES, start=None)
    else:
        # one step = one second; the timestamp column is seconds since TimeBase.start
        samples = rows[["time", *CHANNELS]].rename(columns={"time": "timestamp"})
        samples["timestamp"] = samples["timestamp"] - samples["timestamp"].iloc[0]
        base = TimeBase(kind=TimeBaseKind.TIMESTAMPS, start=start)
    rec = Recording(
        id=rec_id,
        asset_id="pump-1",
        channel_ids=list(CHANNELS),
        time_base=base,
        n_samples=len(samples),
    )
    return RecordingData(rec, samples.reset_index(drop=True))


@pytest.fixture(scope="module")
def model() -> GradientBoostedRUL:
    return GradientBoostedRUL(random_state=0, n_estimators=60).fit(degradation_fleet(16, 0))


@pytest.fixture
def lives() -> tuple[pd.DataFrame, pd.DataFrame]:
    fleet = degradation_fleet(2, 1)
    old = fleet[fleet.unit == 1]  # the first bearing, run to failure
    new = fleet[fleet.unit == 2]
    new = new[new.time <= new.time.max() - 20]  # the second, 20 steps from failure
    return old, new


def _plant(home: Path, old: pd.DataFrame, new: pd.DataFrame, **asset: tuple[str, ...]) -> datetime:
    """Old life recorded from T0, new life from 100 s after it ended; returns the new start."""
    new_start = T0 + timedelta(seconds=len(old) + 100)
    with Store.open(home) as store:
        store.put_asset(pump(**asset))
        with store.batch() as batch:
            batch.add_recording(_recording("old", T0, old))
            batch.add_recording(_recording("new", new_start, new))
    return new_start


def test_recorded_replacement_resets_the_life(
    tmp_path: Path, model: GradientBoostedRUL, lives: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    old, new = lives
    home = tmp_path / "home"
    new_start = _plant(home, old, new)
    with Store.open(home, read_only=True) as store:
        before = asset_history(store, "pump-1")
        whole = predict_asset(store, "pump-1", model)
    assert before.life_start is None
    assert len(before.frame) == len(old) + len(new)
    assert whole.at_time == pytest.approx(len(old) + 100 + len(new) - 1)

    replaced = new_start - timedelta(seconds=50)
    with Store.open(home) as store:
        store.record_replacement("pump-1", "de-bearing", who="ana", at=replaced)
    with Store.open(home, read_only=True) as store:
        history = asset_history(store, "pump-1")
        life = predict_asset(store, "pump-1", model)
    # only the new bearing's rows; its clock starts at the replacement
    assert history.component == "de-bearing"
    assert history.life_start == replaced
    assert len(history.frame) == len(new)
    assert history.frame["time"].iloc[0] == pytest.approx(50.0)
    assert life.component == "de-bearing"
    assert life.at_time == pytest.approx(50.0 + len(new) - 1)
    assert life.time_unit == "s"
    assert any("replacement at" in n and f"{len(old)} earlier rows" in n for n in life.notes)
    expected = new[["unit", "time", *CHANNELS]].assign(time=50.0 + np.arange(len(new)))
    (alone,) = model.remaining_life(expected, 0.1, component="de-bearing", time_unit="s")
    assert (life.point, life.lower, life.upper) == pytest.approx(
        (alone.point, alone.lower, alone.upper)
    )
    assert life.point != pytest.approx(whole.point)


def test_explicit_reset_overrides_the_store(
    tmp_path: Path, lives: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    old, new = lives
    home = tmp_path / "home"
    new_start = _plant(home, old, new)
    with Store.open(home) as store:
        store.record_replacement("pump-1", "de-bearing", who="ana", at=new_start)
    with Store.open(home, read_only=True) as store:
        history = asset_history(store, "pump-1", replaced_at=10.0)
    assert history.life_start is None
    assert len(history.frame) == len(old) + len(new) - 10
    assert history.frame["time"].iloc[0] == 0.0
    assert "given explicitly" in history.notes[0]


def test_ambiguous_component_and_unplaceable_cycles_are_errors(
    tmp_path: Path, lives: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    old, new = lives
    home = tmp_path / "home"
    _plant(home, old, new, components=("de-bearing", "nde-bearing"))
    with Store.open(home) as store:
        store.record_replacement("pump-1", "nde-bearing", who="ana", at=T0)
    with Store.open(home, read_only=True) as store:
        with pytest.raises(InputError, match="say which component"):
            asset_history(store, "pump-1")
        with pytest.raises(InputError, match="no component 'fan'"):
            asset_history(store, "pump-1", component="fan")
        # the de-bearing was never replaced: its whole history counts
        assert len(asset_history(store, "pump-1", component="de-bearing").frame) == len(old) + len(
            new
        )

    cycles = tmp_path / "cycles"
    with Store.open(cycles) as store:
        store.put_asset(pump())
        with store.batch() as batch:
            batch.add_recording(_recording("c", T0, new, cycles=True))
        store.record_replacement("pump-1", "de-bearing", who="ana", at=T0)
    with Store.open(cycles, read_only=True) as store:
        with pytest.raises(InputError, match="no start time"):
            asset_history(store, "pump-1")
        assert asset_history(store, "pump-1", replaced_at=5.0).frame["time"].iloc[0] == 0.0


def test_estimates_are_kept_and_read_back(
    tmp_path: Path, model: GradientBoostedRUL, lives: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    old, new = lives
    home = tmp_path / "home"
    _plant(home, old, new)
    with Store.open(home) as store:
        assert latest_remaining_life(store, "pump-1") is None
        first = predict_asset(store, "pump-1", model)
        second = predict_asset(store, "pump-1", model, alpha=0.2)
        save_remaining_life(store, first, source="test")
        event_id = save_remaining_life(store, second, source="test", model_id="m-123")
    with Store.open(home, read_only=True) as store:
        back = latest_remaining_life(store, "pump-1")
        event = store.event(event_id)
        assert latest_remaining_life(store, "pump-1", component="other") is None
    assert back == second != first
    assert back is not None
    assert back.level == pytest.approx(0.8)
    assert (event.model_id, event.component_id) == ("m-123", "de-bearing")


def test_saved_model_is_registered_and_found_by_hash(
    tmp_path: Path, model: GradientBoostedRUL
) -> None:
    train = tmp_path / "train.csv"
    degradation_fleet(16, 0).to_csv(train, index=False)
    path = tmp_path / "rul.sfmodel"
    persistence.save(model, path)
    with Store.open(tmp_path / "home") as store:
        model_id = register_rul_model(store, path, model, created_by="ana", training_data=train)
        (entry,) = store.models()
        assert registered_model_id(store, path) == model_id
        loaded = store.load_model(model_id, trusted=True)
    assert entry["feature_config"]["channels"] == list(CHANNELS)
    assert entry["feature_config"]["params"]["n_estimators"] == 60
    assert "sha256:" in entry["training_data"]
    assert entry["metrics"]["calibration_units"] >= 1
    assert entry["metrics"]["train_units"] == 16
    assert np.array_equal(
        loaded.predict(degradation_fleet(2, 3)), model.predict(degradation_fleet(2, 3))
    )
    with path.open("ab") as fh:  # any change to the bytes: no longer the registered model
        fh.write(b"\0")
    with Store.open(tmp_path / "home", read_only=True) as store:
        assert registered_model_id(store, path) is None
