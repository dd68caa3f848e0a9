"""Records a plant works with: event lifecycle, severity scale, model registry, fleet, migration."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopfloor.core import persistence, severity_scale
from shopfloor.core.assets import Asset, Channel, Component
from shopfloor.core.errors import InputError
from shopfloor.core.events import Event, EventKind, EventStatus, Resolution, Severity
from shopfloor.core.persistence import ModelIntegrityError
from shopfloor.core.store import Store
from tests.test_persistence import FRAME, Centre

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def motor() -> Asset:
    return Asset(
        id="m1",
        kind="induction_motor",
        components=[Component(id="de-bearing", kind="rolling_bearing")],
        channels=[Channel(id="de", quantity="acceleration", unit="g", sample_rate_hz=25_600)],
    )


@pytest.fixture
def plant(store: Store) -> Store:
    store.put_asset(motor())
    return store


def alarm(
    key: str | None = "m1/de/bpfo", severity: Severity = Severity.WARNING, **kw: object
) -> Event:
    return Event(
        asset_id="m1",
        kind=EventKind.DIAGNOSIS,
        start=START,
        severity=severity,
        summary="outer race",
        dedup_key=key,
        channel_id="de",
        component_id="de-bearing",
        model_id="abc",
        source="physics",
        **kw,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ events
def test_event_lifecycle_with_history_and_feedback_label(plant: Store) -> None:
    (eid,) = plant.add_events([alarm()])
    plant.acknowledge_event(eid, who="ana", note="will check at 14:00")
    plant.close_event(eid, who="ana", resolution="false_alarm", note="pump was cavitating")
    ev = plant.event(eid)
    assert (ev.status, ev.resolution) == (EventStatus.CLOSED, Resolution.FALSE_ALARM)
    assert (ev.channel_id, ev.component_id, ev.model_id) == ("de", "de-bearing", "abc")
    history = plant.event_history(eid)
    assert [h["action"] for h in history] == ["opened", "acknowledged", "closed:false_alarm"]
    assert [h["who"] for h in history] == ["physics", "ana", "ana"]
    labels = plant.feedback_labels("m1")
    assert list(labels["label"]) == ["false_alarm"]
    assert list(labels["channel_id"]) == ["de"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        plant._con.execute("UPDATE event_history SET who = 'someone else'")


def test_lifecycle_refuses_wrong_steps(plant: Store) -> None:
    (eid,) = plant.add_events([alarm()])
    with pytest.raises(InputError, match="say who"):
        plant.acknowledge_event(eid, who=" ")
    with pytest.raises(InputError, match="resolution must be one of confirmed, false_alarm"):
        plant.close_event(eid, who="ana", resolution="maybe")
    plant.close_event(eid, who="ana", resolution=Resolution.CONFIRMED)
    with pytest.raises(InputError, match="already closed"):
        plant.close_event(eid, who="ana", resolution="confirmed")
    with pytest.raises(InputError, match="is closed, not open"):
        plant.acknowledge_event(eid, who="ana")
    with pytest.raises(InputError, match="no event 'nope'"):
        plant.acknowledge_event("nope", who="ana")
    assert len(plant.event_history(eid)) == 2  # refused steps left no trace


def test_repeats_of_an_open_event_are_folded_into_it(plant: Store) -> None:
    first, again = plant.add_events([alarm(), alarm(severity=Severity.ALARM)])
    assert first == again
    (ev,) = plant.events(asset_id="m1")
    assert (ev.occurrences, ev.severity) == (2, Severity.ALARM)
    plant.close_event(first, who="ana", resolution="confirmed")
    (new,) = plant.add_events([alarm()])  # after closing, the same condition is a new event
    assert new != first
    assert [e.status for e in plant.events(asset_id="m1")] == ["closed", "open"]
    assert len(plant.events(status="open")) == 1


def test_events_written_by_older_code_keep_working(plant: Store) -> None:
    old = Event(asset_id="m1", kind=EventKind.ANOMALY, start=START, evidence={"z": 4.2})
    plant.add_events([old])
    (back,) = plant.events(asset_id="m1")
    assert back.evidence == {"z": 4.2}
    assert back.status is EventStatus.OPEN
    assert back.dedup_key is None


def test_one_severity_scale() -> None:
    assert severity_scale.from_diagnosis_grade("early") is Severity.WARNING
    assert severity_scale.from_diagnosis_grade("advanced") is Severity.CRITICAL
    assert severity_scale.from_iso_zone("b") is Severity.INFO
    assert severity_scale.from_iso_zone("D") is Severity.CRITICAL
    assert severity_scale.from_anomaly_level("high") is Severity.ALARM
    assert severity_scale.worst(Severity.INFO, Severity.ALARM, Severity.WARNING) is Severity.ALARM
    with pytest.raises(InputError, match="unknown ISO zone 'E'"):
        severity_scale.from_iso_zone("E")


# ------------------------------------------------------------------ model registry
def saved_model(tmp_path: Path, seed: int) -> Path:
    path = tmp_path / f"centre-{seed}.sfmodel"
    persistence.save(Centre().fit(FRAME.to_numpy() + seed), path)
    return path


def test_registry_activate_rollback_and_hash_checked_load(plant: Store, tmp_path: Path) -> None:
    first_file = saved_model(tmp_path, 0)
    a = plant.register_model(
        first_file,
        name="centre",
        created_by="ana",
        training_data="recordings m1 2026-02",
        metrics={"auc": 0.91},
    )
    b = plant.register_model(saved_model(tmp_path, 1), name="centre", created_by="ana")
    assert plant.register_model(first_file, name="x", created_by="bo") == a
    (first, _) = plant.models()
    assert first["metrics"] == {"auc": 0.91}
    assert first["feature_config"]["n_features_in"] == 2  # from the file's version record
    plant.activate_model("m1", a, who="ana")
    plant.activate_model("m1", b, who="ana", note="retrained")
    assert plant.active_model("m1") == b
    assert plant.rollback_model("m1", who="bo", note="more false alarms") == a
    assert plant.active_model("m1") == a
    assert plant.active_model("m2", groups=("group:motors",)) is None
    plant.activate_model("group:motors", b, who="ana")
    assert plant.active_model("m2", groups=("group:motors",)) == b
    assert [d["action"] for d in plant.deployment_history("m1")] == [
        "activate",
        "activate",
        "rollback",
    ]
    with pytest.raises(InputError, match="no earlier model"):
        plant.rollback_model("m1", who="bo")
    model = plant.load_model(a, trusted=True)
    np.testing.assert_allclose(model.mean_, FRAME.to_numpy().mean(axis=0))
    path = plant.model_path(a)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ModelIntegrityError, match="does not match the registered"):
        plant.load_model(a, trusted=True)
    assert any("does not match its sha256" in p for p in plant.check().problems)


def test_registry_refuses_what_is_not_a_model(plant: Store, tmp_path: Path) -> None:
    bogus = tmp_path / "x.sfmodel"
    bogus.write_text("hello")
    with pytest.raises(InputError, match="not a shopfloor model file"):
        plant.register_model(bogus, name="x", created_by="ana")
    with pytest.raises(InputError, match="no registered model"):
        plant.activate_model("m1", "feedbeef", who="ana")


# ------------------------------------------------------------------ fleet
def test_fleet_sources_and_replacements(plant: Store) -> None:
    plant.add_plant("north", name="North works")
    plant.add_line("l1", plant_id="north")
    plant.assign_asset("m1", "l1")
    assert plant.fleet() == [
        {
            "id": "north",
            "name": "North works",
            "lines": [{"id": "l1", "name": None, "assets": ["m1"]}],
        }
    ]
    plant.set_channel_source("m1", "de", source_address="ns=2;s=M1.DE", scale=9.81, offset=0.0)
    plant.put_asset(motor())  # re-storing the asset keeps the channel's source
    assert plant.channel_sources("m1") == [
        {"channel_id": "de", "source_address": "ns=2;s=M1.DE", "scale": 9.81, "offset": 0.0}
    ]
    when = datetime.now(UTC) - timedelta(days=1)
    plant.record_replacement("m1", "de-bearing", who="bo", at=when, note="SKF 6205")
    assert plant.last_replacement("m1", "de-bearing") == when
    with pytest.raises(InputError, match=r"no component 'fan' \(it has: de-bearing\)"):
        plant.record_replacement("m1", "fan", who="bo")
    with pytest.raises(InputError, match="in the future"):
        plant.record_replacement(
            "m1", "de-bearing", who="bo", at=datetime.now(UTC) + timedelta(days=2)
        )
    with pytest.raises(InputError, match="scale must be finite and non-zero"):
        plant.set_channel_source("m1", "de", source_address=None, scale=0.0)
    with pytest.raises(InputError, match="unknown line 'l9'"):
        plant.assign_asset("m1", "l9")


# ------------------------------------------------------------------ migration
OLD_SCHEMA = [  # the DuckDB catalog of schema 1, as earlier shopfloor versions created it
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE datasets (name VARCHAR PRIMARY KEY, version VARCHAR, source VARCHAR, "
    "prepared_at TIMESTAMPTZ, n_assets INTEGER, n_recordings INTEGER, bytes BIGINT, "
    "checksums VARCHAR)",
    "CREATE TABLE assets (id VARCHAR PRIMARY KEY, kind VARCHAR, criticality VARCHAR, "
    "dataset VARCHAR, doc VARCHAR)",
    "CREATE TABLE channels (asset_id VARCHAR, id VARCHAR, quantity VARCHAR, unit VARCHAR, "
    "sample_rate_hz DOUBLE, PRIMARY KEY (asset_id, id))",
    "CREATE TABLE recordings (id VARCHAR PRIMARY KEY, asset_id VARCHAR, dataset VARCHAR, "
    "n_samples BIGINT, time_base VARCHAR, sample_rate_hz DOUBLE, start TIMESTAMPTZ, "
    "path VARCHAR, bytes BIGINT, doc VARCHAR)",
    "CREATE TABLE labels (recording_id VARCHAR, kind VARCHAR, location VARCHAR, doc VARCHAR)",
    "CREATE TABLE features (asset_id VARCHAR, recording_id VARCHAR, t DOUBLE, name VARCHAR, "
    "value DOUBLE, computed_at TIMESTAMPTZ)",
    "CREATE TABLE events (id VARCHAR PRIMARY KEY, asset_id VARCHAR, kind VARCHAR, start "
    'TIMESTAMPTZ, "end" TIMESTAMPTZ, severity VARCHAR, summary VARCHAR, evidence VARCHAR, '
    "source VARCHAR, created TIMESTAMPTZ)",
    "CREATE TABLE models (id VARCHAR PRIMARY KEY, name VARCHAR, path VARCHAR, "
    "version_record VARCHAR, created TIMESTAMPTZ)",
]


def test_a_store_of_the_duckdb_era_is_migrated_with_its_data(tmp_path: Path) -> None:
    from tests.test_store import make_asset, make_recording

    home = tmp_path / "old"
    rel = "waveforms/asset=m1/day=undated/r1-abc.parquet"
    (home / rel).parent.mkdir(parents=True)
    data = make_recording("r1")
    pq.write_table(pa.Table.from_pandas(data.samples, preserve_index=False), home / rel)
    con = duckdb.connect(str(home / "shopfloor.duckdb"))
    for statement in OLD_SCHEMA:
        con.execute(statement)
    asset = make_asset()
    rec = data.recording
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO datasets VALUES ('ds', '1', 'test', ?, 1, 1, 10, '{}')", [START])
    con.execute(
        "INSERT INTO assets VALUES ('m1', 'induction_motor', 'B', 'ds', ?)",
        [asset.model_dump_json()],
    )
    con.execute("INSERT INTO channels VALUES ('m1', 'de', 'acceleration', 'g', 1000)")
    con.execute(
        "INSERT INTO recordings VALUES ('r1', 'm1', 'ds', 500, 'uniform', 1000, NULL, ?, 10, ?)",
        [rel, rec.model_dump_json()],
    )
    con.execute(
        "INSERT INTO labels VALUES ('r1', 'fault', 'outer_race', ?)",
        [rec.labels[0].model_dump_json()],
    )
    con.execute(
        "INSERT INTO events VALUES "
        "('e1', 'm1', 'anomaly', ?, NULL, 'warning', 'old', '{}', NULL, ?)",
        [START, START],
    )
    con.close()
    with Store.open(home) as store:
        assert [r.id for r in store.recordings(dataset="ds")] == ["r1"]
        np.testing.assert_array_equal(store.load("r1").channel("de"), data.channel("de"))
        assert store.asset("m1") == asset
        (ev,) = store.events()
        assert (ev.id, ev.start, ev.status) == ("e1", START, EventStatus.OPEN)
        info = store.dataset_info("ds")
        assert info is not None
        assert info["n_recordings"] == 1
        assert pd.Timestamp(info["prepared_at"]) == pd.Timestamp(START)
        assert store.check().clean
    assert (home / "shopfloor.duckdb.migrated").exists()
    assert not (home / "shopfloor.duckdb").exists()
    with Store.open(home, read_only=True) as again:  # and it opens as a current store now
        assert [r.id for r in again.recordings()] == ["r1"]
