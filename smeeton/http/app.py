"""The ASGI application: the media plane and rooms live as long as it does."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from smeeton.config import Config
from smeeton.http import metrics
from smeeton.rooms.room import Rooms
from smeeton.sfu.server import MediaServer
from smeeton.signalling.session import Session

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


class Services:
    """What the application's handlers share, built at startup."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.media = MediaServer(config.media)
        self.rooms = Rooms(self.media)
        self.signalling_errors: Counter[str] = Counter()

    async def start(self) -> None:
        await self.media.start()

    def close(self) -> None:
        # Phases: participants leave, then the media port closes.
        self.rooms.close()
        self.media.close()


def create_app(config: Config) -> Starlette:
    services = Services(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            services.close()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def metrics_page(request: Request) -> Response:
        text = metrics.render(
            services.media, services.rooms, services.signalling_errors
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def websocket(websocket: WebSocket) -> None:
        session = Session(websocket, services.rooms, services.signalling_errors)
        await session.run()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/metrics", metrics_page),
            Route("/healthz", health),
            WebSocketRoute("/ws", websocket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
