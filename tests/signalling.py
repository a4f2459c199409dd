"""A signalling-only client of docs/protocol.md, for tests of meeting rules.

It joins, sends and reads messages but has no media: rules about who may
enter and who may do what need no peer connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import websockets

from tests.server import RunningServer


def create_room(server: RunningServer, name: str, *flags: str) -> tuple[str, str]:
    """Create a room with the CLI; its slug and moderator key."""
    out = server.run_cli("rooms", "create", name, *flags)
    found = re.search(r"/r/([A-Za-z0-9_-]+)\?moderator=([A-Za-z0-9_-]+)", out)
    assert found, out
    return found.group(1), found.group(2)


class Client:
    """One WebSocket session; every message received is kept in order."""

    def __init__(self, server: RunningServer, headers: dict | None = None) -> None:
        self.server = server
        self.headers = headers or {}
        self.socket: websockets.ClientConnection | None = None
        self.messages: list[dict] = []
        self.participant_id = ""
        self.resume_token = ""
        self.closed = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task | None = None
        self._taken: set[int] = set()

    async def connect(self) -> Client:
        self.socket = await websockets.connect(
            self.server.ws_url, additional_headers=self.headers
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def join(self, room: str, name: str, **fields) -> dict:
        """Send a join; the first welcome, lobby_waiting or error in reply."""
        if self.socket is None:
            await self.connect()
        await self.send({"type": "join", "room": room, "name": name, **fields})
        reply = await self.next("welcome", "lobby_waiting", "error")
        if reply["type"] == "welcome":
            self.participant_id = reply["participant_id"]
            self.resume_token = reply["resume_token"]
        return reply

    async def send(self, message: dict) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(message))

    async def next(self, *types: str, timeout: float = 10.0) -> dict:
        """The first message not yet taken whose type is one of `types`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._arrived:
            while True:
                for index, message in enumerate(self.messages):
                    if index not in self._taken and message["type"] in types:
                        self._taken.add(index)
                        return message
                remaining = deadline - loop.time()
                try:
                    await asyncio.wait_for(self._arrived.wait(), max(remaining, 0))
                except TimeoutError:
                    seen = [m["type"] for m in self.messages]
                    raise AssertionError(f"no {types} in {timeout} s: {seen}") from None

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    async def wait_closed(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.closed.wait(), timeout)

    async def drop(self) -> None:
        """Cut the connection without a leave, as a broken network would."""
        if self.socket is not None:
            self.socket.transport.abort()
        await self.wait_closed()

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.send({"type": "leave"})
            await self.socket.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        assert self.socket is not None
        try:
            async for text in self.socket:
                async with self._arrived:
                    self.messages.append(json.loads(text))
                    self._arrived.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
