"""The pipeline spec: a YAML file naming the source, the fleet, the window and the chain.

::

    name: bearing-watch
    fleet: fleet.yaml            # a path (relative to this file) or the fleet inline
    source: {kind: mqtt, host: 127.0.0.1, port: 1883}
    window_s: 1.0
    steps:
      - use: features.time
      - use: features.bearing
      - use: diagnosis.physics
      - use: advice.alerts
        with: {confirm_windows: 3}
    sinks:
      - use: log
      - use: store
      - use: webhook
        with: {url: "http://127.0.0.1:8099/alerts"}

It is validated on load: unknown keys, unknown components, bad parameters and a chain whose
steps need results no earlier step provides are errors naming the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from shopfloor.acquisition.live.connector import Transport
from shopfloor.acquisition.live.fleet_config import (
    FleetConfig,
    fleet_from_dict,
    load_fleet,
    read_yaml_model,
)
from shopfloor.acquisition.mapping import _Strict, _translate
from shopfloor.core.errors import InputError
from shopfloor.pipelines.live.registry import Component, build


class StepSpec(_Strict):
    use: str = Field(min_length=1)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class SourceSpec(_Strict):
    """Where records come from. ``mqtt``: a broker; ``memory``: in-process (tests, demo);
    ``opcua``: an OPC UA server (``url``); ``folder``: a watched folder of CSV/Parquet drops
    (``watch``: a watch file, relative to the spec, or the watch inline)."""

    kind: Literal["mqtt", "memory", "opcua", "folder"] = "mqtt"
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str = "shopfloor-run"
    keepalive_s: int = Field(default=30, ge=5)
    url: str | None = Field(default=None, pattern=r"^opc\.tcp://")
    watch: str | dict[str, Any] | None = None

    @model_validator(mode="after")
    def _needs(self) -> SourceSpec:
        if self.kind == "opcua" and self.url is None:
            raise ValueError("an opcua source needs url: opc.tcp://host:port/path")
        if self.kind == "folder" and self.watch is None:
            raise ValueError("a folder source needs watch: (a watch file or the watch inline)")
        return self


class SinkSpec(_Strict):
    use: Literal["log", "store", "webhook"]
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class PipelineSpec(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    fleet: str | dict[str, Any]
    source: SourceSpec = Field(default_factory=SourceSpec)
    window_s: float = Field(default=1.0, gt=0, le=60)
    steps: list[StepSpec] = Field(min_length=1)
    sinks: list[SinkSpec] = Field(
        default_factory=lambda: [SinkSpec(use="log"), SinkSpec(use="store")]
    )
    queue_size: int = Field(default=2000, ge=1)
    """Records held between the transport and the writer; when full, the transport waits."""
    batch_max: int = Field(default=400, ge=1)
    """Records stored per transaction (one fsync each)."""
    stale_after_s: float = Field(default=10.0, gt=0)
    """A waveform channel silent this long raises a data-quality event."""


@dataclass
class LoadedSpec:
    spec: PipelineSpec
    fleet: FleetConfig
    source_path: Path | None

    def components(self) -> list[Component]:
        """Fresh component instances for one run (state is per run)."""
        return [
            build(s.use, dict(s.with_), f"steps[{i}] ({s.use})")
            for i, s in enumerate(self.spec.steps)
        ]


def check_chain(loaded: LoadedSpec, where: str) -> None:
    have: set[str] = set()
    for i, comp in enumerate(loaded.components()):
        missing = [k for k in comp.requires if k not in have]
        if missing:
            raise InputError(
                f"{where}: steps[{i}] ({comp.name}) needs {', '.join(missing)}, which no "
                "earlier step provides",
                column=f"steps[{i}]",
            )
        have.update(comp.provides)
    for sink in loaded.spec.sinks:
        if sink.use == "webhook" and not str(sink.with_.get("url", "")).startswith("http"):
            raise InputError(f"{where}: the webhook sink needs with: {{url: http://...}}")


def spec_from_dict(data: Any, base: Path | None = None, source: str = "<spec>") -> LoadedSpec:
    """Validate a parsed spec; ``base`` resolves a relative fleet path."""
    if not isinstance(data, dict):
        raise InputError("a pipeline spec must be a YAML mapping", source=source)
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, Path(source), {}) from None
    return _resolve(spec, base, source)


def _resolve(spec: PipelineSpec, base: Path | None, source: str) -> LoadedSpec:
    if isinstance(spec.fleet, str):
        path = Path(spec.fleet)
        if not path.is_absolute() and base is not None:
            path = base / path
        fleet = load_fleet(path)
    else:
        fleet = fleet_from_dict(spec.fleet, source)
    loaded = LoadedSpec(spec, fleet, None)
    check_chain(loaded, source)
    return loaded


def open_transport(loaded: LoadedSpec, home: Path) -> tuple[Transport, str]:
    """The transport of the spec's source and where it listens (for the log line).

    A folder source keeps its journal in ``<home>/live/<name>/folder`` and cuts waveforms into
    blocks of one window.
    """
    src = loaded.spec.source
    base = loaded.source_path.parent if loaded.source_path is not None else Path(".")
    if src.kind == "opcua":
        from shopfloor.acquisition.live.opcua import OpcUaTransport

        assert src.url is not None
        return OpcUaTransport(src.url, loaded.fleet), src.url
    if src.kind == "folder":
        from shopfloor.acquisition.live.folder import open_folder

        assert src.watch is not None
        state = home / "live" / loaded.spec.name / "folder"
        folder = open_folder(
            src.watch, loaded.fleet, state, base=base, block_s=loaded.spec.window_s
        )
        return folder, f"folder {folder.folder}"
    if src.kind == "mqtt":
        from shopfloor.acquisition.live.mqtt import MqttTransport

        transport = MqttTransport(
            src.host, src.port, client_id=src.client_id, keepalive_s=src.keepalive_s
        )
        return transport, f"mqtt://{src.host}:{src.port}"
    raise InputError(f"source.kind {src.kind!r} is for tests; use mqtt, opcua or folder")


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and validate a pipeline spec file."""
    path = Path(path)
    spec = read_yaml_model(path, PipelineSpec, "pipeline spec")
    loaded = _resolve(spec, path.parent, str(path))
    loaded.source_path = path
    return loaded
