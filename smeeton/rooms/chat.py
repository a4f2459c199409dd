"""A room's chat: public messages kept with the room, private ones passed on.

Public messages are written to the store before anyone sees them, so the
history a late joiner gets is the history that survives a restart. Private
messages go to the two people concerned and are not kept.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Protocol

from smeeton.rooms import events
from smeeton.rooms.errors import UserError
from smeeton.rooms.limits import BurstLimit

if TYPE_CHECKING:
    from smeeton.rooms.participant import Participant

MAX_TEXT = 2000
HISTORY = 200
# A person types a few messages a minute; a burst past this is a script.
_BURST = 10
_BURST_SECONDS = 10.0


class ChatStore(Protocol):
    """The part of the store the chat writes to."""

    async def add_chat_message(
        self, room_id: int, from_id: str, from_name: str, text: str, time: float
    ) -> object: ...

    async def chat_history(self, room_id: int, limit: int = HISTORY) -> list: ...


class Chat:
    """The chat of one live meeting."""

    def __init__(
        self,
        store: ChatStore | None,
        room_id: int | None,
        history: list[events.ChatMessage],
    ) -> None:
        self._store = store
        self._room_id = room_id
        self.history = history[-HISTORY:]
        self._limit = BurstLimit(
            _BURST, _BURST_SECONDS, "Too many messages at once; wait a moment."
        )

    @classmethod
    async def load(cls, store: ChatStore | None, room_id: int | None) -> Chat:
        """The chat of a stored room, with its kept history."""
        if store is None or room_id is None:
            return cls(None, None, [])
        records = await store.chat_history(room_id, HISTORY)
        return cls(store, room_id, [_message(r) for r in records])

    async def post(
        self, sender: Participant, text: str, to: Participant | None = None
    ) -> events.ChatMessage:
        """Check, keep (if public) and return a message; the caller delivers it."""
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            raise UserError(f"A chat message has 1 to {MAX_TEXT} characters.")
        self._limit.check(sender.id)
        now = time.time()
        if to is not None:
            return events.ChatMessage(
                "m" + secrets.token_hex(6), sender.id, sender.name, text, now, to.id
            )
        message_id = "m" + secrets.token_hex(6)
        if self._store is not None and self._room_id is not None:
            record = await self._store.add_chat_message(
                self._room_id, sender.id, sender.name, text, now
            )
            message_id = f"c{record.id}"  # type: ignore[attr-defined]
        message = events.ChatMessage(message_id, sender.id, sender.name, text, now)
        self.history.append(message)
        del self.history[:-HISTORY]
        return message

    async def post_as(self, name: str, text: str) -> events.ChatMessage:
        """Keep and return a public message from outside the meeting (an
        integration's), with no sender id; the caller delivers it."""
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            raise UserError(f"A chat message has 1 to {MAX_TEXT} characters.")
        now = time.time()
        message_id = "m" + secrets.token_hex(6)
        if self._store is not None and self._room_id is not None:
            record = await self._store.add_chat_message(
                self._room_id, "", name, text, now
            )
            message_id = f"c{record.id}"  # type: ignore[attr-defined]
        message = events.ChatMessage(message_id, "", name, text, now)
        self.history.append(message)
        del self.history[:-HISTORY]
        return message


def _message(record: object) -> events.ChatMessage:
    return events.ChatMessage(
        id=f"c{record.id}",  # type: ignore[attr-defined]
        from_id=record.from_id,  # type: ignore[attr-defined]
        from_name=record.from_name,  # type: ignore[attr-defined]
        text=record.text,  # type: ignore[attr-defined]
        time=record.time,  # type: ignore[attr-defined]
    )
