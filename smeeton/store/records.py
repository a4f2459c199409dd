"""The records the store hands out, and the limits every value is held to."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

NAME_MAX = 128
ACCESS_CODE_MAX = 64
CHAT_TEXT_MAX = 2000
PASSWORD_MAX = 1024
SLUG_ALPHABET = string.ascii_lowercase + string.digits
SLUG_LENGTH = 10
# The room option a host sets; rooms.rules reads it with the others.
AUTO_RECORD = "auto_record"


def new_slug() -> str:
    """Ten random lowercase letters and digits: about 51 bits, not guessable."""
    return "".join(secrets.choice(SLUG_ALPHABET) for _ in range(SLUG_LENGTH))


@dataclass(frozen=True)
class User:
    """A host account. The password hash stays inside the store."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class RoomRecord:
    """A room as it is kept: what an invite link and a moderator link open."""

    id: int
    slug: str
    name: str
    access_code: str | None
    lobby: bool
    owner_id: int | None
    moderator_key: str
    created_at: datetime
    # The rules of the meeting held there (see rooms.rules); empty for none.
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def auto_record(self) -> bool:
        """Whether recording starts when the first participant arrives."""
        return self.options.get(AUTO_RECORD) is True


@dataclass(frozen=True)
class BbbMeeting:
    """A meeting made through the BigBlueButton API and the room it uses."""

    id: int
    meeting_id: str
    room_id: int
    room_slug: str
    name: str
    internal_id: str
    attendee_pw: str
    moderator_pw: str
    create_time: int
    voice_bridge: str
    # Create parameters needed after `create` (welcome, callbacks, ...).
    settings: Mapping[str, object]
    # The meta_* parameters without their prefix, echoed as given.
    meta: Mapping[str, str]


@dataclass(frozen=True)
class BbbHook:
    """A webhook of the BigBlueButton API; `meeting_id` None means all."""

    id: int
    callback_url: str
    meeting_id: str | None
    raw_data: bool


@dataclass(frozen=True)
class ChatRecord:
    """One public chat message of a room; `time` is seconds since the epoch."""

    id: int
    room_id: int
    from_id: str
    from_name: str
    text: str
    time: float


def check_name(value: object, what: str = "name") -> str:
    """A user or room name: 1 to 128 characters once trimmed, no control
    characters. Raises ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    value = value.strip()
    if not 1 <= len(value) <= NAME_MAX:
        raise ValueError(f"{what} must be 1 to {NAME_MAX} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} must not contain control characters")
    return value


def check_access_code(value: object) -> str | None:
    """An access code of 1 to 64 characters, or None for no code at all."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("access code must be text")
    value = value.strip()
    if not 1 <= len(value) <= ACCESS_CODE_MAX:
        raise ValueError(f"access code must be 1 to {ACCESS_CODE_MAX} characters")
    return value


def check_flag(value: object, what: str) -> bool:
    """A true or false setting; not 1, "yes" or "on"."""
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false")
    return value


def check_password(value: object) -> str:
    """A password: any text of 1 to 1024 characters, kept as it was typed."""
    if not isinstance(value, str):
        raise ValueError("password must be text")
    if not 1 <= len(value) <= PASSWORD_MAX:
        raise ValueError(f"password must be 1 to {PASSWORD_MAX} characters")
    return value


def check_chat_text(value: object) -> str:
    """A chat message of 1 to 2000 characters that is not only white space."""
    if not isinstance(value, str):
        raise ValueError("chat text must be text")
    if not value.strip() or len(value) > CHAT_TEXT_MAX:
        raise ValueError(f"chat text must be 1 to {CHAT_TEXT_MAX} characters")
    return value
