"""What the rooms tell a participant; the signalling plane puts it on the wire.

Each event is a typed struct whose `type` tag and fields are exactly the
server-to-client message of docs/protocol.md.
"""

from __future__ import annotations

import msgspec

PROTOCOL_VERSION = 1


class TrackInfo(msgspec.Struct, frozen=True):
    """A track as a subscriber sees it in an offer."""

    track_id: str
    mid: str
    participant_id: str
    kind: str
    label: str


class ParticipantInfo(msgspec.Struct, frozen=True):
    id: str
    name: str


class Event(msgspec.Struct, tag_field="type", frozen=True):
    """Base of every server-to-client message."""


class Welcome(Event, tag="welcome"):
    protocol: int
    participant_id: str
    room: str
    participants: list[ParticipantInfo]


class PublishAnswer(Event, tag="publish_answer"):
    sdp: str


class Offer(Event, tag="offer"):
    sdp: str
    tracks: list[TrackInfo]


class ParticipantJoined(Event, tag="participant_joined"):
    participant: ParticipantInfo


class ParticipantLeft(Event, tag="participant_left"):
    participant_id: str


class Error(Event, tag="error"):
    code: str
    message: str
