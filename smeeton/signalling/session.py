"""One participant session: a WebSocket, its messages in, the room's events out.

Incoming messages are decoded against docs/protocol.md and dispatched to one
`handle_<message>` function each (see `handlers`). Every error is turned into
a wire message here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from smeeton.rooms import events
from smeeton.rooms.participant import Participant
from smeeton.rooms.registry import Rooms
from smeeton.rooms.room import Room
from smeeton.sfu.negotiation import NegotiationError
from smeeton.signalling import messages
from smeeton.signalling.errors import MeetingError, ProtocolError

logger = logging.getLogger(__name__)

# WebSocket close codes (RFC 6455 §7.4.1 and the 4000 private range).
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_PROTOCOL = 4001
# A client this confused is not a meeting client.
MAX_BAD_MESSAGES = 20
_OUTBOX_LIMIT = 256
_encoder = msgspec.json.Encoder()


class _Close(msgspec.Struct, frozen=True):
    """Queued after the last event: close the WebSocket with this code."""

    code: int
    reason: str


class Session:
    """The server end of one participant's WebSocket."""

    def __init__(
        self, websocket: WebSocket, rooms: Rooms, errors: Counter[str]
    ) -> None:
        self.websocket = websocket
        self.rooms = rooms
        self.errors = errors
        self.participant: Participant | None = None
        self.room: Room | None = None
        http_session = websocket.scope.get("session") or {}
        # Set by the HTTP plane: who is signed in, and which browser this is.
        self.user_id: int | None = http_session.get("user_id")
        self.device: str = str(http_session.get("device", ""))
        self._outbox: asyncio.Queue[events.Event | _Close] = asyncio.Queue()
        self._bad_messages = 0
        self._closing = False

    async def run(self) -> None:
        """Serve the session until the client leaves or breaks the protocol."""
        await self.websocket.accept()
        writer = asyncio.create_task(self._write())
        try:
            await self._read()
        finally:
            self._disconnected()
            self._queue_close(CLOSE_NORMAL, "")
            try:
                await asyncio.wait_for(writer, 2.0)
            except (TimeoutError, asyncio.CancelledError):
                writer.cancel()

    # What the room sees of the session (rooms.participant.SessionLink).

    def deliver(self, event: events.Event) -> None:
        """Queue an event for the client; a client that never reads is dropped."""
        if self._closing:
            return
        if self._outbox.qsize() > _OUTBOX_LIMIT:
            logger.warning("Session of %s is not reading; closing it.", self._who)
            self._queue_close(CLOSE_POLICY, "not reading")
            return
        self._outbox.put_nowait(event)

    def end(self) -> None:
        """Send what is queued, then close; the room is done with us."""
        self.participant = None
        self.room = None
        self._queue_close(CLOSE_NORMAL, "")

    # For handlers.

    def joined(self) -> tuple[Room, Participant]:
        """The room and participant, or a protocol error before joining."""
        if self.participant is None or self.room is None:
            raise ProtocolError("join a room first")
        return self.room, self.participant

    def bind(self, room: Room, participant: Participant) -> None:
        self.room, self.participant = room, participant

    def leave(self) -> None:
        """The participant leaves for good; the session closes."""
        room, participant = self.room, self.participant
        self.end()
        if room is not None and participant is not None:
            room.leave(participant)

    # Reading.

    @property
    def _who(self) -> str:
        return self.participant.id if self.participant else "a new session"

    async def _read(self) -> None:
        while not self._closing:
            try:
                message = await self.websocket.receive()
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if len(data) > messages.MAX_MESSAGE_BYTES:
                self._count("message_too_big")
                self._queue_close(CLOSE_TOO_BIG, "message too big")
                return
            await self._dispatch(data)

    async def _dispatch(self, data: str | bytes) -> None:
        from smeeton.signalling.handlers import HANDLERS

        try:
            message = messages.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._count("bad_message")
            self._bad(events.Error("bad_message", f"Invalid message: {exc}"))
            return
        try:
            await HANDLERS[type(message)](self, message)
        except ProtocolError as exc:
            self._count(exc.code)
            self.deliver(events.Error(exc.code, str(exc)))
            self._queue_close(CLOSE_PROTOCOL, str(exc))
        except NegotiationError as exc:
            self._count("bad_sdp")
            self._bad(events.Error("bad_sdp", str(exc)))
        except MeetingError as exc:
            self._count(exc.code)
            self.deliver(events.Error(exc.code, str(exc)))
        except Exception:
            self._count("internal_error")
            logger.exception(
                "Handling %s from %s failed.", type(message).__name__, self._who
            )
            self.deliver(events.Error("internal_error", "Internal server error."))

    def _bad(self, error: events.Error) -> None:
        self._bad_messages += 1
        if self._bad_messages == 1:
            logger.warning(
                "Session %s sent a bad message: %s", self._who, error.message
            )
        self.deliver(error)
        if self._bad_messages > MAX_BAD_MESSAGES:
            self._queue_close(CLOSE_POLICY, "too many invalid messages")

    def _count(self, reason: str) -> None:
        self.errors[reason] += 1

    # Writing and closing.

    def _queue_close(self, code: int, reason: str) -> None:
        if not self._closing:
            self._closing = True
            self._outbox.put_nowait(_Close(code, reason[:120]))

    async def _write(self) -> None:
        while True:
            item = await self._outbox.get()
            if isinstance(item, _Close):
                with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                    await self.websocket.close(item.code, item.reason)
                return
            try:
                await self.websocket.send_text(_encoder.encode(item).decode())
            except (WebSocketDisconnect, RuntimeError, OSError):
                return

    def _disconnected(self) -> None:
        room, participant = self.room, self.participant
        self.room = self.participant = None
        if room is not None and participant is not None:
            room.disconnected(participant, self)
