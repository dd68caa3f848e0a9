"""Scalar streams: irregular readings of one channel (temperature, speed, a pressure).

A reading is (asset, channel, time, value, optional sequence number). Readings arrive when the
sender decides (on change, every few seconds), so there is no sample rate and no block: each
reading is a row, keyed by (asset, channel, time). Writing a reading again (a re-delivered
message) stores nothing; the same time with a different value is a conflict, reported and not
stored (the first value is the one that was acted on).

Refused for the whole call, nothing stored, with an :class:`InputError` naming the reading: an
asset or channel the store does not know, a value that is not a finite number, a reading more
than :data:`~shopfloor.core.store.streams.MAX_CLOCK_SKEW_S` in the future.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from shopfloor.core.errors import InputError
from shopfloor.core.store.handle import StoreHandle
from shopfloor.core.store.streams import MAX_CLOCK_SKEW_S, NS, to_ns


@dataclass(frozen=True)
class ScalarReading:
    """One reading; ``t`` is UTC (naive datetimes are UTC) or ns since the epoch."""

    asset_id: str
    channel_id: str
    t: datetime | int
    value: float
    seq: int | None = None


@dataclass
class ScalarReport:
    """What one :meth:`Scalars.append_scalars` call did; ``conflicts`` name what was refused."""

    stored: int = 0
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScalarSeries:
    """Readings of one channel: ``t_ns`` (int64 ns since the epoch, ascending) and ``values``."""

    asset_id: str
    channel_id: str
    unit: str | None
    t_ns: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


class Scalars(StoreHandle):
    """Append and read scalar readings (mixed into :class:`Store`)."""

    def append_scalars(self, readings: Sequence[ScalarReading]) -> ScalarReport:
        """Store readings in one transaction, idempotent on (asset, channel, time)."""
        self._require_writer()
        now_ns = time.time_ns()
        known: dict[tuple[str, str], bool] = {}
        rows: list[tuple[str, str, int, float, int | None]] = []
        for i, r in enumerate(readings):
            where = f"reading {i} ({r.asset_id}/{r.channel_id})"
            key = (r.asset_id, r.channel_id)
            if key not in known:
                known[key] = (
                    self._con.execute(
                        "SELECT 1 FROM channels WHERE asset_id = ? AND id = ?", list(key)
                    ).fetchone()
                    is not None
                )
            if not known[key]:
                raise InputError(
                    f"{where}: no channel {r.channel_id!r} on asset {r.asset_id!r} in the store "
                    "(register the asset first)",
                    column="channel_id",
                )
            try:
                value = float(r.value)
            except (TypeError, ValueError):
                msg = f"{where}: value {r.value!r} is not a number"
                raise InputError(msg, column="value") from None
            if not math.isfinite(value):
                raise InputError(f"{where}: value {value} is not finite", column="value")
            t = to_ns(r.t)
            if t > now_ns + MAX_CLOCK_SKEW_S * NS:
                raise InputError(
                    f"{where}: time is {(t - now_ns) / NS:.1f} s after the store's clock "
                    f"(more than {MAX_CLOCK_SKEW_S:g} s in the future); check the sender's clock",
                    column="t",
                )
            rows.append((r.asset_id, r.channel_id, t, value, r.seq))
        report = ScalarReport()
        if not rows:
            return report
        with self._transaction() as con:
            for row in rows:
                before = con.total_changes
                con.execute("INSERT OR IGNORE INTO scalars VALUES (?, ?, ?, ?, ?)", row)
                if con.total_changes > before:
                    report.stored += 1
                    continue
                stored = con.execute(
                    "SELECT value FROM scalars WHERE asset_id = ? AND channel_id = ? AND t_ns = ?",
                    row[:3],
                ).fetchone()[0]
                if float(stored) == row[3]:
                    report.duplicates += 1
                else:
                    report.conflicts.append(
                        f"{row[0]}/{row[1]} at {row[2]} ns: {row[3]} differs from the stored "
                        f"{stored}; kept the stored value"
                    )
        return report

    def read_scalars(
        self,
        asset_id: str,
        channel_id: str,
        start: datetime | int | None = None,
        end: datetime | int | None = None,
    ) -> ScalarSeries:
        """Readings of one channel with ``start <= t < end`` (either may be None: open)."""
        sql = "SELECT t_ns, value FROM scalars WHERE asset_id = ? AND channel_id = ?"
        params: list[object] = [asset_id, channel_id]
        if start is not None:
            sql, params = sql + " AND t_ns >= ?", [*params, to_ns(start)]
        if end is not None:
            sql, params = sql + " AND t_ns < ?", [*params, to_ns(end)]
        rows = self._con.execute(sql + " ORDER BY t_ns", params).fetchall()
        unit = self._con.execute(
            "SELECT unit FROM channels WHERE asset_id = ? AND id = ?", [asset_id, channel_id]
        ).fetchone()
        return ScalarSeries(
            asset_id,
            channel_id,
            None if unit is None or unit[0] is None else str(unit[0]),
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.float64),
        )

    def latest_scalars(self, asset_id: str | None = None) -> list[ScalarReading]:
        """The newest reading of every scalar channel (of one asset, if given)."""
        where, params = ("WHERE asset_id = ?", [asset_id]) if asset_id is not None else ("", [])
        rows = self._con.execute(
            "SELECT s.asset_id, s.channel_id, s.t_ns, s.value, s.seq FROM scalars s JOIN "
            f"(SELECT asset_id, channel_id, max(t_ns) AS t_ns FROM scalars {where} "
            "GROUP BY asset_id, channel_id) m USING (asset_id, channel_id, t_ns) "
            "ORDER BY s.asset_id, s.channel_id",
            params,
        ).fetchall()
        return [
            ScalarReading(str(a), str(c), int(t), float(v), None if q is None else int(q))
            for a, c, t, v, q in rows
        ]

    def scalar_channels(self) -> list[dict[str, object]]:
        """Every channel with readings: asset, channel, count, first and last time (ns)."""
        rows = self._con.execute(
            "SELECT asset_id, channel_id, count(*), min(t_ns), max(t_ns) FROM scalars "
            "GROUP BY asset_id, channel_id ORDER BY asset_id, channel_id"
        ).fetchall()
        return [
            {"asset_id": a, "channel_id": c, "count": n, "first_ns": lo, "last_ns": hi}
            for a, c, n, lo, hi in rows
        ]
