"""The ASGI application: the media plane and rooms live as long as it does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from smeeton.config import Config
from smeeton.http import api, auth, metrics, pages, recordings
from smeeton.http.bbb import api as bbb_api
from smeeton.http.bbb.service import BbbService
from smeeton.http.throttle import SignInThrottle
from smeeton.recording.recordings import DAY, Recordings
from smeeton.rooms import tickets
from smeeton.rooms.broadcast import Broadcasts
from smeeton.rooms.registry import Rooms
from smeeton.sfu.server import MediaServer
from smeeton.signalling.session import Session
from smeeton.store import Store

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


class Services:
    """What the application's handlers share, built at startup."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.media = MediaServer(config.media)
        self.rooms = Rooms(self.media, temporary_rooms=config.meetings.temporary_rooms)
        self.signalling_errors: Counter[str] = Counter()
        self.rooms.ticket_key = tickets.derive_key(auth.secret_key(config.data_path))
        self.recordings = Recordings(config.data_path / "recordings")
        self.recording_link_key = recordings.link_key(auth.secret_key(config.data_path))
        self.bbb = BbbService(
            config.bbb_secret,
            self.rooms,
            self.rooms.ticket_key,
            domain=urlsplit(config.server.base_url).hostname or "localhost",
            recordings=self.recordings,
            link_key=self.recording_link_key,
        )
        self.sign_in_throttle = SignInThrottle()
        self.broadcasts = Broadcasts(config.recording, self.recordings)
        self.rooms.observers.append(self.broadcasts)
        self.rooms.broadcasts = self.broadcasts
        # Opened in start(): opening runs the migrations, which takes a moment.
        self.store: Store
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.store = await Store.open(self.config)
        self.rooms.store = self.store
        self.bbb.start(self.store)
        await self.media.start()
        self.recordings.mark_interrupted()
        self._sweeper = asyncio.create_task(self._sweep_recordings())

    async def _sweep_recordings(self) -> None:
        """Apply `recording.retention_days` now and once a day."""
        days = self.config.recording.retention_days
        while days > 0:
            removed = await asyncio.to_thread(self.recordings.sweep, days)
            if removed:
                logger.info("Removed %d recordings older than %d days.", removed, days)
            await asyncio.sleep(DAY)

    async def close(self) -> None:
        # Phases: participants leave, callbacks stop, the media port closes,
        # then the store.
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.rooms.close()
        # Recordings are finished on disk before anything else closes.
        self.broadcasts.close()
        await asyncio.to_thread(self.broadcasts.wait)
        await self.bbb.close()
        self.media.close()
        if hasattr(self, "store"):
            await self.store.close()


def same_origin(websocket: WebSocket, public_url: str) -> bool:
    """Whether a browser's WebSocket comes from one of our own pages.

    Browsers always send Origin on a WebSocket handshake; other clients
    (test peers, load generators) send none and carry no cookie to abuse.
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin_host = urlsplit(origin).netloc.lower()
    allowed = {websocket.headers.get("host", "").lower()}
    if public_url:
        allowed.add(urlsplit(public_url).netloc.lower())
    return origin_host in allowed


def create_app(config: Config) -> Starlette:
    services = Services(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.close()

    async def metrics_page(request: Request) -> Response:
        text = metrics.render(
            services.media, services.rooms, services.signalling_errors
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def websocket(websocket: WebSocket) -> None:
        if not same_origin(websocket, config.server.public_url):
            # Another site's page would ride on the host's cookie.
            services.signalling_errors["foreign_origin"] += 1
            await websocket.close(code=1008, reason="foreign origin")
            return
        session = Session(websocket, services.rooms, services.signalling_errors)
        await session.run()

    app = Starlette(
        routes=[
            *pages.routes,
            *auth.routes,
            *api.routes,
            *recordings.routes,
            *bbb_api.routes,
            Route("/metrics", metrics_page),
            Route("/healthz", health),
            WebSocketRoute("/ws", websocket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=auth.secret_key(config.data_path),
                session_cookie=auth.SESSION_COOKIE,
                max_age=auth.SESSION_MAX_AGE,
                same_site="lax",
                https_only=config.server.base_url.startswith("https:"),
            )
        ],
    )
    app.state.services = services
    return app
