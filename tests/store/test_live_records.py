"""The store's records for the live loop: window results, origins, dead letters, scalars,
and the additive migration of a schema-2 catalog."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shopfloor.core.assets import Asset, Channel
from shopfloor.core.errors import InputError
from shopfloor.core.store import (
    DeadLetterRecord,
    ScalarReading,
    Store,
    WindowOrigin,
    WindowResult,
)
from shopfloor.core.store.catalog import CATALOG_NAME, connect
from shopfloor.core.store.live_records import DEAD_LETTER_KEEP_BYTES
from shopfloor.core.store.schema import MIGRATIONS, SCHEMA_VERSION

NS = 1_000_000_000
T0 = 1_780_000_000 * NS


def motor() -> Asset:
    return Asset(
        id="m1",
        kind="induction_motor",
        channels=[
            Channel(id="de", quantity="acceleration", unit="g", sample_rate_hz=25_600),
            Channel(id="temp", quantity="temperature", unit="degC"),
        ],
    )


def window(k: int, score: float, *, pipeline: str = "p", channel: str = "de") -> WindowResult:
    return WindowResult(
        pipeline,
        "m1",
        channel,
        k,
        T0 + k * NS,
        T0 + (k + 1) * NS,
        "ok",
        {"anomaly": {"score": score, "threshold": 3.0}, "time": {"rms": 0.1 * k}},
        T0 + (k + 1) * NS + 5_000_000,
    )


def test_window_results_idempotent_latest_and_trend(store: Store) -> None:
    assert store.append_windows([window(k, float(k)) for k in range(5)]) == 5
    # a restart writing the same windows again (with other results) stores nothing
    assert store.append_windows([window(k, 99.0) for k in range(3, 7)]) == 2
    rows = store.window_results(pipeline="p", asset_id="m1", channel_id="de")
    assert [r.window for r in rows] == list(range(7))
    assert rows[3].results is not None
    assert rows[3].results["anomaly"]["score"] == 3.0
    newest = store.window_results(asset_id="m1", limit=2, newest_first=True)
    assert [r.window for r in newest] == [6, 5]
    ranged = store.window_results(since=T0 + 2 * NS, until=T0 + 4 * NS)
    assert [r.window for r in ranged] == [1, 2]  # by window end: [since, until)
    store.append_windows(
        [WindowResult("p", "m1", "de", 7, 0, 0, "incomplete", None, T0)]
        + [window(k, float(k), channel="temp") for k in range(2)]
    )
    latest = {r.channel_id: r.window for r in store.latest_window_results(pipeline="p")}
    assert latest == {"de": 6, "temp": 1}  # the incomplete window 7 is not a result
    trend = store.window_trend("m1", "de", "anomaly.score", since=T0)
    assert trend.t_ns.tolist() == [T0 + (k + 1) * NS for k in range(7)]
    assert trend.values.tolist() == [0, 1, 2, 3, 4, 99, 99]
    assert store.window_heads("p") == {("m1", "de"): (7, 0), ("m1", "temp"): (1, T0 + 2 * NS)}
    assert store.window_end("p", "m1", "de", 2) == T0 + 3 * NS
    assert store.window_end("p", "m1", "de", 70) is None
    assert store.window_count(pipeline="p", status="incomplete") == 1
    # windows 3..4 were written twice: the first results kept, the repeat counted
    assert store.windows_decided_again(pipeline="p") == 2
    assert [r.decisions for r in rows[2:6]] == [1, 2, 2, 1]


def test_window_results_bad_input(store: Store) -> None:
    bad = WindowResult("p", "m1", "de", 0, 0, 1, "fine", None)
    with pytest.raises(InputError, match="status 'fine'"):
        store.append_windows([window(0, 1.0), bad])
    assert store.window_count() == 0  # nothing of the call stored
    with pytest.raises(InputError, match="dotted names"):
        store.window_trend("m1", "de", "anomaly.score'); DROP TABLE x; --")
    # NaN is not JSON: stored as null, so the trend has no point for that window
    store.append_windows([window(0, float("nan")), window(1, 2.0)])
    assert store.window_trend("m1", "de", "anomaly.score").values.tolist() == [2.0]


def test_window_origins(store: Store) -> None:
    o = WindowOrigin(10, 4, T0, 6400)
    assert store.set_window_origin("p", "m1", "de", o)
    assert not store.set_window_origin("p", "m1", "de", WindowOrigin(99, 1, 0, 1))
    assert store.window_origins("p") == {("m1", "de"): o}
    assert store.window_origins("other") == {}


def test_dead_letters(store: Store) -> None:
    big = bytes(range(256)) * 20
    ids = store.add_dead_letters(
        [
            DeadLetterRecord("mqtt", "garbage payload: bad magic", T0, "shopfloor/x/y", big),
            DeadLetterRecord("mqtt", "unknown topic", T0 + NS, "nowhere", b"{}", pipeline="p"),
            DeadLetterRecord("opcua", "bad value", T0 + 2 * NS),
        ]
    )
    assert len(ids) == 3
    assert store.dead_letter_count() == 3
    assert store.dead_letter_count(source="mqtt") == 2
    assert store.dead_letter_count(since=T0 + NS) == 2
    rows = store.dead_letters(source="mqtt", newest_first=False)
    assert [r.reason for r in rows] == ["garbage payload: bad magic", "unknown topic"]
    assert rows[0].payload == big[:DEAD_LETTER_KEEP_BYTES]
    assert rows[0].payload_bytes == len(big)
    assert (rows[1].pipeline, rows[1].topic) == ("p", "nowhere")
    assert [r.source for r in store.dead_letters(limit=1)] == ["opcua"]  # newest first


def test_scalars_append_read_latest(store: Store) -> None:
    store.put_asset(motor())
    readings = [ScalarReading("m1", "temp", T0 + k * 3 * NS, 40.0 + k, k) for k in range(5)]
    rep = store.append_scalars(readings)
    assert (rep.stored, rep.duplicates, rep.conflicts) == (5, 0, [])
    again = store.append_scalars(
        [readings[1], ScalarReading("m1", "temp", T0 + 3 * NS, 55.0), readings[4]]
    )
    assert (again.stored, again.duplicates, len(again.conflicts)) == (0, 2, 1)
    assert "kept the stored value" in again.conflicts[0]
    series = store.read_scalars("m1", "temp", T0 + 3 * NS, T0 + 12 * NS)
    assert series.unit == "degC"
    assert series.values.tolist() == [41.0, 42.0, 43.0]
    assert store.read_scalars("m1", "temp").t_ns.size == 5
    latest = store.latest_scalars()
    assert [(r.channel_id, r.value, r.seq) for r in latest] == [("temp", 44.0, 4)]
    assert store.scalar_channels()[0]["count"] == 5
    when = datetime(2026, 5, 1, tzinfo=UTC)
    store.append_scalars([ScalarReading("m1", "temp", when, 20.0)])
    assert store.read_scalars("m1", "temp", when, when + timedelta(seconds=1)).values[0] == 20.0


@pytest.mark.parametrize(
    ("reading", "match"),
    [
        (ScalarReading("m1", "nope", T0, 1.0), "no channel 'nope'"),
        (ScalarReading("m2", "temp", T0, 1.0), "no channel 'temp' on asset 'm2'"),
        (ScalarReading("m1", "temp", T0, float("nan")), "not finite"),
        (ScalarReading("m1", "temp", T0, "warm"), "not a number"),  # type: ignore[arg-type]
        (ScalarReading("m1", "temp", datetime.now(UTC) + timedelta(hours=2), 1.0), "future"),
    ],
)
def test_scalars_bad_input_refuses_the_call(
    store: Store, reading: ScalarReading, match: str
) -> None:
    store.put_asset(motor())
    good = ScalarReading("m1", "temp", T0, 30.0)
    with pytest.raises(InputError, match=match):
        store.append_scalars([good, reading])
    assert store.read_scalars("m1", "temp").values.size == 0


def test_schema2_store_migrates_and_keeps_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    con = connect(home, read_only=False)
    for version in range(2):  # a catalog exactly as the previous shopfloor left it
        for statement in MIGRATIONS[version]:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    con.execute("INSERT INTO assets (id, kind, doc) VALUES ('m1', 'motor', '{}')")
    con.close()
    assert SCHEMA_VERSION == 3
    with pytest.raises(Exception, match="needs a schema migration"):
        Store.open(home, read_only=True)
    with Store.open(home) as s:
        assert s.schema_version == 3
        assert s.has_asset("m1")
        assert s.append_windows([window(0, 1.0)]) == 1
        assert s.info()["window_results"] == 1
    with Store.open(home, read_only=True) as r:
        assert r.window_count() == 1
    assert (home / CATALOG_NAME).exists()


def test_reader_in_another_process_sees_committed_windows(store: Store) -> None:
    store.append_windows([window(k, float(k)) for k in range(4)])
    store.add_dead_letters([DeadLetterRecord("mqtt", "garbage", T0)])
    code = (
        "import sys; from shopfloor.core.store import Store\n"
        "with Store.open(sys.argv[1], read_only=True) as s:\n"
        "    t = s.window_trend('m1', 'de', 'anomaly.score')\n"
        "    print(len(s.latest_window_results()), t.values.sum(), s.dead_letter_count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(store.home)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "6.0", "1"]  # while this process holds the writer lock


def test_window_results_readable_as_numpy_values(store: Store) -> None:
    store.append_windows([window(k, float(k) / 2) for k in range(3)])
    trend = store.window_trend("m1", "de", "time.rms")
    assert trend.values.dtype == np.float64
    np.testing.assert_allclose(trend.values, [0.0, 0.1, 0.2])
