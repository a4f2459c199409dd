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
    """A participant as the others see it."""

    id: str
    name: str
    role: str = "attendee"
    hand_raised: bool = False
    microphone: bool = False
    camera: bool = False
    screen: bool = False
    away: bool = False


class ChatMessage(msgspec.Struct, frozen=True):
    """A chat message; `to` is empty for a public one."""

    id: str
    from_id: str
    from_name: str
    text: str
    time: float
    to: str = ""


class Waiting(msgspec.Struct, frozen=True):
    """Someone waiting in the lobby."""

    id: str
    name: str


class StreamInfo(msgspec.Struct, frozen=True):
    """A live stream as everyone sees it: never its key."""

    id: str
    target: str
    status: str
    error: str = ""


class Event(msgspec.Struct, tag_field="type", frozen=True):
    """Base of every server-to-client message."""


class Welcome(Event, tag="welcome"):
    protocol: int
    participant_id: str
    room: str
    room_name: str
    role: str
    resume_token: str
    resumed: bool
    locked: bool
    participants: list[ParticipantInfo]
    chat: list[ChatMessage]
    # What this participant arrives with turned off by the room's rules.
    muted: list[str] = []
    # Where the browser goes after the meeting, when the room says so.
    logout_url: str = ""
    # Whether moderators may start and stop the recording by hand here.
    recording_controls: bool = True


class LobbyWaiting(Event, tag="lobby_waiting"):
    room_name: str


class Denied(Event, tag="denied"):
    message: str


class PublishAnswer(Event, tag="publish_answer"):
    sdp: str


class Offer(Event, tag="offer"):
    sdp: str
    tracks: list[TrackInfo]


class ParticipantJoined(Event, tag="participant_joined"):
    participant: ParticipantInfo


class ParticipantUpdated(Event, tag="participant_updated"):
    participant: ParticipantInfo


class ParticipantLeft(Event, tag="participant_left"):
    participant_id: str


class Chat(Event, tag="chat"):
    message: ChatMessage


class Reaction(Event, tag="reaction"):
    participant_id: str
    emoji: str


class ActiveSpeaker(Event, tag="active_speaker"):
    participant_id: str


class Muted(Event, tag="muted"):
    kind: str
    by: str


class Lobby(Event, tag="lobby"):
    waiting: list[Waiting]


class RoomState(Event, tag="room_state"):
    locked: bool


class RecordingState(Event, tag="recording_state"):
    recording: bool
    started: float
    streams: list[StreamInfo]


class Removed(Event, tag="removed"):
    message: str


class MeetingEnded(Event, tag="meeting_ended"):
    message: str


class Error(Event, tag="error"):
    code: str
    message: str
