"""The client-to-server messages of docs/protocol.md, validated on arrival."""

from __future__ import annotations

import msgspec

# A publish offer with many sections is a few kilobytes; anything near this
# is not a meeting client.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_NAME_LENGTH = 64
MAX_SLUG_LENGTH = 128


class Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """Base of every client-to-server message."""


class Join(Message, tag="join"):
    room: str
    name: str
    protocol: int = 1
    access_code: str | None = None
    moderator_key: str | None = None
    resume: str | None = None
    # A join ticket from the BigBlueButton API's join link (rooms.tickets).
    ticket: str | None = None


class Publish(Message, tag="publish"):
    sdp: str
    # Section mid -> what the track is: "microphone", "camera" or "screen".
    tracks: dict[str, str] = {}


class Answer(Message, tag="answer"):
    sdp: str


class ResetMedia(Message, tag="reset_media"):
    pass


class MediaState(Message, tag="media_state"):
    microphone: bool
    camera: bool
    screen: bool = False


class Chat(Message, tag="chat"):
    text: str
    to: str | None = None


class RaiseHand(Message, tag="raise_hand"):
    raised: bool


class Reaction(Message, tag="reaction"):
    emoji: str


class Leave(Message, tag="leave"):
    pass


class Mute(Message, tag="mute"):
    participant_id: str | None = None


class StopCamera(Message, tag="stop_camera"):
    participant_id: str


class LowerHand(Message, tag="lower_hand"):
    participant_id: str


class Remove(Message, tag="remove"):
    participant_id: str


class Promote(Message, tag="promote"):
    participant_id: str


class Lock(Message, tag="lock"):
    locked: bool


class Admit(Message, tag="admit"):
    participant_id: str


class Deny(Message, tag="deny"):
    participant_id: str


class EndMeeting(Message, tag="end_meeting"):
    pass


class StartRecording(Message, tag="start_recording"):
    pass


class StopRecording(Message, tag="stop_recording"):
    pass


class StartStream(Message, tag="start_stream"):
    url: str
    key: str = ""


class StopStream(Message, tag="stop_stream"):
    stream_id: str


ClientMessage = (
    Join
    | Publish
    | Answer
    | ResetMedia
    | MediaState
    | Chat
    | RaiseHand
    | Reaction
    | Leave
    | Mute
    | StopCamera
    | LowerHand
    | Remove
    | Promote
    | Lock
    | Admit
    | Deny
    | EndMeeting
    | StartRecording
    | StopRecording
    | StartStream
    | StopStream
)

_decoder = msgspec.json.Decoder(ClientMessage)


def decode(data: str | bytes) -> ClientMessage:
    """Decode one message; msgspec.ValidationError or DecodeError if bad."""
    return _decoder.decode(data)
