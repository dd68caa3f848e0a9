"""API routes over what a plant has: channels, imported recordings and their spectra, pipeline
specs. Thin like :mod:`.api`: each route calls the store, :mod:`.spectra` or :mod:`.specs`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from shopfloor.core.errors import InputError
from shopfloor.core.store import Store
from shopfloor.service import specs, trends
from shopfloor.service.api import ID, Access, AssetId, _read, _translate, admin, viewer
from shopfloor.service.spectra import recording_spectrum

router = APIRouter(prefix="/api/v1")

RecordingId = Annotated[str, Path(pattern=ID, max_length=128, description="recording id")]
SpecName = Annotated[str, Path(pattern=specs.NAME, max_length=64, description="spec name")]


class SpecBody(BaseModel):
    spec: dict[str, Any] = Field(description="the pipeline spec, as its YAML mapping")


# ------------------------------------------------------------------ channels
@router.get("/channels", tags=["assets"], dependencies=[viewer])
async def list_channels(
    acc: Access, asset_id: Annotated[str | None, Query(pattern=ID, max_length=128)] = None
) -> list[dict[str, Any]]:
    """Every channel (of one asset, or of all): quantity, unit, sample rate, component, and
    the live stream's last sample time when one is stored."""

    def channels(s: Store) -> list[dict[str, Any]]:
        assets = [s.asset(asset_id)] if asset_id is not None else acc.assets(s)
        streams = {(str(x["asset_id"]), str(x["channel_id"])): x for x in s.streams()}
        return [
            {
                "asset_id": a.id,
                **c.model_dump(mode="json"),
                "stream": streams.get((a.id, c.id)),
            }
            for a in assets
            for c in a.channels
        ]

    result: list[dict[str, Any]] = await _read(acc, channels)
    return result


@router.get("/assets/{asset_id}/channels", tags=["assets"], dependencies=[viewer])
async def asset_channels(asset_id: AssetId, acc: Access) -> list[dict[str, Any]]:
    """One asset's channels (see ``/channels``)."""
    return await list_channels(acc, asset_id)


# ------------------------------------------------------------------ live trends
@router.get("/assets/{asset_id}/trends", tags=["assets"], dependencies=[viewer])
async def asset_trends(
    asset_id: AssetId,
    acc: Access,
    since_s: Annotated[float, Query(gt=0, le=30 * 86400, description="seconds of windows")] = 600,
    max_points: Annotated[int, Query(ge=10, le=5000)] = 600,
) -> dict[str, Any]:
    """Per channel with live window results: RMS, kurtosis, anomaly score and threshold,
    remaining useful life and its interval over the last ``since_s`` seconds of windows,
    and the newest anomaly (with contributing features), RUL and diagnosis results."""
    result: dict[str, Any] = await _read(
        acc, lambda s: trends.asset_trends(s, asset_id, since_s, max_points)
    )
    return result


# ------------------------------------------------------------------ recordings
@router.get("/recordings", tags=["recordings"], dependencies=[viewer])
async def list_recordings(
    acc: Access,
    response: Response,
    dataset: Annotated[str | None, Query(pattern=ID, max_length=128)] = None,
    asset_id: Annotated[str | None, Query(pattern=ID, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Imported recordings (metadata and labels), by id; ``X-Total-Count`` says how many."""
    recs = await _read(acc, lambda s: s.recordings(dataset=dataset, asset_id=asset_id))
    response.headers["X-Total-Count"] = str(len(recs))
    return [r.model_dump(mode="json") for r in recs[offset : offset + limit]]


@router.get("/recordings/{recording_id}", tags=["recordings"], dependencies=[viewer])
async def get_recording(recording_id: RecordingId, acc: Access) -> dict[str, Any]:
    """One recording's metadata, labels and duration."""

    def one(s: Store) -> dict[str, Any]:
        rec = s.recording(recording_id)
        return {**rec.model_dump(mode="json"), "duration_s": rec.duration_s}

    result: dict[str, Any] = await _read(acc, one)
    return result


@router.get("/recordings/{recording_id}/spectrum", tags=["recordings"], dependencies=[viewer])
async def get_recording_spectrum(
    recording_id: RecordingId,
    acc: Access,
    channel: Annotated[str | None, Query(pattern=ID, max_length=128)] = None,
    kind: Literal["psd", "envelope"] = "psd",
    seconds: Annotated[float, Query(gt=0, le=60)] = 2.0,
    max_hz: Annotated[float, Query(gt=0, le=100_000)] = 1000.0,
) -> dict[str, Any]:
    """Power spectral density (Welch) or squared-envelope spectrum of the recording's first
    ``seconds``, up to ``max_hz``, with the bearing's defect frequencies at its shaft speed."""
    result: dict[str, Any] = await _read(
        acc, lambda s: recording_spectrum(s, recording_id, channel, kind, seconds, max_hz)
    )
    return result


# ------------------------------------------------------------------ pipeline specs
@router.get("/pipelines", tags=["pipelines"], dependencies=[viewer])
def list_pipelines(request: Request) -> list[dict[str, Any]]:
    """Stored pipeline specs (name, steps, window)."""
    return specs.list_specs(request.app.state.settings.home)


@router.get("/pipelines/{name}", tags=["pipelines"], dependencies=[viewer])
def get_pipeline(name: SpecName, request: Request) -> dict[str, Any]:
    """One stored pipeline spec, as its YAML mapping."""
    try:
        return specs.read_spec(request.app.state.settings.home, name)
    except (KeyError, InputError) as exc:
        raise _translate(exc) from exc


@router.put("/pipelines/{name}", tags=["pipelines"], dependencies=[admin])
def put_pipeline(
    name: SpecName, body: SpecBody, request: Request, response: Response
) -> dict[str, Any]:
    """Create or replace a pipeline spec (admin); validated by the pipeline loader first, so
    a bad spec is a 422 naming the field and never replaces a good one."""
    try:
        summary, replaced = specs.save_spec(request.app.state.settings.home, name, body.spec)
    except InputError as exc:
        raise _translate(exc) from exc
    response.status_code = 200 if replaced else 201
    return {**summary, "replaced": replaced}
