"""One participant session: a WebSocket, its messages in, the room's events out.

Incoming messages are decoded against docs/protocol.md and dispatched to one
`handle_<message>` function each. Every error is turned into a wire message
here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from smeeton.rooms import events
from smeeton.rooms.room import Participant, Rooms
from smeeton.sfu.negotiation import NegotiationError
from smeeton.signalling import messages
from smeeton.signalling.errors import (
    PermissionDenied,
    ProtocolError,
    UserError,
)

logger = logging.getLogger(__name__)

# WebSocket close codes (RFC 6455 §7.4.1 and the 4000 private range).
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_PROTOCOL = 4001
# A client this confused is not a meeting client.
MAX_BAD_MESSAGES = 20
_OUTBOX_LIMIT = 256
_encoder = msgspec.json.Encoder()


class Session:
    """The server end of one participant's WebSocket."""

    def __init__(
        self, websocket: WebSocket, rooms: Rooms, errors: Counter[str]
    ) -> None:
        self.websocket = websocket
        self.rooms = rooms
        self.errors = errors
        self.participant: Participant | None = None
        self._outbox: asyncio.Queue[events.Event | None] = asyncio.Queue()
        self._bad_messages = 0
        self._closing = False

    async def run(self) -> None:
        """Serve the session until the client leaves or breaks the protocol."""
        await self.websocket.accept()
        writer = asyncio.create_task(self._write())
        try:
            await self._read()
        finally:
            self._leave()
            self._outbox.put_nowait(None)
            try:
                await asyncio.wait_for(writer, 2.0)
            except (TimeoutError, asyncio.CancelledError):
                writer.cancel()

    def deliver(self, event: events.Event) -> None:
        """Queue an event for the client; a client that never reads is dropped."""
        if self._closing:
            return
        if self._outbox.qsize() > _OUTBOX_LIMIT:
            logger.warning("Session of %s is not reading; closing it.", self._who)
            self._closing = True
            self._outbox.put_nowait(None)
            return
        self._outbox.put_nowait(event)

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
                await self._close(CLOSE_TOO_BIG, "message too big")
                return
            await self._dispatch(data)

    async def _dispatch(self, data: str | bytes) -> None:
        try:
            message = messages.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._count("message_invalid")
            self._bad(events.Error("bad_message", f"Invalid message: {exc}"))
            if self._bad_messages > MAX_BAD_MESSAGES:
                await self._close(CLOSE_POLICY, "too many invalid messages")
            return
        handler = HANDLERS[type(message)]
        try:
            handler(self, message)
        except ProtocolError as exc:
            self._count("protocol_error")
            self.deliver(events.Error(exc.code, str(exc)))
            await self._close(CLOSE_PROTOCOL, str(exc))
        except NegotiationError as exc:
            self._count("sdp_invalid")
            self._bad(events.Error("bad_sdp", str(exc)))
        except (UserError, PermissionDenied) as exc:
            self._count(exc.code)
            self.deliver(events.Error(exc.code, str(exc)))
        except Exception:
            self._count("internal_error")
            logger.exception("Handling %s from %s failed.", type(message), self._who)
            self.deliver(events.Error("internal_error", "Internal server error."))

    def _bad(self, error: events.Error) -> None:
        self._bad_messages += 1
        if self._bad_messages == 1:
            logger.warning(
                "Session %s sent a bad message: %s", self._who, error.message
            )
        self.deliver(error)

    def _count(self, reason: str) -> None:
        self.errors[reason] += 1

    async def _close(self, code: int, reason: str) -> None:
        self._closing = True
        self._outbox.put_nowait(None)
        await asyncio.sleep(0)
        with contextlib.suppress(RuntimeError):
            await self.websocket.close(code, reason[:120])

    async def _write(self) -> None:
        while True:
            event = await self._outbox.get()
            if event is None:
                return
            try:
                await self.websocket.send_text(_encoder.encode(event).decode())
            except (WebSocketDisconnect, RuntimeError, OSError):
                return

    def _leave(self) -> None:
        participant, self.participant = self.participant, None
        if participant is not None and participant.room is not None:
            participant.room.leave(participant)

    def _joined(self) -> Participant:
        if self.participant is None or self.participant.room is None:
            raise ProtocolError("join a room first")
        return self.participant


def handle_join(session: Session, message: messages.Join) -> None:
    if session.participant is not None:
        raise ProtocolError("this session has already joined")
    if message.protocol != events.PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol {message.protocol} is not spoken here; "
            f"this server speaks {events.PROTOCOL_VERSION}"
        )
    name = message.name.strip()
    if not name or len(name) > messages.MAX_NAME_LENGTH:
        raise UserError("a name of 1 to 64 characters is needed")
    room_name = message.room.strip()
    if not room_name or len(room_name) > 128:
        raise UserError("a room name of 1 to 128 characters is needed")
    session.participant = Participant(name, session.deliver)
    session.rooms.get(room_name).join(session.participant)


def handle_publish(session: Session, message: messages.Publish) -> None:
    participant = session._joined()
    assert participant.room is not None
    labels = {
        mid: label
        for mid, label in message.tracks.items()
        if label in ("microphone", "camera", "screen")
    }
    participant.room.publish(participant, message.sdp, labels)


def handle_answer(session: Session, message: messages.Answer) -> None:
    participant = session._joined()
    assert participant.room is not None
    participant.room.answer(participant, message.sdp)


def handle_leave(session: Session, message: messages.Leave) -> None:
    session._leave()
    session._closing = True
    session._outbox.put_nowait(None)


HANDLERS: dict[type, Callable[[Session, messages.Message], None]] = {
    messages.Join: handle_join,  # type: ignore[dict-item]
    messages.Publish: handle_publish,  # type: ignore[dict-item]
    messages.Answer: handle_answer,  # type: ignore[dict-item]
    messages.Leave: handle_leave,  # type: ignore[dict-item]
}
