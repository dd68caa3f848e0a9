"""The dashboard: server-rendered pages (Jinja2) with a small script for live updates.

Pages need the login cookie; without one they send the browser to ``/login``. Every figure a
page shows comes from the same functions as the API (:mod:`.views`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shopfloor.core.store import Store
from shopfloor.service import views
from shopfloor.service.access import StoreAccess
from shopfloor.service.api import ID
from shopfloor.service.auth import Role, TokenSigner, User, UserStore
from shopfloor.service.i18n import LANGUAGES, translate
from shopfloor.service.security import COOKIE

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("shopfloor_lang") or "en"
    return lang if lang in LANGUAGES else "en"


def _user(request: Request) -> User | None:
    signer: TokenSigner = request.app.state.signer
    token = request.cookies.get(COOKIE)
    return signer.check(token) if token else None


def _page(request: Request, name: str, user: User | None, **ctx: Any) -> Response:
    lang = _lang(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": lambda key: translate(key, lang),
            "lang": lang,
            "user": user,
            "can_operate": user is not None and user.role >= Role.OPERATOR,
            **ctx,
        },
    )
    if "lang" in request.query_params:
        response.set_cookie("shopfloor_lang", lang, samesite="strict", max_age=365 * 86400)
    return response


def _login_redirect() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    return _page(request, "login.html", None, error=False)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    users: UserStore = request.app.state.users
    user = users.authenticate(username, password)
    if user is None:
        response = _page(request, "login.html", None, error=True)
        response.status_code = 401
        return response
    signer: TokenSigner = request.app.state.signer
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        signer.issue(user),
        httponly=True,
        samesite="strict",
        max_age=int(signer.ttl_s),
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
async def fleet_page(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    acc: StoreAccess = request.app.state.access
    fleet: dict[str, Any] = {"assets": [], "counts": {}, "open_events": []}
    if acc.exists():
        fleet = await acc.reading(lambda s: views.fleet(s, acc))
    return _page(request, "fleet.html", user, fleet=fleet, states=views.STATES)


@router.get("/assets/{asset_id}", response_class=HTMLResponse)
async def asset_page(request: Request, asset_id: str) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    import re

    acc: StoreAccess = request.app.state.access
    if not re.match(ID, asset_id) or not acc.exists():
        return Response("no such asset", status_code=404)

    def gather(s: Store) -> dict[str, Any] | None:
        if not s.has_asset(asset_id):
            return None
        open_events = views.not_closed(s, asset_id, limit=100)
        return {
            "asset": s.asset(asset_id),
            "state": views.asset_state(open_events),
            "open_events": open_events,
            "histories": {e.id: s.event_history(e.id) for e in open_events},
            "closed_events": s.events(
                asset_id=asset_id, status="closed", newest_first=True, limit=20
            ),
            "quality": [
                q for q in s.quality_records() if str(q["stream_id"]).startswith(asset_id + "/")
            ],
        }

    ctx = await acc.reading(gather)
    if ctx is None:
        return Response("no such asset", status_code=404)
    live = {str(r["asset"]): r for r in (acc.live.snapshot() if acc.live else [])}
    return _page(request, "asset.html", user, latest=live.get(asset_id), **ctx)


@router.get("/models", response_class=HTMLResponse)
async def models_page(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    acc: StoreAccess = request.app.state.access
    ctx: dict[str, Any] = {"models": [], "precision": []}
    if acc.exists():
        ctx = await acc.reading(
            lambda s: {"models": s.models(), "precision": views.precision_by_source(s)}
        )
    return _page(request, "models.html", user, **ctx)
