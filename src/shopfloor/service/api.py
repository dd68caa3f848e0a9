"""The REST API (``/api/v1``): thin routes over the store's public API.

Every route names the least role it needs; path parameters are validated by pattern (no
path separators, no ``..``), bodies by pydantic models with length limits, so bad input is a
4xx naming the field, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from pydantic import BaseModel, Field

from shopfloor.core.errors import InputError, ShopfloorError, StoreError
from shopfloor.core.events import Event, EventStatus, Resolution
from shopfloor.core.store import Store, StoreBusyError
from shopfloor.service import views
from shopfloor.service.access import StoreAccess
from shopfloor.service.auth import Role, TokenSigner, User, UserStore
from shopfloor.service.security import need

ID = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
AssetId = Annotated[str, Path(pattern=ID, max_length=128, description="asset id")]
EventId = Annotated[str, Path(pattern=ID, max_length=128, description="event id")]
Target = Annotated[
    str, Path(pattern=ID, max_length=128, description="asset id or group ('group:pumps')")
]

viewer = Depends(need(Role.VIEWER))
operator = Depends(need(Role.OPERATOR))
admin = Depends(need(Role.ADMIN))

router = APIRouter(prefix="/api/v1")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in_s: float


class Note(BaseModel):
    note: str = Field(default="", max_length=2000)


class Comment(BaseModel):
    note: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class Verdict(BaseModel):
    resolution: Resolution
    note: str = Field(default="", max_length=2000, description="what was found")


class Activate(BaseModel):
    model_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    note: str = Field(default="", max_length=2000)


class NewUser(BaseModel):
    name: str = Field(min_length=2, max_length=32)
    role: str = Field(pattern=r"^(viewer|operator|admin)$")
    password: str = Field(min_length=12, max_length=256)


def access(request: Request) -> StoreAccess:
    acc: StoreAccess = request.app.state.access
    if not acc.exists():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no store in {acc.home} yet")
    return acc


Access = Annotated[StoreAccess, Depends(access)]


def _translate(exc: Exception) -> HTTPException:
    if isinstance(exc, KeyError):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc.args[0]) if exc.args else "")
    if isinstance(exc, StoreBusyError):
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))
    if isinstance(exc, InputError):
        code = status.HTTP_409_CONFLICT if exc.column == "status" else 422
        if "no event" in str(exc) or "no registered model" in str(exc):
            code = status.HTTP_404_NOT_FOUND
        return HTTPException(code, str(exc))
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))


async def _read(acc: StoreAccess, fn: Any) -> Any:
    try:
        return await acc.reading(fn)
    except (KeyError, InputError, StoreError) as exc:
        raise _translate(exc) from exc


async def _write(acc: StoreAccess, fn: Any) -> Any:
    try:
        return await acc.writing(fn)
    except (KeyError, InputError, StoreError) as exc:
        raise _translate(exc) from exc


# ------------------------------------------------------------------ auth
@router.post("/auth/token", tags=["auth"])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Token:
    """Exchange a user name and password for a bearer token (open route)."""
    users: UserStore = request.app.state.users
    user = users.authenticate(username, password)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    signer: TokenSigner = request.app.state.signer
    return Token(access_token=signer.issue(user), role=user.role.label, expires_in_s=signer.ttl_s)


@router.get("/auth/me", tags=["auth"])
def me(user: User = viewer) -> dict[str, str]:
    return {"name": user.name, "role": user.role.label}


# ------------------------------------------------------------------ assets
@router.get("/assets", tags=["assets"], dependencies=[viewer])
async def list_assets(acc: Access) -> list[dict[str, Any]]:
    """Every asset with its state (worst open alert) and latest live results."""
    out: dict[str, Any] = await _read(acc, lambda s: views.fleet(s, acc, max_events=0))
    return list(out["assets"])


@router.get("/assets/{asset_id}", tags=["assets"], dependencies=[viewer])
async def get_asset(asset_id: AssetId, acc: Access) -> dict[str, Any]:
    """An asset's description, channels, components, open events and stream summary."""

    def one(s: Store) -> dict[str, Any]:
        asset = s.asset(asset_id)
        evs = views.not_closed(s, asset_id, limit=500)
        return {
            "asset": asset.model_dump(mode="json"),
            "state": views.asset_state(evs),
            "open_total": s.count_events(asset_id=asset_id, status=views.NOT_CLOSED),
            "open_events": [e.model_dump(mode="json") for e in evs],
            "streams": [x for x in s.streams() if x["asset_id"] == asset_id],
            "replacements": s.replacements(asset_id),
        }

    result: dict[str, Any] = await _read(acc, one)
    return result


# ------------------------------------------------------------------ events
@router.get("/events", tags=["events"], dependencies=[viewer])
async def list_events(
    acc: Access,
    response: Response,
    asset_id: Annotated[str | None, Query(pattern=ID, max_length=128)] = None,
    status_: Annotated[EventStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[Event]:
    """A page of events, newest first, optionally of one asset and one status.

    ``X-Total-Count`` says how many match; ask for the next page with ``offset``.
    """

    def page(s: Store) -> tuple[list[Event], int]:
        events = s.events(
            asset_id=asset_id, status=status_, limit=limit, offset=offset, newest_first=True
        )
        return events, s.count_events(asset_id=asset_id, status=status_)

    events, total = await _read(acc, page)
    response.headers["X-Total-Count"] = str(total)
    return list(events)


@router.get("/events/changes", tags=["events"], dependencies=[viewer])
async def event_changes(
    acc: Access,
    since: Annotated[int, Query(ge=0, le=2**62, description="cursor from the last answer")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Events opened or changed (acknowledged, commented, closed, repeated) after ``since``,
    oldest change first, and the ``cursor`` to pass next time."""

    def changes(s: Store) -> dict[str, Any]:
        events, cursor = s.events_since(since, limit=limit)
        return {"cursor": cursor, "events": [e.model_dump(mode="json") for e in events]}

    result: dict[str, Any] = await _read(acc, changes)
    return result


@router.get("/events/{event_id}", tags=["events"], dependencies=[viewer])
async def get_event(event_id: EventId, acc: Access) -> dict[str, Any]:
    """One event with its history (who did what, when)."""

    def one(s: Store) -> dict[str, Any]:
        return {
            "event": s.event(event_id).model_dump(mode="json"),
            "history": s.event_history(event_id),
        }

    result: dict[str, Any] = await _read(acc, one)
    return result


@router.post("/events/{event_id}/acknowledge", tags=["events"])
async def acknowledge(
    event_id: EventId, body: Note, acc: Access, user: User = operator
) -> dict[str, str]:
    """An operator has seen the alert and takes it on."""
    await _write(acc, lambda s: s.acknowledge_event(event_id, who=user.name, note=body.note))
    return {"id": event_id, "status": EventStatus.ACKNOWLEDGED.value}


@router.post("/events/{event_id}/close", tags=["events"])
async def close(
    event_id: EventId, body: Verdict, acc: Access, user: User = operator
) -> dict[str, str]:
    """Close as confirmed (with what was found) or false alarm; stored as a feedback label."""
    await _write(
        acc,
        lambda s: s.close_event(
            event_id, who=user.name, resolution=body.resolution, note=body.note
        ),
    )
    return {"id": event_id, "status": EventStatus.CLOSED.value, "resolution": body.resolution}


@router.post("/events/{event_id}/comment", tags=["events"], status_code=201)
async def comment(
    event_id: EventId, body: Comment, acc: Access, user: User = operator
) -> dict[str, str]:
    """Add a comment (what was found, what was done) to the alert's history (operator)."""
    await _write(acc, lambda s: s.comment_event(event_id, who=user.name, note=body.note))
    return {"id": event_id, "who": user.name, "note": body.note}


@router.get("/labels", tags=["events"], dependencies=[viewer])
async def labels(
    acc: Access, asset_id: Annotated[str | None, Query(pattern=ID, max_length=128)] = None
) -> list[dict[str, Any]]:
    """Operator verdicts on closed alerts (the labels training can use)."""
    df = await _read(acc, lambda s: s.feedback_labels(asset_id))
    rows: list[dict[str, Any]] = df.astype(object).where(df.notna(), None).to_dict("records")
    return rows


@router.get("/quality", tags=["events"], dependencies=[viewer])
async def data_quality(acc: Access) -> dict[str, Any]:
    """Stream data-quality records and open data-quality events (stale, stuck, clock jumps)."""
    q: dict[str, Any] = await _read(acc, views.quality)
    q["events"] = [e.model_dump(mode="json") for e in q["events"]]
    return q


# ------------------------------------------------------------------ models
@router.get("/models", tags=["models"], dependencies=[viewer])
async def list_models(acc: Access) -> dict[str, Any]:
    """Registered models and the precision of each detector's closed alerts."""

    def both(s: Store) -> dict[str, Any]:
        return {
            "models": s.models(),
            "precision": views.precision_by_source(s),
            "precision_by_model": views.precision_by_model(s),
            "precision_by_month": views.precision_by_month(s),
        }

    result: dict[str, Any] = await _read(acc, both)
    return result


@router.get("/models/deployments/{target}", tags=["models"], dependencies=[viewer])
async def deployments(target: Target, acc: Access) -> dict[str, Any]:
    """Which model serves ``target`` and the history of activations and rollbacks."""

    def both(s: Store) -> dict[str, Any]:
        return {"active": s.active_model(target), "history": s.deployment_history(target)}

    result: dict[str, Any] = await _read(acc, both)
    return result


@router.post("/models/deployments/{target}/activate", tags=["models"])
async def activate(
    target: Target, body: Activate, acc: Access, user: User = admin
) -> dict[str, Any]:
    """Make a registered model the one serving ``target`` (admin)."""
    await _write(
        acc, lambda s: s.activate_model(target, body.model_id, who=user.name, note=body.note)
    )
    return {"target": target, "active": body.model_id}


@router.post("/models/deployments/{target}/rollback", tags=["models"])
async def rollback(target: Target, body: Note, acc: Access, user: User = admin) -> dict[str, Any]:
    """Serve ``target`` with the model that served before the current one (admin)."""
    active = await _write(acc, lambda s: s.rollback_model(target, who=user.name, note=body.note))
    return {"target": target, "active": active}


class RebaselineBody(BaseModel):
    activate: bool = Field(
        default=True, description="serve the asset with the new version (roll back to undo)"
    )
    note: str = Field(default="", max_length=2000)


@router.post("/models/{model_id}/rebaseline", tags=["models"], status_code=201)
async def rebaseline_model(
    model_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="registered model id")],
    body: RebaselineBody,
    acc: Access,
    user: User = admin,
) -> dict[str, Any]:
    """Fit a new version of an anomaly monitor on its healthy period plus the periods
    operators closed as false alarm, minus those closed as confirmed; register it with its
    parent recorded and, with ``activate``, serve its asset with it (admin)."""
    from shopfloor.pipelines.rebaseline import rebaseline

    def run(s: Store) -> dict[str, Any]:
        result = rebaseline(s, model_id, who=user.name)
        if body.activate:
            note = body.note or f"re-baselined from {model_id} with operator verdicts"
            s.activate_model(result.asset_id, result.model_id, who=user.name, note=note)
        return {**result.to_dict(), "active": body.activate}

    try:
        done: dict[str, Any] = await _write(acc, run)
    except ShopfloorError as exc:  # a model file this version cannot read, for instance
        raise HTTPException(422, str(exc)) from exc
    return done


# ------------------------------------------------------------------ users
@router.get("/users", tags=["users"], dependencies=[admin])
def list_users(request: Request) -> list[dict[str, str]]:
    users: UserStore = request.app.state.users
    return [{"name": u.name, "role": u.role.label} for u in users.users()]


@router.post("/users", tags=["users"], status_code=201, dependencies=[admin])
def create_user(request: Request, body: NewUser) -> dict[str, str]:
    """Create or replace a user (admin)."""
    users: UserStore = request.app.state.users
    try:
        u = users.set_user(body.name, Role.parse(body.role), body.password)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"name": u.name, "role": u.role.label}


@router.get("/assets/{asset_id}/envelope", tags=["assets"], dependencies=[viewer])
async def asset_envelope(
    asset_id: AssetId,
    acc: Access,
    seconds: Annotated[float, Query(gt=0, le=10)] = 1.0,
    max_hz: Annotated[float, Query(gt=0, le=5000)] = 500.0,
) -> dict[str, Any] | None:
    """Envelope spectrum of the newest vibration with the bearing's defect frequencies."""
    result: dict[str, Any] | None = await _read(
        acc, lambda s: views.envelope(s, asset_id, seconds, max_hz)
    )
    return result
