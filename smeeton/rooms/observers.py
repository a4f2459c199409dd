"""Who else wants to know what happens in rooms: the recorder, webhooks, APIs.

An observer is told of each change after it happened. Its methods must be
quick and must not raise; one that does is logged and the room goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smeeton.rooms.participant import Participant
    from smeeton.rooms.room import Room

logger = logging.getLogger(__name__)


class RoomObserver:
    """Base of observers: every method does nothing unless overridden."""

    def room_opened(self, room: Room) -> None:
        pass

    def participant_joined(self, room: Room, participant: Participant) -> None:
        pass

    def participant_left(self, room: Room, participant: Participant) -> None:
        pass

    def tracks_changed(self, room: Room) -> None:
        """Some participant's published tracks came or went."""

    def room_closed(self, room: Room) -> None:
        pass


class Observers(list[RoomObserver]):
    """The observers of every room, told in order; a failing one is logged."""

    def tell(self, event: str, *args: object) -> None:
        for observer in self:
            try:
                getattr(observer, event)(*args)
            except Exception:
                logger.exception("Observer %r failed on %s.", observer, event)
