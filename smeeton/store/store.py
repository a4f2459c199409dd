"""The store's facade: every read and write the other planes make."""

from __future__ import annotations

import enum
import json
import logging
import secrets
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from smeeton.config import Config
from smeeton.store import database, passwords
from smeeton.store.bbb import BbbMeetings
from smeeton.store.models import ChatMessageRow, RoomRow, UserRow
from smeeton.store.records import (
    AUTO_RECORD,
    ChatRecord,
    RoomRecord,
    User,
    check_access_code,
    check_chat_text,
    check_flag,
    check_name,
    check_password,
    new_slug,
)

logger = logging.getLogger(__name__)


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = _Unset.UNSET


class Store(BbbMeetings):
    """Rooms, host accounts and chat history in one SQL database; the
    BigBlueButton API's meetings and webhooks come from `BbbMeetings`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._closed = False

    @classmethod
    async def open(cls, config: Config) -> Store:
        """Create the data directory, bring the schema up to date, connect."""
        config.data_path.mkdir(parents=True, exist_ok=True)
        async_url, sync_url = database.urls(config)
        await database.migrate(sync_url)
        logger.info(
            "The store is open at %s.", async_url.render_as_string(hide_password=True)
        )
        return cls(database.create_engine(async_url))

    async def close(self) -> None:
        """Release every connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._engine.dispose()

    # Host accounts.

    async def create_user(self, name: str, password: str) -> User:
        """A new host account. ValueError for a bad or already taken name."""
        name = check_name(name, "user name")
        password = check_password(password)
        row = UserRow(name=name, password_hash=await passwords.hash_password(password))
        async with self._sessions() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise ValueError(f"a user named {name!r} exists already") from None
        logger.info("Host account %r created.", name)
        return _user(row)

    async def authenticate(self, name: str, password: str) -> User | None:
        """The user when the name and password match, else None."""
        if not isinstance(name, str) or not isinstance(password, str):
            return None
        async with self._sessions() as session:
            row = await session.scalar(select(UserRow).where(UserRow.name == name))
            stored = row.password_hash if row is not None else None
            if not await passwords.verify_password(stored, password):
                return None
            assert row is not None
            # Hashing parameters grow with hardware; upgrade old hashes quietly.
            if passwords.needs_rehash(row.password_hash):
                row.password_hash = await passwords.hash_password(password)
                await session.commit()
            return _user(row)

    async def get_user(self, user_id: int) -> User | None:
        """The user with that id, if any."""
        async with self._sessions() as session:
            row = await session.get(UserRow, user_id)
            return None if row is None else _user(row)

    async def user_by_name(self, name: str) -> User | None:
        """The user with that name, if any."""
        async with self._sessions() as session:
            row = await session.scalar(select(UserRow).where(UserRow.name == name))
            return None if row is None else _user(row)

    async def users(self) -> list[User]:
        """Every host account, by name."""
        async with self._sessions() as session:
            rows = await session.scalars(select(UserRow).order_by(UserRow.name))
            return [_user(row) for row in rows]

    # Rooms.

    async def create_room(
        self,
        name: str,
        owner_id: int | None,
        access_code: str | None = None,
        lobby: bool = False,
        auto_record: bool = False,
    ) -> RoomRecord:
        """A new room with a fresh slug and moderator key; `auto_record`
        starts recording when the first participant arrives."""
        name = check_name(name, "room name")
        access_code = check_access_code(access_code)
        lobby = check_flag(lobby, "lobby")
        options = {AUTO_RECORD: check_flag(auto_record, "auto_record")}

        # A slug collision is astronomically rare; try again with a new one.
        for _ in range(5):
            row = RoomRow(
                slug=new_slug(),
                name=name,
                access_code=access_code,
                lobby=lobby,
                owner_id=owner_id,
                moderator_key=secrets.token_urlsafe(24),
                options=json.dumps(options),
            )
            async with self._sessions() as session:
                session.add(row)
                try:
                    await session.commit()
                except IntegrityError:
                    if owner_id is not None and await self.get_user(owner_id) is None:
                        raise ValueError(f"no user has id {owner_id}") from None
                    continue
            logger.info("Room %r created as %s.", name, row.slug)
            return _room(row)
        raise RuntimeError("no free room slug found")

    async def room_by_slug(self, slug: str) -> RoomRecord | None:
        """The room an invite link names, if any."""
        async with self._sessions() as session:
            row = await session.scalar(select(RoomRow).where(RoomRow.slug == slug))
            return None if row is None else _room(row)

    async def rooms_of(self, owner_id: int) -> list[RoomRecord]:
        """A host's rooms, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RoomRow)
                .where(RoomRow.owner_id == owner_id)
                .order_by(RoomRow.created_at, RoomRow.id)
            )
            return [_room(row) for row in rows]

    async def all_rooms(self) -> list[RoomRecord]:
        """Every room, oldest first, for the command line."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RoomRow).order_by(RoomRow.created_at, RoomRow.id)
            )
            return [_room(row) for row in rows]

    async def update_room(
        self,
        slug: str,
        *,
        name: str | _Unset = UNSET,
        access_code: str | None | _Unset = UNSET,
        lobby: bool | _Unset = UNSET,
        auto_record: bool | _Unset = UNSET,
    ) -> RoomRecord | None:
        """Change the fields given; `access_code=None` removes the code.
        None when no room has that slug; ValueError for a bad value."""
        changes: dict[str, object] = {}
        option_changes: dict[str, object] = {}
        if name is not UNSET:
            changes["name"] = check_name(name, "room name")
        if access_code is not UNSET:
            changes["access_code"] = check_access_code(access_code)
        if lobby is not UNSET:
            changes["lobby"] = check_flag(lobby, "lobby")
        if auto_record is not UNSET:
            option_changes[AUTO_RECORD] = check_flag(auto_record, "auto_record")
        async with self._sessions() as session:
            row = await session.scalar(select(RoomRow).where(RoomRow.slug == slug))
            if row is None:
                return None
            for key, value in changes.items():
                setattr(row, key, value)
            if option_changes:
                # The other options (the BigBlueButton API's rules) are kept.
                options = json.loads(row.options) if row.options else {}
                if not isinstance(options, dict):
                    options = {}
                row.options = json.dumps(options | option_changes)
            await session.commit()
            return _room(row)

    async def delete_room(self, slug: str) -> bool:
        """Delete a room and its chat history; False when there was none."""
        async with self._sessions() as session:
            result = await session.execute(delete(RoomRow).where(RoomRow.slug == slug))
            await session.commit()
        deleted = result.rowcount > 0
        if deleted:
            logger.info("Room %s deleted.", slug)
        return deleted

    # Chat history.

    async def add_chat_message(
        self, room_id: int, from_id: str, from_name: str, text: str, time: float
    ) -> ChatRecord:
        """Keep one public chat message. ValueError for bad text or room."""
        text = check_chat_text(text)
        from_name = check_name(from_name, "sender name")
        row = ChatMessageRow(
            room_id=room_id,
            from_id=str(from_id)[:64],
            from_name=from_name,
            text=text,
            time=float(time),
        )
        async with self._sessions() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise ValueError(f"no room has id {room_id}") from None
        return _chat(row)

    async def chat_history(self, room_id: int, limit: int = 200) -> list[ChatRecord]:
        """The newest `limit` public messages of a room, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ChatMessageRow)
                .where(ChatMessageRow.room_id == room_id)
                .order_by(ChatMessageRow.time.desc(), ChatMessageRow.id.desc())
                .limit(max(0, limit))
            )
            return [_chat(row) for row in reversed(rows.all())]


def _utc(moment: datetime) -> datetime:
    # SQLite keeps no time zone; every moment stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, created_at=_utc(row.created_at))


def _room(row: RoomRow) -> RoomRecord:
    return RoomRecord(
        id=row.id,
        slug=row.slug,
        name=row.name,
        access_code=row.access_code,
        lobby=row.lobby,
        owner_id=row.owner_id,
        moderator_key=row.moderator_key,
        created_at=_utc(row.created_at),
        options=json.loads(row.options) if row.options else {},
    )


def _chat(row: ChatMessageRow) -> ChatRecord:
    return ChatRecord(
        id=row.id,
        room_id=row.room_id,
        from_id=row.from_id,
        from_name=row.from_name,
        text=row.text,
        time=row.time,
    )
