"""A participant: one person in a meeting, whatever session carries it now.

The WebSocket session behind a participant can change: when it drops, the
participant is kept for a while as away, and a new session may take it back
with its resume token.
"""

from __future__ import annotations

import enum
import secrets
from typing import TYPE_CHECKING, Protocol

from smeeton.rooms import events

if TYPE_CHECKING:
    from smeeton.sfu.publisher import Publisher
    from smeeton.sfu.subscriber import Subscriber
    from smeeton.sfu.track import Track


class Role(enum.Enum):
    MODERATOR = "moderator"
    ATTENDEE = "attendee"


class SessionLink(Protocol):
    """What the meeting needs of the session that carries a participant."""

    def deliver(self, event: events.Event) -> None: ...

    def end(self) -> None:
        """Send what is queued, then close the session."""


class Participant:
    """One person in a room, with a publishing and a receiving connection."""

    def __init__(
        self,
        name: str,
        role: Role,
        session: SessionLink,
        device: str = "",
        external_id: str = "",
    ) -> None:
        self.id = "p" + secrets.token_hex(6)
        self.name = name
        self.role = role
        # What an integration calls this person (BigBlueButton's userID).
        self.external_id = external_id or self.id
        self.session: SessionLink | None = session
        # The browser it came from, so that a removed person stays out.
        self.device = device
        self.resume_token = secrets.token_urlsafe(24)
        self.hand_raised = False
        self.microphone = False
        self.camera = False
        self.screen = False
        # Set by a moderator; lifted when the person turns the device on.
        self.muted: set[str] = set()
        self.publisher: Publisher | None = None
        self.subscriber: Subscriber | None = None

    @property
    def away(self) -> bool:
        return self.session is None

    @property
    def is_moderator(self) -> bool:
        return self.role is Role.MODERATOR

    @property
    def info(self) -> events.ParticipantInfo:
        return events.ParticipantInfo(
            id=self.id,
            name=self.name,
            role=self.role.value,
            hand_raised=self.hand_raised,
            microphone=self.microphone and "microphone" not in self.muted,
            camera=self.camera and "camera" not in self.muted,
            screen=self.screen,
            away=self.away,
        )

    @property
    def tracks(self) -> list[Track]:
        return [] if self.publisher is None else list(self.publisher.tracks.values())

    def deliver(self, event: events.Event) -> None:
        """Send an event to the person, if a session carries it now."""
        if self.session is not None:
            self.session.deliver(event)

    def end_session(self) -> None:
        """Close the session after what is queued; the person is gone."""
        session, self.session = self.session, None
        if session is not None:
            session.end()
