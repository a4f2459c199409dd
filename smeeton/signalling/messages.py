"""The client-to-server messages of docs/protocol.md, validated on arrival."""

from __future__ import annotations

import msgspec

# A publish offer with many sections is a few kilobytes; anything near this
# is not a meeting client.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_NAME_LENGTH = 64


class Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """Base of every client-to-server message."""


class Join(Message, tag="join"):
    room: str
    name: str
    protocol: int = 1


class Publish(Message, tag="publish"):
    sdp: str
    # Section mid -> what the track is: "microphone", "camera" or "screen".
    tracks: dict[str, str] = {}


class Answer(Message, tag="answer"):
    sdp: str


class Leave(Message, tag="leave"):
    pass


ClientMessage = Join | Publish | Answer | Leave

_decoder = msgspec.json.Decoder(ClientMessage)


def decode(data: str | bytes) -> ClientMessage:
    """Decode one message; msgspec.ValidationError or DecodeError if bad."""
    return _decoder.decode(data)
