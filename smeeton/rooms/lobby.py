"""The lobby: people who knocked on a room with its lobby on, waiting.

They see nothing of the meeting. Moderators are told who waits whenever
that changes, and admit or deny them one by one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from smeeton.rooms import events

if TYPE_CHECKING:
    from smeeton.rooms.participant import Participant
    from smeeton.rooms.room import Room

logger = logging.getLogger(__name__)


class Lobby:
    """Who waits to be let into one room, in order of arrival."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self._waiting: dict[str, Participant] = {}

    @property
    def waiting(self) -> list[Participant]:
        return list(self._waiting.values())

    def add(self, participant: Participant) -> None:
        self._waiting[participant.id] = participant
        participant.deliver(events.LobbyWaiting(self.room.settings.name))
        logger.info(
            "%s (%s) waits in the lobby of room %s.",
            participant.id,
            participant.name,
            self.room.slug,
        )
        self._tell_moderators()

    def remove(self, participant: Participant) -> bool:
        """Forget someone who left while waiting; whether it was waiting."""
        if self._waiting.pop(participant.id, None) is None:
            return False
        self._tell_moderators()
        return True

    def admit(self, participant_id: str) -> Participant | None:
        participant = self._waiting.pop(participant_id, None)
        if participant is None:
            return None
        self._tell_moderators()
        self.room.join(participant)
        return participant

    def deny(self, participant_id: str) -> Participant | None:
        participant = self._waiting.pop(participant_id, None)
        if participant is None:
            return None
        self._tell_moderators()
        participant.deliver(
            events.Denied("A moderator did not let you into this meeting.")
        )
        participant.end_session()
        logger.info("%s was denied entry to room %s.", participant.id, self.room.slug)
        return participant

    def tell(self, moderator: Participant) -> None:
        """Send one moderator the current list."""
        moderator.deliver(self._event())

    def clear(self) -> None:
        self._waiting.clear()

    def _event(self) -> events.Lobby:
        return events.Lobby([events.Waiting(p.id, p.name) for p in self.waiting])

    def _tell_moderators(self) -> None:
        event = self._event()
        for moderator in self.room.moderators():
            moderator.deliver(event)
