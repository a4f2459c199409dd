"""A room and its participants: who publishes what, and who receives it.

Every participant receives every track the others publish. When the set of
tracks changes, each affected subscriber gets a new offer as soon as it has
answered the previous one.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from smeeton.rooms import events
from smeeton.sfu.publisher import Publisher
from smeeton.sfu.server import MediaServer
from smeeton.sfu.subscriber import Subscriber
from smeeton.sfu.track import Track

logger = logging.getLogger(__name__)


class Participant:
    """One person in a room, with a publishing and a receiving connection."""

    def __init__(self, name: str, deliver: Callable[[events.Event], None]) -> None:
        self.id = "p" + secrets.token_hex(6)
        self.name = name
        self.deliver = deliver
        self.room: Room | None = None
        self.publisher: Publisher | None = None
        self.subscriber: Subscriber | None = None

    @property
    def info(self) -> events.ParticipantInfo:
        return events.ParticipantInfo(self.id, self.name)

    @property
    def tracks(self) -> list[Track]:
        return [] if self.publisher is None else list(self.publisher.tracks.values())


class Room:
    """The participants meeting under one name."""

    def __init__(self, name: str, media: MediaServer) -> None:
        self.name = name
        self.media = media
        self.participants: dict[str, Participant] = {}
        self.on_empty: Callable[[Room], None] = lambda room: None

    def join(self, participant: Participant) -> None:
        """Let a participant in, tell everyone, and start its subscription."""
        participant.room = self
        others = [p.info for p in self.participants.values()]
        self.participants[participant.id] = participant
        participant.subscriber = Subscriber(
            self.media, f"{self.name}/{participant.id}", participant.id
        )
        participant.subscriber.on_closed = lambda: self.leave(participant)
        participant.deliver(
            events.Welcome(events.PROTOCOL_VERSION, participant.id, self.name, others)
        )
        self._broadcast(events.ParticipantJoined(participant.info), participant)
        logger.info(
            "Participant %s (%s) joined room %s.",
            participant.id,
            participant.name,
            self.name,
        )
        self._update_subscriber(participant)

    def leave(self, participant: Participant) -> None:
        """Remove a participant and its tracks; safe to call twice."""
        if self.participants.pop(participant.id, None) is None:
            return
        if participant.publisher is not None:
            participant.publisher.close()
        if participant.subscriber is not None:
            participant.subscriber.close()
        participant.room = None
        self._broadcast(events.ParticipantLeft(participant.id), participant)
        logger.info("Participant %s left room %s.", participant.id, self.name)
        self._update_subscribers()
        if not self.participants:
            self.on_empty(self)

    def publish(
        self, participant: Participant, sdp: str, labels: dict[str, str]
    ) -> None:
        """Answer a participant's publish offer; others get its new tracks."""
        if participant.publisher is None:
            participant.publisher = Publisher(
                self.media, f"{self.name}/{participant.id}"
            )
            participant.publisher.on_closed = lambda: self.leave(participant)
        result = participant.publisher.handle_offer(sdp, labels)
        participant.deliver(events.PublishAnswer(result.answer))
        if result.added or result.removed:
            self._update_subscribers()

    def answer(self, participant: Participant, sdp: str) -> None:
        """Apply a subscriber's answer, then offer again if more has changed."""
        subscriber = participant.subscriber
        assert subscriber is not None
        subscriber.handle_answer(sdp)
        self._update_subscriber(participant)

    def close(self) -> None:
        for participant in list(self.participants.values()):
            self.leave(participant)

    def _update_subscribers(self) -> None:
        for participant in list(self.participants.values()):
            self._update_subscriber(participant)

    def _update_subscriber(self, participant: Participant) -> None:
        subscriber = participant.subscriber
        if subscriber is None:
            return
        tracks = [
            track
            for other in self.participants.values()
            if other is not participant
            for track in other.tracks
        ]
        subscriber.set_tracks(tracks)
        offer = subscriber.create_offer()
        if offer is None:
            return
        owners = {
            track.id: other.id
            for other in self.participants.values()
            for track in other.tracks
        }
        infos = [
            events.TrackInfo(
                track.id, mid, owners.get(track.id, ""), track.kind, track.label
            )
            for mid, track in subscriber.offered_tracks()
        ]
        participant.deliver(events.Offer(offer, infos))

    def _broadcast(self, event: events.Event, sender: Participant) -> None:
        for participant in self.participants.values():
            if participant is not sender:
                participant.deliver(event)


class Rooms:
    """Every open room on this server, by name."""

    def __init__(self, media: MediaServer) -> None:
        self.media = media
        self.rooms: dict[str, Room] = {}

    def get(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is None:
            room = Room(name, self.media)
            room.on_empty = self._closed
            self.rooms[name] = room
            logger.info("Room %s opened.", name)
        return room

    def _closed(self, room: Room) -> None:
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]
            logger.info("Room %s closed.", room.name)

    def close(self) -> None:
        for room in list(self.rooms.values()):
            room.close()
