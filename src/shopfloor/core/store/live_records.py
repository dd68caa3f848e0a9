"""What a live pipeline keeps besides raw blocks: window results, window origins, dead letters.

Window results are one row per (pipeline, asset, channel, window): the window's time span, its
status (``ok``, ``error``, ``incomplete``) and the chain's results as JSON. The key is the
window's identity, so writing a window again (a restart re-assessing what it already decided)
stores nothing: the first write wins, and :meth:`LiveRecords.append_windows` says how many rows
were new. The dashboard reads them from another process (readers never wait for the writer):
the newest result per channel, a trend of one result field over a time range.

Dead letters are messages that never became a record (garbage, an unknown topic, a block the
store refused), kept with their reason and the first bytes of their payload so a person can see
what the sender sent.

Result JSON: non-finite numbers (NaN, inf) are stored as ``null`` (JSON has no NaN, and SQLite's
JSON functions refuse it), so a trend simply has no point for such a window.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from shopfloor.core.errors import InputError
from shopfloor.core.store.handle import StoreHandle
from shopfloor.core.store.streams import to_ns

DEAD_LETTER_KEEP_BYTES = 1024
"""Bytes of a refused payload kept with its dead letter: enough to recognise a header or a
JSON document, small enough that a flood of garbage cannot fill the disk (10,000 a day: 10 MB)."""

WINDOW_STATUSES = ("ok", "error", "incomplete")


@dataclass(frozen=True)
class WindowOrigin:
    """Where a channel's windows start: window ``k`` holds blocks ``origin_seq + k * bpw ...``."""

    origin_seq: int
    blocks_per_window: int
    start_ns: int
    block_samples: int


@dataclass(frozen=True)
class WindowResult:
    """One assessed window of one channel.

    Attributes
    ----------
    start_ns, end_ns:
        The window's first sample and the end of its last sample, ns since the epoch (UTC).
    status:
        ``ok``, ``error`` (a component failed; ``results["error"]`` says which and why) or
        ``incomplete`` (blocks missing; no results).
    decided_ns:
        When the chain decided it (writer's clock, ns since the epoch).
    decisions:
        How many times the window was written (read back; more than 1 means it was decided
        again, e.g. by a restarted service, and the later decisions were not kept).
    results:
        The chain's results, JSON (see :mod:`shopfloor.pipelines.live.components` for the keys).
    """

    pipeline: str
    asset_id: str
    channel_id: str
    window: int
    start_ns: int
    end_ns: int
    status: str = "ok"
    results: dict[str, Any] | None = None
    decided_ns: int = 0
    decisions: int = 1


@dataclass(frozen=True)
class WindowTrend:
    """One result field of one channel over time: ``t_ns`` (window ends), ``values`` and the
    ``window`` indices they come from."""

    asset_id: str
    channel_id: str
    field: str
    t_ns: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    window: npt.NDArray[np.int64]


@dataclass(frozen=True)
class DeadLetterRecord:
    """A message that never became a record.

    source: where it came from (``mqtt``, ``opcua``, ``folder`` ...); topic: its topic, node or
    file (None when unknown); payload: its first :data:`DEAD_LETTER_KEEP_BYTES` bytes;
    payload_bytes: its full length; id: the store's row id (None before it is stored).
    """

    source: str
    reason: str
    received_ns: int
    topic: str | None = None
    payload: bytes = b""
    payload_bytes: int | None = None
    pipeline: str | None = None
    id: int | None = None


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and numpy scalars as Python numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def _when(value: datetime | int | None) -> int | None:
    return None if value is None else to_ns(value)


def _field_path(name: str) -> str:
    parts = name.split(".")
    if not name or any(not p or not p.replace("_", "").isalnum() for p in parts):
        raise InputError(
            f"result field {name!r}: use dotted names of letters, digits and '_' "
            "(e.g. 'anomaly.score', 'time.rms')"
        )
    return "$." + ".".join(parts)


class LiveRecords(StoreHandle):
    """Window results, window origins and dead letters (mixed into :class:`Store`)."""

    # ------------------------------------------------------------------ window results
    def append_windows(self, rows: Sequence[WindowResult]) -> int:
        """Store window results in one transaction; returns how many were new.

        Idempotent on (pipeline, asset, channel, window): a window already stored is left as it
        is (the first decision is the one that was acted on).
        """
        for i, r in enumerate(rows):
            if r.status not in WINDOW_STATUSES:
                raise InputError(
                    f"window result {i} ({r.asset_id}/{r.channel_id} window {r.window}): "
                    f"status {r.status!r} is not one of {', '.join(WINDOW_STATUSES)}"
                )
        now = time.time_ns()
        params = [
            (
                r.pipeline,
                r.asset_id,
                r.channel_id,
                int(r.window),
                int(r.start_ns),
                int(r.end_ns),
                r.status,
                int(r.decided_ns or now),
                None if r.results is None else json.dumps(json_safe(r.results), allow_nan=False),
            )
            for r in rows
        ]
        if not params:
            return 0
        with self._transaction() as con:
            new = 0
            for p in params:
                cur = con.execute(
                    "INSERT INTO window_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
                    "ON CONFLICT DO UPDATE SET decisions = decisions + 1 RETURNING decisions",
                    p,
                )
                new += cur.fetchone()[0] == 1
            return new

    def window_results(
        self,
        *,
        pipeline: str | None = None,
        asset_id: str | None = None,
        channel_id: str | None = None,
        since: datetime | int | None = None,
        until: datetime | int | None = None,
        status: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[WindowResult]:
        """Window results filtered by pipeline, asset, channel, status and window end time
        (``since <= end < until``), oldest first unless ``newest_first``."""
        where, params = self._window_filter(pipeline, asset_id, channel_id, since, until)
        if status is not None:
            where, params = where + " AND status = ?", [*params, status]
        order = "DESC" if newest_first else "ASC"
        sql = (
            f"SELECT * FROM window_results WHERE {where} "
            f"ORDER BY end_ns {order}, asset_id, channel_id"
        )
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, int(limit)]
        return [_window_row(r) for r in self._con.execute(sql, params)]

    def latest_window_results(
        self, *, pipeline: str | None = None, asset_id: str | None = None
    ) -> list[WindowResult]:
        """The newest ``ok`` window of every (pipeline, asset, channel), ordered by those."""
        where, params = self._window_filter(pipeline, asset_id, None, None, None)
        sql = (
            "SELECT w.* FROM window_results w JOIN (SELECT pipeline, asset_id, channel_id, "
            "max(window_index) AS window_index FROM window_results "
            f"WHERE {where} AND status = 'ok' GROUP BY pipeline, asset_id, channel_id) m "
            "USING (pipeline, asset_id, channel_id, window_index) "
            "ORDER BY w.pipeline, w.asset_id, w.channel_id"
        )
        return [_window_row(r) for r in self._con.execute(sql, params)]

    def window_trend(
        self,
        asset_id: str,
        channel_id: str,
        field: str,
        *,
        since: datetime | int | None = None,
        until: datetime | int | None = None,
        pipeline: str | None = None,
    ) -> WindowTrend:
        """One numeric result field (dotted path, e.g. ``anomaly.score``) over window end time.

        Windows without the field (or with a non-number there) are left out.
        """
        path = _field_path(field)
        where, params = self._window_filter(pipeline, asset_id, channel_id, since, until)
        rows = self._con.execute(
            f"SELECT end_ns, json_extract(results, ?) AS v, window_index FROM window_results "
            f"WHERE {where} "
            "AND status = 'ok' AND typeof(json_extract(results, ?)) IN ('integer', 'real') "
            "ORDER BY end_ns",
            [path, *params, path],
        ).fetchall()
        return WindowTrend(
            asset_id,
            channel_id,
            field,
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.float64),
            np.array([r[2] for r in rows], dtype=np.int64),
        )

    def window_heads(self, pipeline: str) -> dict[tuple[str, str], tuple[int, int]]:
        """Per (asset, channel) of a pipeline: the last window recorded and its end (ns)."""
        rows = self._con.execute(
            "SELECT asset_id, channel_id, window_index, end_ns FROM window_results w WHERE "
            "pipeline = ? AND window_index = (SELECT max(window_index) FROM window_results x WHERE "
            "x.pipeline = w.pipeline AND x.asset_id = w.asset_id AND x.channel_id = w.channel_id)",
            [pipeline],
        ).fetchall()
        return {(str(a), str(c)): (int(k), int(e)) for a, c, k, e in rows}

    def window_end(self, pipeline: str, asset_id: str, channel_id: str, window: int) -> int | None:
        """End (ns) of one recorded window, or None when it is not recorded."""
        row = self._con.execute(
            "SELECT end_ns FROM window_results WHERE pipeline = ? AND asset_id = ? AND "
            "channel_id = ? AND window_index = ?",
            [pipeline, asset_id, channel_id, window],
        ).fetchone()
        return None if row is None else int(row[0])

    def windows_decided_again(self, *, pipeline: str | None = None) -> int:
        """Decisions beyond the first, over all windows (0: no window was counted twice)."""
        where, params = self._window_filter(pipeline, None, None, None, None)
        return int(
            self._con.execute(
                f"SELECT coalesce(sum(decisions - 1), 0) FROM window_results WHERE {where}", params
            ).fetchone()[0]
        )

    def window_count(self, *, pipeline: str | None = None, status: str | None = None) -> int:
        where, params = self._window_filter(pipeline, None, None, None, None)
        if status is not None:
            where, params = where + " AND status = ?", [*params, status]
        return int(
            self._con.execute(
                f"SELECT count(*) FROM window_results WHERE {where}", params
            ).fetchone()[0]
        )

    @staticmethod
    def _window_filter(
        pipeline: str | None,
        asset_id: str | None,
        channel_id: str | None,
        since: datetime | int | None,
        until: datetime | int | None,
    ) -> tuple[str, list[Any]]:
        where, params = "1=1", list[Any]()
        for column, value in (
            ("pipeline", pipeline),
            ("asset_id", asset_id),
            ("channel_id", channel_id),
        ):
            if value is not None:
                where, params = f"{where} AND {column} = ?", [*params, value]
        if (lo := _when(since)) is not None:
            where, params = where + " AND end_ns >= ?", [*params, lo]
        if (hi := _when(until)) is not None:
            where, params = where + " AND end_ns < ?", [*params, hi]
        return where, params

    # ------------------------------------------------------------------ window origins
    def set_window_origin(
        self, pipeline: str, asset_id: str, channel_id: str, origin: WindowOrigin
    ) -> bool:
        """Record where a channel's windows start; False (nothing changed) if already set."""
        with self._transaction() as con:
            before = con.total_changes
            con.execute(
                "INSERT OR IGNORE INTO window_origins VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    pipeline,
                    asset_id,
                    channel_id,
                    origin.origin_seq,
                    origin.blocks_per_window,
                    origin.start_ns,
                    origin.block_samples,
                ],
            )
            return con.total_changes > before

    def window_origins(self, pipeline: str) -> dict[tuple[str, str], WindowOrigin]:
        rows = self._con.execute(
            "SELECT asset_id, channel_id, origin_seq, blocks_per_window, start_ns, block_samples "
            "FROM window_origins WHERE pipeline = ?",
            [pipeline],
        ).fetchall()
        return {(str(r[0]), str(r[1])): WindowOrigin(*map(int, r[2:])) for r in rows}

    # ------------------------------------------------------------------ dead letters
    def add_dead_letters(self, letters: Sequence[DeadLetterRecord]) -> list[int]:
        """Store dead letters (payload cut to :data:`DEAD_LETTER_KEEP_BYTES`); their row ids."""
        ids: list[int] = []
        if not letters:
            return ids
        with self._transaction() as con:
            for d in letters:
                cur = con.execute(
                    "INSERT INTO dead_letters (source, topic, received_ns, reason, payload, "
                    "payload_bytes, pipeline) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        d.source,
                        d.topic,
                        int(d.received_ns),
                        d.reason,
                        bytes(d.payload[:DEAD_LETTER_KEEP_BYTES]),
                        len(d.payload) if d.payload_bytes is None else int(d.payload_bytes),
                        d.pipeline,
                    ],
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    def dead_letters(
        self,
        *,
        source: str | None = None,
        pipeline: str | None = None,
        since: datetime | int | None = None,
        until: datetime | int | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[DeadLetterRecord]:
        """Dead letters by receipt time (``since <= received < until``), newest first."""
        where, params = self._dead_filter(source, pipeline, since, until)
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT id, source, topic, received_ns, reason, payload, payload_bytes, pipeline "
            f"FROM dead_letters WHERE {where} ORDER BY received_ns {order}, id {order}"
        )
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, int(limit)]
        return [
            DeadLetterRecord(
                source=str(r[1]),
                topic=None if r[2] is None else str(r[2]),
                received_ns=int(r[3]),
                reason=str(r[4]),
                payload=bytes(r[5] or b""),
                payload_bytes=None if r[6] is None else int(r[6]),
                pipeline=None if r[7] is None else str(r[7]),
                id=int(r[0]),
            )
            for r in self._con.execute(sql, params)
        ]

    def dead_letter_count(
        self,
        *,
        source: str | None = None,
        pipeline: str | None = None,
        since: datetime | int | None = None,
        until: datetime | int | None = None,
    ) -> int:
        where, params = self._dead_filter(source, pipeline, since, until)
        return int(
            self._con.execute(
                f"SELECT count(*) FROM dead_letters WHERE {where}", params
            ).fetchone()[0]
        )

    @staticmethod
    def _dead_filter(
        source: str | None,
        pipeline: str | None,
        since: datetime | int | None,
        until: datetime | int | None,
    ) -> tuple[str, list[Any]]:
        where, params = "1=1", list[Any]()
        if source is not None:
            where, params = where + " AND source = ?", [*params, source]
        if pipeline is not None:
            where, params = where + " AND pipeline = ?", [*params, pipeline]
        if (lo := _when(since)) is not None:
            where, params = where + " AND received_ns >= ?", [*params, lo]
        if (hi := _when(until)) is not None:
            where, params = where + " AND received_ns < ?", [*params, hi]
        return where, params


def _window_row(r: Any) -> WindowResult:
    return WindowResult(
        pipeline=str(r[0]),
        asset_id=str(r[1]),
        channel_id=str(r[2]),
        window=int(r[3]),
        start_ns=int(r[4]),
        end_ns=int(r[5]),
        status=str(r[6]),
        decided_ns=int(r[7]),
        results=None if r[8] is None else json.loads(r[8]),
        decisions=int(r[9]),
    )
