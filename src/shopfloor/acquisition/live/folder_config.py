"""The watch file of a folder source: which files, how they map to the fleet, when complete.

See :mod:`shopfloor.acquisition.live.folder` for the file's fields and the watcher's rules.
Validation reuses the import mapping's reader: every problem names the file, line and field.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from shopfloor.acquisition.live.fleet_config import FleetConfig, Route, read_yaml_model
from shopfloor.acquisition.mapping import TableMapping, _Strict, _translate, load_mapping
from shopfloor.core.errors import InputError


class DropSpec(_Strict):
    """Which files match, and how they map to assets and channels."""

    pattern: str = Field(min_length=1)
    mapping: str | dict[str, Any] | None = None
    """A mapping file (as for ``shopfloor import``), or the mapping inline."""
    asset: str | None = None
    channel: str | None = None
    column: str | None = None
    """One-signal files: the column to read (default: the only numeric one)."""
    start: Literal["mtime", "name"] = "mtime"
    name_time: str | None = None
    """``start: name``: strptime format of the file name without its suffix."""
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _one_way(self) -> DropSpec:
        if (self.mapping is None) == (self.asset is None or self.channel is None):
            raise ValueError("give either 'mapping' or both 'asset' and 'channel'")
        if self.mapping is not None and self.column is not None:
            raise ValueError("'column' is for one-signal files; a mapping names its columns")
        if self.start == "name":
            if self.name_time is None:
                raise ValueError("start: name needs name_time (e.g. 'vib_%Y%m%d_%H%M%S')")
            if "%z" not in self.name_time and self.timezone is None:
                raise ValueError("name_time without %z needs a timezone (e.g. 'UTC')")
        return self


class FolderWatch(_Strict):
    """A validated watch file (see the module docstring)."""

    folder: str = Field(min_length=1)
    poll_s: float = Field(default=1.0, gt=0, le=3600)
    completion: Literal["stable", "marker", "rename"] = "stable"
    settle_s: float = Field(default=2.0, ge=0, le=3600)
    marker_suffix: str = Field(default=".done", min_length=1)
    on_error: Literal["move", "record"] = "move"
    rejected_folder: str = Field(default="rejected", min_length=1)
    drops: list[DropSpec] = Field(min_length=1)


def load_watch(path: str | Path) -> FolderWatch:
    """Read and validate a watch file; errors name the file, line and field."""
    return read_yaml_model(path, FolderWatch, "watch file")


def watch_from_dict(data: Any, source: str = "<watch>") -> FolderWatch:
    """Validate an already-parsed watch document (the ``watch:`` block of a pipeline spec)."""
    if not isinstance(data, dict):
        raise InputError("a watch must be a YAML mapping (folder, drops)", source=source)
    try:
        return FolderWatch.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, Path(source), {}) from None


class ResolvedDrop:
    """A drop resolved against the fleet: its mapping and the routes of its channels."""

    def __init__(self, i: int, spec: DropSpec, base: Path, fleet: FleetConfig, where: str):
        self.spec = spec
        self.mapping: TableMapping | None = None
        by_channel = {(r.asset_id, r.channel_id): r for r in fleet.routes().values()}
        field = f"drops[{i}]"
        if spec.mapping is not None:
            if isinstance(spec.mapping, str):
                path = Path(spec.mapping)
                self.mapping = load_mapping(path if path.is_absolute() else base / path)
            else:
                try:
                    self.mapping = TableMapping.model_validate(spec.mapping)
                except ValidationError as exc:
                    raise _translate(exc, Path(where), {}) from None
            asset = self.mapping.asset.id
            pairs = [(c.id, (asset, c.id)) for c in self.mapping.channels]
        else:
            assert spec.asset is not None
            assert spec.channel is not None
            pairs = [(spec.channel, (spec.asset, spec.channel))]
        self.routes: dict[str, Route] = {}
        for column_id, key in pairs:
            route = by_channel.get(key)
            if route is None:
                raise InputError(
                    f"{field}: channel {key[0]}/{key[1]} is not in the fleet file",
                    source=where,
                    column=field,
                )
            self.routes[column_id] = route
        if self.mapping is None:
            route = next(iter(self.routes.values()))
            if route.sample_rate_hz is None:
                raise InputError(
                    f"{field}: a one-signal file needs a waveform channel (sample_rate_hz in "
                    f"the fleet file); {route.asset_id}/{route.channel_id} has none",
                    source=where,
                    column=field,
                )
