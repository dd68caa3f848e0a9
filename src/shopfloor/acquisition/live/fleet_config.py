"""The fleet file: which plant, line, assets and channels a live source carries.

A maintenance engineer writes one YAML file per plant section; topics follow from it
(``shopfloor/<plant>/<line>/<asset>/<channel>``, or a channel's own ``topic`` / OPC UA ``node``
when the device publishes elsewhere)::

    plant: plant-1
    line: line-1
    assets:
      - id: motor-01
        kind: induction_motor
        nameplate: {rated_power_kw: 7.5, rated_speed_rpm: 1797}
        components:
          - {id: de_bearing, kind: rolling_bearing,
             bearing: {n_elements: 9, element_diameter_mm: 7.94, pitch_diameter_mm: 39.04}}
        channels:
          - {id: de_accel, quantity: acceleration, unit: m/s^2, sample_rate_hz: 25600,
             component_id: de_bearing}
          - {id: de_temp, quantity: temperature, unit: degC}

Validation reuses the import mapping's reader, so every problem names the file, YAML line and
field path. A channel with ``sample_rate_hz`` is a waveform channel (binary blocks); one
without is a scalar channel (JSON readings).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, ValidationError, model_validator

from shopfloor.acquisition.live.payload import make_topic
from shopfloor.acquisition.mapping import _parse_yaml, _Strict, _translate
from shopfloor.core.assets import Asset, BearingGeometry, Channel
from shopfloor.core.errors import InputError

_ID = r"^[A-Za-z0-9_.\-]+$"
_M = TypeVar("_M", bound=_Strict)


class LiveChannel(Channel):
    """A channel plus where it arrives from (defaults to the topic scheme)."""

    topic: str | None = None
    node: str | None = Field(default=None, description="OPC UA node id, e.g. ns=2;s=motor-01.de")


class LiveAsset(Asset):
    channels: list[LiveChannel] = Field(default_factory=list)  # type: ignore[assignment]


class FleetConfig(_Strict):
    """A plant section: plant and line ids and their assets."""

    plant: str = Field(min_length=1, pattern=_ID)
    line: str = Field(min_length=1, pattern=_ID)
    assets: list[LiveAsset] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> FleetConfig:
        seen: set[str] = set()
        for asset in self.assets:
            if asset.id in seen:
                raise ValueError(f"asset id {asset.id!r} appears twice")
            seen.add(asset.id)
            ids = [c.id for c in asset.channels]
            if len(ids) != len(set(ids)):
                raise ValueError(f"asset {asset.id!r}: a channel id appears twice")
        return self

    def routes(self) -> dict[str, Route]:
        """Topic -> route, for every channel."""
        out: dict[str, Route] = {}
        for asset in self.assets:
            for ch in asset.channels:
                topic = ch.topic or make_topic(self.plant, self.line, asset.id, ch.id)
                out[topic] = Route(asset.id, ch.id, ch.sample_rate_hz, topic, ch.node)
        return out

    def core_assets(self) -> list[Asset]:
        """The assets as the core data model has them (for the store)."""
        return [
            Asset.model_validate(
                {
                    **a.model_dump(exclude={"channels"}),
                    "channels": [c.model_dump(exclude={"topic", "node"}) for c in a.channels],
                }
            )
            for a in self.assets
        ]

    def asset(self, asset_id: str) -> LiveAsset:
        for a in self.assets:
            if a.id == asset_id:
                return a
        raise InputError(f"asset {asset_id!r} is not in the fleet file", column="asset_id")

    def waveform_channels(self) -> Iterator[tuple[LiveAsset, LiveChannel]]:
        for a in self.assets:
            for c in a.channels:
                if c.sample_rate_hz is not None:
                    yield a, c


@dataclass(frozen=True)
class Route:
    """Where one topic's records go in the data model."""

    asset_id: str
    channel_id: str
    sample_rate_hz: float | None
    topic: str
    node: str | None = None


def bearing_of(asset: Asset, channel_id: str) -> BearingGeometry | None:
    """The bearing geometry a channel watches: its component's, else the asset's only one."""
    ch = next((c for c in asset.channels if c.id == channel_id), None)
    bearings = {c.id: c.bearing for c in asset.components if c.bearing is not None}
    if ch is not None and ch.component_id in bearings:
        return bearings[ch.component_id]
    return next(iter(bearings.values())) if len(bearings) == 1 else None


def fleet_from_dict(data: Any, source: Path | str = "<fleet>") -> FleetConfig:
    """Validate an already-parsed fleet document (e.g. the ``fleet:`` block of a spec)."""
    if not isinstance(data, dict):
        raise InputError("a fleet must be a YAML mapping (plant, line, assets)", source=source)
    try:
        return FleetConfig.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, Path(source), {}) from None


def read_yaml_model(path: str | Path, model: type[_M], what: str) -> _M:
    """Read a YAML file into a strict pydantic model; errors name the file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found", source=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} ({exc})", source=path) from exc
    data, lines = _parse_yaml(text, path)
    if not isinstance(data, dict):
        raise InputError(f"a {what} must be a YAML mapping", source=path, line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, path, lines) from None


def load_fleet(path: str | Path) -> FleetConfig:
    """Read and validate a fleet YAML file; errors name the file, line and field."""
    return read_yaml_model(path, FleetConfig, "fleet file")
