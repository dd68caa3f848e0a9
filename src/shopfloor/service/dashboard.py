"""The dashboard: server-rendered pages (Jinja2) with a small script for live updates.

Pages need the login cookie; without one they send the browser to ``/login``. Every figure a
page shows comes from the same functions as the API (:mod:`.views`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shopfloor.core.store import Store
from shopfloor.service import trends, views
from shopfloor.service.access import StoreAccess
from shopfloor.service.api import ID
from shopfloor.service.auth import OneTimeTokens, Role, TokenSigner, User, UserStore
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
    return _page(request, "login.html", None, error=False, used_link=False)


def _session(request: Request, user: User, response: Response | None = None) -> Response:
    signer: TokenSigner = request.app.state.signer
    response = response or RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        signer.issue(user),
        httponly=True,
        samesite="strict",
        max_age=int(signer.ttl_s),
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login/once")
def login_once(request: Request, token: Annotated[str, Query(max_length=128)] = "") -> Response:
    """A one-time login link (``shopfloor demo`` prints one): the token becomes a session."""
    one_time: OneTimeTokens = request.app.state.one_time
    user = one_time.redeem(token) if token else None
    if user is None:
        response = _page(request, "login.html", None, error=False, used_link=True)
        response.status_code = 401
        return response
    # SameSite=Strict: a link opened from another site (a web chat) starts a cross-site
    # navigation whose redirect would not carry the new cookie, so land on a page of our own
    # that moves on to the fleet page: that second navigation is same-site.
    landing = HTMLResponse(
        '<!doctype html><meta http-equiv="refresh" content="0;url=/">'
        '<title>shopfloor</title><a href="/">shopfloor</a>',
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
    return _session(request, user, landing)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    users: UserStore = request.app.state.users
    user = users.authenticate(username, password)
    if user is None:
        response = _page(request, "login.html", None, error=True, used_link=False)
        response.status_code = 401
        return response
    return _session(request, user)


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
    dead: dict[str, Any] = {"count": 0, "latest": []}
    if acc.exists():
        fleet = await acc.reading(lambda s: views.fleet(s, acc))
        dead = await acc.reading(lambda s: views.dead_letters(s, latest=5))
    return _page(request, "fleet.html", user, fleet=fleet, states=views.STATES, dead=dead)


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
            "latest": (
                None if acc.live is not None else trends.latest_by_asset(s, asset_id).get(asset_id)
            ),
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
    if acc.live is not None:  # the pipeline runs in this process: its own latest results
        ctx["latest"] = {str(r["asset"]): r for r in acc.live.snapshot()}.get(asset_id)
    return _page(request, "asset.html", user, **ctx)


@router.get("/models", response_class=HTMLResponse)
async def models_page(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    acc: StoreAccess = request.app.state.access
    ctx: dict[str, Any] = {"models": [], "precision": [], "by_month": []}
    if acc.exists():
        ctx = await acc.reading(lambda s: views.model_versions(s, acc))
    return _page(
        request,
        "models.html",
        user,
        can_admin=user.role >= Role.ADMIN,
        **ctx,
    )
