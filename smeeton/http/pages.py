"""The pages: the host's home page, a room's invite link, the test page."""

from __future__ import annotations

import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


async def home(request: Request) -> Response:
    return FileResponse(STATIC / "home.html")


async def room(request: Request) -> Response:
    """The meeting client for a room's invite link, or a page saying the
    link is wrong."""
    services = request.app.state.services
    known = await services.store.room_by_slug(request.path_params["slug"])
    if known is None and not services.config.meetings.temporary_rooms:
        return FileResponse(STATIC / "not-found.html", status_code=404)
    # Marks this browser, so that someone removed from a meeting stays out.
    request.session.setdefault("device", secrets.token_urlsafe(18))
    return FileResponse(STATIC / "room.html")


async def test_page(request: Request) -> Response:
    """A bare page that joins a room by name, for browser tests."""
    return FileResponse(STATIC / "index.html")


routes = [
    Route("/", home),
    Route("/r/{slug}", room),
    Route("/test", test_page),
]
