"""Who is asking: bearer token or the dashboard's cookie, checked against the route's role.

Only ``/health`` and ``/ready`` (and the login itself) are open; every other route declares
the least role it needs with :func:`need`. The cookie is ``HttpOnly`` and ``SameSite=Strict``,
so another site cannot make a logged-in browser send it (no cross-site request forgery).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shopfloor.service.auth import Role, TokenSigner, User

COOKIE = "shopfloor_token"
_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/token")


def current_user(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
) -> User:
    signer: TokenSigner = request.app.state.signer
    token = creds.credentials if creds is not None else request.cookies.get(COOKIE)
    user = signer.check(token) if token else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing, invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def need(role: Role) -> Callable[[User], User]:
    """A dependency that lets ``role`` and above through, and answers 403 to the rest."""

    def check(user: User = Depends(current_user)) -> User:  # noqa: B008
        if user.role < role:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"needs role {role.label}; you are {user.role.label}"
            )
        return user

    return check
