"""Every live meeting on this server, opened from the store on first join."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Protocol

from smeeton.rooms.chat import Chat, ChatStore
from smeeton.rooms.errors import UserError
from smeeton.rooms.observers import Observers
from smeeton.rooms.room import Room, RoomSettings
from smeeton.sfu.server import MediaServer

if TYPE_CHECKING:
    from smeeton.rooms.broadcast import Broadcasts

logger = logging.getLogger(__name__)

# What a temporary room's name may be, when temporary rooms are allowed.
_TEMPORARY_NAME = re.compile(r"[\w.-]{1,64}")


class RoomStore(ChatStore, Protocol):
    """The part of the store the meetings read."""

    async def room_by_slug(self, slug: str) -> object | None: ...


class Rooms:
    """Live meetings by room slug."""

    def __init__(
        self,
        media: MediaServer,
        store: RoomStore | None = None,
        temporary_rooms: bool = False,
    ) -> None:
        self.media = media
        self.store = store
        # Whether an unknown slug opens a temporary room, as on a test bench.
        self.temporary_rooms = temporary_rooms
        self.rooms: dict[str, Room] = {}
        # Told of what happens in every room (recorder, webhooks).
        self.observers = Observers()
        # Recording and live streaming, when the server offers them; it is
        # one of the observers too.
        self.broadcasts: Broadcasts | None = None
        # Verifies join tickets (rooms.tickets); empty: no ticket is valid.
        self.ticket_key = b""
        self._opening: dict[str, asyncio.Future[Room]] = {}

    async def open(self, slug: str) -> Room:
        """The live meeting of a room, opened if nobody is in it yet."""
        room = self.rooms.get(slug)
        if room is not None and not room.closed:
            return room
        pending = self._opening.get(slug)
        if pending is not None:
            return await asyncio.shield(pending)
        # Two people arriving at once open the room once.
        opening = asyncio.ensure_future(self._load(slug))
        self._opening[slug] = opening
        try:
            return await asyncio.shield(opening)
        finally:
            if self._opening.get(slug) is opening:
                del self._opening[slug]

    async def _load(self, slug: str) -> Room:
        record = None
        if self.store is not None:
            record = await self.store.room_by_slug(slug)
        if record is not None:
            settings = RoomSettings.of(record)
            chat = await Chat.load(self.store, settings.store_id)
        elif self.temporary_rooms and _TEMPORARY_NAME.fullmatch(slug):
            settings = RoomSettings(slug=slug, name=slug)
            chat = Chat(None, None, [])
        else:
            raise UserError(
                "There is no meeting room at this address.", "room_not_found"
            )
        room = Room(settings, self.media, chat, self.observers)
        room.on_closed = self._closed
        self.rooms[slug] = room
        logger.info("Room %s (%s) opened.", slug, settings.name)
        self.observers.tell("room_opened", room)
        return room

    def _closed(self, room: Room) -> None:
        if self.rooms.get(room.slug) is room:
            del self.rooms[room.slug]
            logger.info("Room %s closed.", room.slug)

    def close(self) -> None:
        for room in list(self.rooms.values()):
            room.close()
