"""Host sign-in: a signed session cookie holding the host's user id.

`POST /api/v1/session` signs in with a name and password, `GET` says who is
signed in, `DELETE` signs out. The cookie is signed with a key made once
and kept in `<data_dir>/secret_key`, so sessions survive a restart.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smeeton.http.errors import (
    ApiError,
    bad_request,
    check_fields,
    endpoint,
    read_object,
)
from smeeton.store import User

logger = logging.getLogger(__name__)

SESSION_COOKIE = "smeeton_session"
SESSION_MAX_AGE = 14 * 24 * 3600


def secret_key(data_dir: Path) -> str:
    """The cookie signing key, made on first use and readable only by us."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if key:
            return key
        raise RuntimeError(f"{path} is empty; delete it to make a new key") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    logger.info("A new session signing key was written to %s.", path)
    return key


async def current_user(request: Request) -> User | None:
    """The host signed in on this request, if any."""
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = await request.app.state.services.store.get_user(user_id)
    if user is None:
        request.session.clear()
    return user


async def require_user(request: Request) -> User:
    """The signed-in host, or a 401 ApiError."""
    user = await current_user(request)
    if user is None:
        raise ApiError(401, "not_signed_in", "sign in first")
    return user


def user_json(user: User | None) -> dict[str, object]:
    if user is None:
        return {"signed_in": False, "user": None}
    return {"signed_in": True, "user": {"id": user.id, "name": user.name}}


@endpoint
async def sign_in(request: Request) -> Response:
    body = await read_object(request)
    check_fields(body, {"name", "password"})
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not name:
        raise bad_request("name must be non-empty text")
    if not isinstance(password, str) or not password:
        raise bad_request("password must be non-empty text")
    services = request.app.state.services
    client = request.client.host if request.client else ""
    keys = (f"name:{name.strip().lower()}", f"addr:{client}")
    wait = services.sign_in_throttle.retry_after(*keys)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed sign-ins; try again in {int(wait // 60) + 1} minutes",
        )
    user = await services.store.authenticate(name.strip(), password)
    if user is None:
        services.sign_in_throttle.failed(*keys)
        raise ApiError(401, "bad_credentials", "wrong name or password")
    services.sign_in_throttle.succeeded(*keys)
    device = request.session.get("device")
    request.session.clear()
    request.session["user_id"] = user.id
    if device:
        request.session["device"] = device
    return JSONResponse(user_json(user))


@endpoint
async def who_am_i(request: Request) -> Response:
    return JSONResponse(user_json(await current_user(request)))


@endpoint
async def sign_out(request: Request) -> Response:
    request.session.clear()
    return JSONResponse(user_json(None))


routes = [
    Route("/api/v1/session", sign_in, methods=["POST"]),
    Route("/api/v1/session", who_am_i, methods=["GET"]),
    Route("/api/v1/session", sign_out, methods=["DELETE"]),
]
