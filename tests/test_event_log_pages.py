"""The event log's paged and counted reads, change cursor and comments (used by the service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopfloor.core.errors import InputError
from shopfloor.core.events import Event, EventKind, Severity
from shopfloor.core.store import Store

T0 = datetime(2026, 5, 1, tzinfo=UTC)
SEVS = [Severity.WARNING, Severity.CRITICAL, Severity.INFO, Severity.ALARM]


def _events(n: int) -> list[Event]:
    return [
        Event(
            asset_id=f"m{i % 3}",
            kind=EventKind.ALERT,
            start=T0 + timedelta(minutes=i),
            severity=SEVS[i % 4],
            summary=f"alert {i}",
            source="det-a" if i % 2 else "det-b",
        )
        for i in range(n)
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "home")
    s.add_events(_events(12))
    return s


def test_pages_newest_first_match_the_full_listing(store: Store) -> None:
    everything = store.events()
    assert [e.summary for e in everything] == [f"alert {i}" for i in range(12)]
    newest = store.events(newest_first=True, limit=5)
    assert [e.summary for e in newest] == [f"alert {i}" for i in range(11, 6, -1)]
    second = store.events(newest_first=True, limit=5, offset=5)
    assert [e.summary for e in second] == [f"alert {i}" for i in range(6, 1, -1)]
    assert store.events(asset_id="m1", limit=2) == [e for e in everything if e.asset_id == "m1"][:2]
    assert store.count_events() == 12
    assert store.count_events(asset_id="m0") == 4


def test_worst_first_and_several_statuses(store: Store) -> None:
    ids = [e.id for e in store.events()]
    store.acknowledge_event(ids[1], who="olga")
    store.close_event(ids[5], who="olga", resolution="false_alarm")
    worst = store.events(worst_first=True, limit=3)
    assert [e.severity for e in worst] == [Severity.CRITICAL] * 3
    assert [e.summary for e in worst] == ["alert 1", "alert 5", "alert 9"]
    not_closed = store.events(status=("open", "acknowledged"))
    assert len(not_closed) == 11
    assert ids[5] not in {e.id for e in not_closed}
    assert store.count_events(status="acknowledged") == 1
    with pytest.raises(InputError, match="status must be among"):
        store.events(status=("open", "gone"))
    with pytest.raises(InputError, match="limit and offset"):
        store.events(limit=-1)


def test_counts_group_in_sql(store: Store) -> None:
    ids = [e.id for e in store.events()]
    store.close_event(ids[0], who="olga", resolution="confirmed")
    store.close_event(ids[1], who="olga", resolution="false_alarm")
    store.close_event(ids[3], who="olga", resolution="confirmed")
    rows = store.event_counts(("source", "resolution"), status="closed")
    assert rows == [
        {"source": "det-a", "resolution": "confirmed", "n": 1},
        {"source": "det-a", "resolution": "false_alarm", "n": 1},
        {"source": "det-b", "resolution": "confirmed", "n": 1},
    ]
    by_asset = store.event_counts(("asset_id",))
    assert by_asset == [{"asset_id": f"m{k}", "n": 4} for k in range(3)]
    assert store.event_counts(("month",)) == [{"month": "2026-05", "n": 12}]
    with pytest.raises(InputError, match="cannot group events by"):
        store.event_counts(("summary; DROP TABLE events",))


def test_cursor_returns_exactly_what_changed(store: Store) -> None:
    cursor = store.event_cursor()
    assert store.events_since(cursor) == ([], cursor)
    ids = [e.id for e in store.events()]
    store.acknowledge_event(ids[4], who="olga")
    (new,) = store.add_events(_events(13)[12:])
    store.comment_event(ids[2], who="olga", note="grease nipple blocked")
    changed, after = store.events_since(cursor)
    assert [e.id for e in changed] == [ids[4], new, ids[2]]
    assert changed[0].status.value == "acknowledged"
    assert after == store.event_cursor() > cursor
    first, mid = store.events_since(cursor, limit=1)
    assert [e.id for e in first] == [ids[4]]
    rest, end = store.events_since(mid)
    assert [e.id for e in rest] == [new, ids[2]]
    assert end == after
    everything, _ = store.events_since(0, limit=10_000)
    assert len(everything) == 13


def test_comments_are_history_and_leave_the_event_alone(store: Store) -> None:
    event = store.events()[0]
    store.comment_event(event.id, who="olga", note="noise at the drive end")
    store.close_event(event.id, who="olga", resolution="confirmed")
    store.comment_event(event.id, who="ivan", note="bearing replaced 2026-05-03")
    actions = [(h["action"], h["who"]) for h in store.event_history(event.id)]
    assert actions == [
        ("opened", "det-b"),
        ("commented", "olga"),
        ("closed:confirmed", "olga"),
        ("commented", "ivan"),
    ]
    assert store.event(event.id).status.value == "closed"
    with pytest.raises(InputError, match="needs text"):
        store.comment_event(event.id, who="olga", note="  ")
    with pytest.raises(InputError, match="say who"):
        store.comment_event(event.id, who="", note="x")
    with pytest.raises(InputError, match="no event"):
        store.comment_event("nope", who="olga", note="x")
    before = store.event_history(event.id)
    assert store.event_history(event.id) == before


def test_kind_and_evidence_filters(store: Store) -> None:
    quality = Event(
        asset_id="m0",
        kind=EventKind.ALERT,
        start=T0,
        severity=Severity.WARNING,
        summary="m0/de: data quality: stale",
        evidence={"data_quality": "stale"},
    )
    guard = quality.model_copy(update={"id": "q2", "kind": EventKind.DATA_QUALITY, "evidence": {}})
    store.add_events([quality, guard])
    assert [e.id for e in store.events(with_evidence="data_quality")] == [quality.id]
    assert [e.id for e in store.events(kind="data_quality")] == ["q2"]
    assert store.count_events(kind="alert") == 13
    with pytest.raises(InputError, match="not a name"):
        store.events(with_evidence="x') OR 1=1 --")
    with pytest.raises(InputError, match="unknown event kind"):
        store.events(kind="gossip")
