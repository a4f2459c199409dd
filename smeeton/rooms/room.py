"""A live meeting: who is in it, who waits, and who receives which track.

Every participant receives every track the others publish. When the set of
tracks changes, each affected subscriber gets a new offer as soon as it has
answered the previous one. A participant whose session drops is kept as
away for `AWAY_GRACE` seconds, its connections untouched, so that it can
come back with its resume token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from smeeton.rooms import events, rules
from smeeton.rooms.chat import Chat
from smeeton.rooms.errors import UserError
from smeeton.rooms.limits import BurstLimit
from smeeton.rooms.lobby import Lobby
from smeeton.rooms.observers import Observers
from smeeton.rooms.participant import Participant, Role, SessionLink
from smeeton.rooms.rules import RoomRules
from smeeton.rooms.speaker import SpeakerDetector
from smeeton.sfu.publisher import Publisher
from smeeton.sfu.server import MediaServer
from smeeton.sfu.subscriber import Subscriber

logger = logging.getLogger(__name__)

AWAY_GRACE = 20.0


@dataclass(frozen=True)
class RoomSettings:
    """What the meeting needs of the stored room."""

    slug: str
    name: str
    access_code: str | None = None
    lobby: bool = False
    owner_id: int | None = None
    moderator_key: str = ""
    # The stored room's id, None for a temporary room.
    store_id: int | None = None
    rules: RoomRules = field(default_factory=RoomRules)
    # Kept with every recording of the room (the BigBlueButton API names its
    # meeting there), so that the recordings say what they were of after
    # the room is gone.
    recording_labels: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, record: object) -> RoomSettings:
        """From a stored room record."""
        options = getattr(record, "options", None)
        return cls(
            slug=record.slug,  # type: ignore[attr-defined]
            name=record.name,  # type: ignore[attr-defined]
            access_code=record.access_code or None,  # type: ignore[attr-defined]
            lobby=bool(record.lobby),  # type: ignore[attr-defined]
            owner_id=record.owner_id,  # type: ignore[attr-defined]
            moderator_key=record.moderator_key,  # type: ignore[attr-defined]
            store_id=record.id,  # type: ignore[attr-defined]
            rules=RoomRules.of(options),
            recording_labels=_labels(options),
        )


@dataclass(frozen=True)
class Entry:
    """Who knocks: a name, credentials and where from."""

    name: str
    access_code: str | None = None
    moderator_key: str | None = None
    user_id: int | None = None
    device: str = ""
    # Set from a verified join ticket: the role it grants, whether the
    # person is a guest, and the integration's id of them.
    role: Role | None = None
    guest: bool = False
    external_id: str = ""


class Room:
    """The participants meeting in one room."""

    def __init__(
        self,
        settings: RoomSettings,
        media: MediaServer,
        chat: Chat,
        observers: Observers | None = None,
    ) -> None:
        self.settings = settings
        self.observers = observers if observers is not None else Observers()
        self.media = media
        self.chat = chat
        self.participants: dict[str, Participant] = {}
        self.lobby = Lobby(self)
        self.locked = False
        self.closed = False
        # Ended on purpose (a moderator, the API, the time limit), not left.
        self.ended = False
        self.on_closed: Callable[[Room], None] = lambda room: None
        # Devices and resume tokens of removed participants.
        self._kept_out: set[str] = set()
        self._away_timers: dict[str, asyncio.TimerHandle] = {}
        self._time_limit: asyncio.TimerHandle | None = None
        self.speaker = SpeakerDetector(self)
        # A few reactions a second is applause; more is someone's script.
        self.reaction_limit = BurstLimit(
            5, 2.0, "Too many reactions at once; wait a moment."
        )

    @property
    def slug(self) -> str:
        return self.settings.slug

    @property
    def rules(self) -> RoomRules:
        return self.settings.rules

    # Coming in.

    def knock(self, entry: Entry, session: SessionLink) -> Participant:
        """Let someone in, into the lobby, or refuse them with a UserError."""
        role = entry.role or self._role_of(entry)
        if entry.device and entry.device in self._kept_out:
            raise UserError("You were removed from this meeting.", "removed")
        rules.check_room_for(self)
        waits = False
        if role is Role.ATTENDEE:
            self._check_access_code(entry.access_code)
            if self.locked:
                raise UserError("This meeting is locked.", "room_locked")
            waits = rules.check_guest(self, entry.guest) or self.settings.lobby
        participant = Participant(
            entry.name, role, session, entry.device, entry.external_id
        )
        if waits:
            self.lobby.add(participant)
        else:
            self.join(participant)
        return participant

    def join(self, participant: Participant) -> None:
        """Let a participant in, tell everyone, and start its subscription."""
        rules.on_arrival(self, participant)
        self.participants[participant.id] = participant
        self._start_time_limit()
        participant.subscriber = self._subscriber_for(participant)
        self._welcome(participant, resumed=False)
        self.broadcast(events.ParticipantJoined(participant.info), participant)
        if participant.is_moderator:
            self.lobby.tell(participant)
        logger.info(
            "Participant %s (%s) joined room %s as %s.",
            participant.id,
            participant.name,
            self.slug,
            participant.role.value,
        )
        self.speaker.start()
        self._update_subscriber(participant)
        self.observers.tell("participant_joined", self, participant)

    def resume(self, token: str, session: SessionLink) -> Participant | None:
        """Take a participant back on a new session, if the token is known."""
        found = None
        for participant in self.participants.values():
            if hmac.compare_digest(participant.resume_token, token):
                found = participant
        if found is None:
            return None
        timer = self._away_timers.pop(found.id, None)
        if timer is not None:
            timer.cancel()
        previous, found.session = found.session, session
        if previous is not None:
            previous.end()
        self._welcome(found, resumed=True)
        self.broadcast(events.ParticipantUpdated(found.info), found)
        if found.is_moderator:
            self.lobby.tell(found)
        logger.info("Participant %s is back in room %s.", found.id, self.slug)
        # An offer sent while away may never have arrived: offer again.
        if found.subscriber is not None:
            found.subscriber.cancel_offer()
        self._update_subscriber(found)
        return found

    # Going out.

    def disconnected(self, participant: Participant, session: SessionLink) -> None:
        """A participant's session dropped: keep it as away for a while."""
        if self.lobby.remove(participant):
            if not self.participants and not self.lobby.waiting:
                self.close()
            return
        if participant.session is not session or participant.id not in (
            self.participants
        ):
            return
        participant.session = None
        self.broadcast(events.ParticipantUpdated(participant.info), participant)
        logger.info("Participant %s is away from room %s.", participant.id, self.slug)
        loop = asyncio.get_running_loop()
        self._away_timers[participant.id] = loop.call_later(
            AWAY_GRACE, self._away_expired, participant
        )

    def leave(self, participant: Participant) -> None:
        """Remove a participant and its tracks; safe to call twice."""
        self.lobby.remove(participant)
        if self.participants.pop(participant.id, None) is None:
            return
        timer = self._away_timers.pop(participant.id, None)
        if timer is not None:
            timer.cancel()
        had_tracks = bool(participant.tracks)
        self._close_media(participant)
        self.broadcast(events.ParticipantLeft(participant.id), participant)
        logger.info("Participant %s left room %s.", participant.id, self.slug)
        self._update_subscribers()
        self.observers.tell("participant_left", self, participant)
        if had_tracks:
            self.observers.tell("tracks_changed", self)
        if not self.participants and not self.lobby.waiting:
            self.close()

    def keep_out(self, participant: Participant) -> None:
        """Remember a removed participant so that it cannot come back."""
        self._kept_out.add(participant.resume_token)
        if participant.device:
            self._kept_out.add(participant.device)

    def end(self, message: str) -> None:
        """End the meeting on purpose, telling everyone (the lobby too) why."""
        if self.closed:
            return
        self.ended = True
        event = events.MeetingEnded(message)
        for participant in [*self.participants.values(), *self.lobby.waiting]:
            participant.deliver(event)
        logger.info("The meeting in room %s ended: %s", self.slug, message)
        self.close()

    def close(self) -> None:
        """End the meeting: everyone's session closes; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self.speaker.stop()
        if self._time_limit is not None:
            self._time_limit.cancel()
        for timer in self._away_timers.values():
            timer.cancel()
        self._away_timers.clear()
        for participant in [*self.participants.values(), *self.lobby.waiting]:
            self._close_media(participant)
            participant.end_session()
        self.participants.clear()
        self.lobby.clear()
        self.observers.tell("room_closed", self)
        self.on_closed(self)

    # Media.

    def publish(
        self, participant: Participant, sdp: str, labels: dict[str, str]
    ) -> None:
        """Answer a participant's publish offer; others get its new tracks."""
        if participant.publisher is None:
            publisher = Publisher(self.media, f"{self.slug}/{participant.id}")
            publisher.on_closed = lambda: self._publisher_failed(participant)
            participant.publisher = publisher
        result = participant.publisher.handle_offer(sdp, labels)
        for track in result.added:
            if track.label in participant.muted:
                track.pause()
        participant.deliver(events.PublishAnswer(result.answer))
        if result.added or result.removed:
            self._update_subscribers()
            self.observers.tell("tracks_changed", self)

    def answer(self, participant: Participant, sdp: str) -> None:
        """Apply a subscriber's answer, then offer again if more has changed."""
        subscriber = participant.subscriber
        assert subscriber is not None
        subscriber.handle_answer(sdp)
        self._update_subscriber(participant)

    def reset_media(self, participant: Participant) -> None:
        """Drop both connections; the participant publishes and answers anew."""
        had_tracks = bool(participant.tracks)
        self._close_media(participant)
        participant.subscriber = self._subscriber_for(participant)
        if had_tracks:
            self._update_subscribers()
            self.observers.tell("tracks_changed", self)
        else:
            self._update_subscriber(participant)

    def set_paused(self, participant: Participant, label: str, paused: bool) -> None:
        """Stop or restart forwarding a participant's tracks of one label."""
        for track in participant.tracks:
            if track.label == label:
                if paused:
                    track.pause()
                else:
                    track.resume()

    # Telling people.

    def broadcast(self, event: events.Event, sender: Participant | None = None) -> None:
        """Send an event to everyone in the meeting but the sender."""
        for participant in self.participants.values():
            if participant is not sender:
                participant.deliver(event)

    def updated(self, participant: Participant) -> None:
        """Tell everyone, the participant included, that it changed."""
        event = events.ParticipantUpdated(participant.info)
        for other in self.participants.values():
            other.deliver(event)

    def moderators(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.is_moderator]

    # Steps.

    def _role_of(self, entry: Entry) -> Role:
        key = self.settings.moderator_key
        if (
            entry.moderator_key
            and key
            and hmac.compare_digest(entry.moderator_key.encode(), key.encode())
        ):
            return Role.MODERATOR
        owner = self.settings.owner_id
        if owner is not None and entry.user_id == owner:
            return Role.MODERATOR
        # A temporary room has nobody to appoint a moderator: the first is one.
        if self.settings.store_id is None and not self.participants:
            return Role.MODERATOR
        return Role.ATTENDEE

    def _check_access_code(self, given: str | None) -> None:
        wanted = self.settings.access_code
        if not wanted:
            return
        if not given:
            raise UserError(
                "This meeting needs an access code.", "access_code_required"
            )
        if not hmac.compare_digest(given.strip().encode(), wanted.encode()):
            raise UserError("That access code is not right.", "wrong_access_code")

    def _start_time_limit(self) -> None:
        # The time limit counts from the first arrival.
        if self._time_limit is not None or not self.rules.duration:
            return
        self._time_limit = asyncio.get_running_loop().call_later(
            self.rules.duration * 60.0,
            self.end,
            "The meeting reached its time limit.",
        )

    def _welcome(self, participant: Participant, resumed: bool) -> None:
        chat = self.chat.history
        text = rules.welcome_text(self)
        if text:
            # Shown first, from the room itself: no sender id.
            first = events.ChatMessage("welcome", "", self.settings.name, text, 0.0)
            chat = [first, *chat]
        participant.deliver(
            events.Welcome(
                protocol=events.PROTOCOL_VERSION,
                participant_id=participant.id,
                room=self.slug,
                room_name=self.settings.name,
                role=participant.role.value,
                resume_token=participant.resume_token,
                resumed=resumed,
                locked=self.locked,
                participants=[
                    p.info for p in self.participants.values() if p is not participant
                ],
                chat=chat,
                muted=sorted(participant.muted),
                logout_url=self.rules.logout_url,
                recording_controls=(
                    self.rules.recordable and self.rules.manual_recording
                ),
            )
        )
        # Changes of speaker are sent as they happen: say who it is now.
        if self.speaker.current:
            participant.deliver(events.ActiveSpeaker(self.speaker.current))

    def _subscriber_for(self, participant: Participant) -> Subscriber:
        subscriber = Subscriber(
            self.media, f"{self.slug}/{participant.id}", participant.id
        )
        subscriber.on_closed = lambda: self._subscriber_failed(participant)
        return subscriber

    def _close_media(self, participant: Participant) -> None:
        if participant.publisher is not None:
            participant.publisher.close()
            participant.publisher = None
        if participant.subscriber is not None:
            participant.subscriber.close()
            participant.subscriber = None

    def _publisher_failed(self, participant: Participant) -> None:
        # The client notices too and publishes again after `reset_media`.
        publisher, participant.publisher = participant.publisher, None
        if publisher is not None:
            logger.info(
                "The publishing connection of %s in room %s failed.",
                participant.id,
                self.slug,
            )
            publisher.close()
            self._update_subscribers()
            self.observers.tell("tracks_changed", self)

    def _subscriber_failed(self, participant: Participant) -> None:
        # Nothing is sent on a failed connection; `reset_media` makes anew.
        subscriber, participant.subscriber = participant.subscriber, None
        if subscriber is not None:
            logger.info(
                "The receiving connection of %s in room %s failed.",
                participant.id,
                self.slug,
            )
            subscriber.close()

    def _away_expired(self, participant: Participant) -> None:
        self._away_timers.pop(participant.id, None)
        if participant.away:
            logger.info(
                "Participant %s did not come back to room %s.",
                participant.id,
                self.slug,
            )
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
        if participant.away:
            return
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


def _labels(options: object) -> dict[str, object]:
    # The stored room's options are JSON anyone may have written: only a
    # mapping counts.
    labels = options.get("recording_labels") if isinstance(options, Mapping) else None
    return dict(labels) if isinstance(labels, Mapping) else {}
