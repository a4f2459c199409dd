"""The tables, as SQLAlchemy 2 declarative models; the migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The metadata every table belongs to."""


class UserRow(Base):
    """A host account with its argon2 password hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )


class RoomRow(Base):
    """A persistent room, found by its slug in the invite link `/r/<slug>`."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    access_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lobby: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    moderator_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )
    # The rules of the meeting held in the room, as JSON (rooms.rules).
    options: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChatMessageRow(Base):
    """A public chat message; private ones are never written down."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    from_id: Mapped[str] = mapped_column(String(64))
    from_name: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    time: Mapped[float] = mapped_column(Float)


class BbbMeetingRow(Base):
    """A meeting made through the BigBlueButton API, held in its own room."""

    __tablename__ = "bbb_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(256), unique=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), unique=True
    )
    internal_id: Mapped[str] = mapped_column(String(64))
    attendee_pw: Mapped[str] = mapped_column(String(256))
    moderator_pw: Mapped[str] = mapped_column(String(256))
    # Milliseconds since the epoch, as BigBlueButton gives it.
    create_time: Mapped[int] = mapped_column(BigInteger)
    voice_bridge: Mapped[str] = mapped_column(String(32))
    # The create parameters needed later and the meta_* ones, as JSON.
    settings: Mapped[str] = mapped_column(Text)
    meta: Mapped[str] = mapped_column(Text)


class BbbHookRow(Base):
    """A webhook: where events of one meeting, or of all, are posted."""

    __tablename__ = "bbb_hooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_url: Mapped[str] = mapped_column(Text)
    # None: every meeting's events.
    meeting_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    raw_data: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )
