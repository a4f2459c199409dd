"""The records the store hands out, and the limits every value is held to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

NAME_MAX = 128
ACCESS_CODE_MAX = 64
CHAT_TEXT_MAX = 2000
PASSWORD_MAX = 1024


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
