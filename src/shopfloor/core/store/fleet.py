"""The fleet: plants, lines, where each channel's samples come from, and component replacements.

A channel's ``source_address`` is where the live pipeline reads it (an MQTT topic, an OPC UA
node id); ``scale`` and ``offset`` turn the raw reading into the channel's unit
(``value = raw * scale + offset``), so a sensor swap with another sensitivity is a record here,
not a code change. A component replacement is dated: remaining-life estimates and anomaly
baselines of that component start again from it (:meth:`FleetRecords.last_replacement`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from shopfloor.core.assets import Asset
from shopfloor.core.errors import InputError
from shopfloor.core.store.handle import StoreHandle
from shopfloor.core.store.io import upsert_channels


class FleetRecords(StoreHandle):
    """Plants, lines, channel sources and replacements (mixed into :class:`Store`)."""

    def put_asset(self, asset: Asset, *, line_id: str | None = None) -> None:
        """Store or update one asset of the running plant (not part of a dataset)."""
        with self._transaction() as con:
            row = con.execute("SELECT dataset FROM assets WHERE id = ?", [asset.id]).fetchone()
            if row is not None and row[0] is not None:
                raise InputError(
                    f"asset {asset.id!r} belongs to dataset {row[0]!r}; it cannot be edited",
                    column="asset_id",
                )
            if line_id is not None:
                self._need(con, "lines", line_id)
            con.execute(
                "INSERT INTO assets (id, kind, criticality, dataset, doc, line_id) "
                "VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
                "criticality = excluded.criticality, doc = excluded.doc, "
                "line_id = coalesce(excluded.line_id, assets.line_id)",
                [
                    asset.id,
                    asset.kind.value,
                    asset.criticality.value,
                    asset.model_dump_json(),
                    line_id,
                ],
            )
            upsert_channels(con, [asset])

    def add_plant(self, plant_id: str, *, name: str | None = None) -> None:
        _need_id(plant_id, "plant_id")
        with self._transaction() as con:
            con.execute(
                "INSERT INTO plants (id, name) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                [plant_id, name],
            )

    def add_line(self, line_id: str, *, plant_id: str, name: str | None = None) -> None:
        _need_id(line_id, "line_id")
        with self._transaction() as con:
            self._need(con, "plants", plant_id)
            con.execute(
                "INSERT INTO lines (id, plant_id, name) VALUES (?, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET plant_id = excluded.plant_id, name = excluded.name",
                [line_id, plant_id, name],
            )

    def assign_asset(self, asset_id: str, line_id: str) -> None:
        with self._transaction() as con:
            self._need(con, "assets", asset_id)
            self._need(con, "lines", line_id)
            con.execute("UPDATE assets SET line_id = ? WHERE id = ?", [line_id, asset_id])

    def fleet(self) -> list[dict[str, Any]]:
        """Plants with their lines and the assets on each (assets on no line are left out)."""
        plants = self._con.execute("SELECT id, name FROM plants ORDER BY id").fetchall()
        out = []
        for pid, pname in plants:
            lines = []
            for lid, lname in self._con.execute(
                "SELECT id, name FROM lines WHERE plant_id = ? ORDER BY id", [pid]
            ).fetchall():
                assets = [
                    r[0]
                    for r in self._con.execute(
                        "SELECT id FROM assets WHERE line_id = ? ORDER BY id", [lid]
                    ).fetchall()
                ]
                lines.append({"id": lid, "name": lname, "assets": assets})
            out.append({"id": pid, "name": pname, "lines": lines})
        return out

    def set_channel_source(
        self,
        asset_id: str,
        channel_id: str,
        *,
        source_address: str | None,
        scale: float = 1.0,
        offset: float = 0.0,
    ) -> None:
        """Where a channel is read from, and ``value = raw * scale + offset``."""
        if not (math.isfinite(scale) and scale != 0):
            raise InputError(f"scale must be finite and non-zero, got {scale}", column="scale")
        if not math.isfinite(offset):
            raise InputError(f"offset must be finite, got {offset}", column="offset")
        with self._transaction() as con:
            cur = con.execute(
                "UPDATE channels SET source_address = ?, scale = ?, offset = ? "
                "WHERE asset_id = ? AND id = ?",
                [source_address, scale, offset, asset_id, channel_id],
            )
            if cur.rowcount == 0:
                raise InputError(
                    f"asset {asset_id!r} has no channel {channel_id!r}", column="channel_id"
                )

    def channel_sources(self, asset_id: str) -> list[dict[str, Any]]:
        rows = self._con.execute(
            "SELECT id, source_address, scale, offset FROM channels WHERE asset_id = ? ORDER BY id",
            [asset_id],
        ).fetchall()
        return [
            dict(zip(("channel_id", "source_address", "scale", "offset"), r, strict=True))
            for r in rows
        ]

    def record_replacement(
        self,
        asset_id: str,
        component_id: str,
        *,
        who: str,
        at: datetime | None = None,
        note: str = "",
    ) -> None:
        """A component was replaced: its remaining life and baseline restart at ``at``."""
        if not who.strip():
            raise InputError("say who replaced it", column="who")
        asset = self._asset_doc(asset_id)
        if component_id not in {c.id for c in asset.components}:
            known = ", ".join(c.id for c in asset.components) or "none"
            raise InputError(
                f"asset {asset_id!r} has no component {component_id!r} (it has: {known})",
                column="component_id",
            )
        when = (at or datetime.now(UTC)).astimezone(UTC)
        if when > datetime.now(UTC):
            raise InputError(f"replacement dated in the future: {when.isoformat()}", column="at")
        with self._transaction() as con:
            con.execute(
                "INSERT INTO replacements (asset_id, component_id, at, who, note) "
                "VALUES (?, ?, ?, ?, ?)",
                [asset_id, component_id, when.isoformat(), who, note],
            )

    def replacements(self, asset_id: str) -> list[dict[str, str]]:
        rows = self._con.execute(
            "SELECT component_id, at, who, note FROM replacements WHERE asset_id = ? ORDER BY at",
            [asset_id],
        ).fetchall()
        return [dict(zip(("component_id", "at", "who", "note"), r, strict=True)) for r in rows]

    def last_replacement(self, asset_id: str, component_id: str) -> datetime | None:
        row = self._con.execute(
            "SELECT max(at) FROM replacements WHERE asset_id = ? AND component_id = ?",
            [asset_id, component_id],
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def _asset_doc(self, asset_id: str) -> Asset:
        row = self._con.execute("SELECT doc FROM assets WHERE id = ?", [asset_id]).fetchone()
        if row is None:
            raise InputError(f"unknown asset {asset_id!r}", column="asset_id")
        return Asset.model_validate_json(row[0])

    @staticmethod
    def _need(con: Any, table: str, key: str) -> None:
        if con.execute(f"SELECT 1 FROM {table} WHERE id = ?", [key]).fetchone() is None:
            raise InputError(f"unknown {table[:-1]} {key!r}", column=f"{table[:-1]}_id")


def _need_id(value: str, column: str) -> None:
    if not value or not value.strip():
        raise InputError("an id cannot be empty", column=column)
