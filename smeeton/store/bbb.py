"""The BigBlueButton API's meetings and webhooks, kept beside the rooms.

A BigBlueButton meeting is held in a Smeeton room made for it; deleting the
meeting deletes that room and its chat. Mixed into `Store`, whose session
maker it uses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smeeton.store.models import BbbHookRow, BbbMeetingRow, RoomRow
from smeeton.store.records import BbbHook, BbbMeeting, check_name, new_slug

logger = logging.getLogger(__name__)

MEETING_ID_MAX = 256


class BbbMeetings:
    """Store methods for the BigBlueButton API."""

    _sessions: async_sessionmaker[AsyncSession]

    async def create_bbb_meeting(
        self,
        *,
        meeting_id: str,
        name: str,
        internal_id: str,
        attendee_pw: str,
        moderator_pw: str,
        create_time: int,
        voice_bridge: str,
        options: Mapping[str, object],
        settings: Mapping[str, object],
        meta: Mapping[str, str],
    ) -> BbbMeeting | None:
        """A new meeting in a new room; None when the meeting id is taken.

        `options` are the room's meeting rules (rooms.rules), `settings` what
        the API needs later. ValueError for a bad name or meeting id."""
        name = check_name(name, "meeting name")
        if not 1 <= len(meeting_id) <= MEETING_ID_MAX:
            raise ValueError(f"meetingID must be 1 to {MEETING_ID_MAX} characters")
        async with self._sessions() as session:
            room = RoomRow(
                slug=new_slug(),
                name=name,
                access_code=None,
                lobby=False,
                owner_id=None,
                moderator_key="",
                options=json.dumps(dict(options)),
            )
            session.add(room)
            await session.flush()
            row = BbbMeetingRow(
                meeting_id=meeting_id,
                room_id=room.id,
                internal_id=internal_id,
                attendee_pw=attendee_pw,
                moderator_pw=moderator_pw,
                create_time=create_time,
                voice_bridge=voice_bridge,
                settings=json.dumps(dict(settings)),
                meta=json.dumps(dict(meta)),
            )
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                # Two creates at once, or (astronomically rarely) a slug
                # collision: the caller looks the meeting up again.
                return None
            logger.info("Meeting %r created in room %s.", meeting_id, room.slug)
            return _meeting(row, room)

    async def bbb_meeting(self, meeting_id: str) -> BbbMeeting | None:
        """The meeting with that BigBlueButton meetingID, if any."""
        return await self._one_meeting(BbbMeetingRow.meeting_id == meeting_id)

    async def bbb_meeting_in_room(self, slug: str) -> BbbMeeting | None:
        """The meeting held in the room with that slug, if it is one."""
        return await self._one_meeting(RoomRow.slug == slug)

    async def _one_meeting(self, condition) -> BbbMeeting | None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(BbbMeetingRow, RoomRow)
                    .join(RoomRow, RoomRow.id == BbbMeetingRow.room_id)
                    .where(condition)
                )
            ).first()
            return None if found is None else _meeting(*found)

    async def bbb_meetings(self) -> list[BbbMeeting]:
        """Every meeting, oldest first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(BbbMeetingRow, RoomRow)
                .join(RoomRow, RoomRow.id == BbbMeetingRow.room_id)
                .order_by(BbbMeetingRow.create_time, BbbMeetingRow.id)
            )
            return [_meeting(*found) for found in rows.all()]

    async def delete_bbb_meeting(self, meeting_id: str) -> BbbMeeting | None:
        """Delete a meeting with its room and chat; what was deleted, or None
        when there was none (so only one of two callers acts on it)."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(BbbMeetingRow, RoomRow)
                    .join(RoomRow, RoomRow.id == BbbMeetingRow.room_id)
                    .where(BbbMeetingRow.meeting_id == meeting_id)
                )
            ).first()
            if found is None:
                return None
            meeting = _meeting(*found)
            result = await session.execute(
                delete(RoomRow).where(RoomRow.id == meeting.room_id)
            )
            # SQLite cascades only with foreign keys on, which the engine sets.
            await session.execute(
                delete(BbbMeetingRow).where(BbbMeetingRow.id == meeting.id)
            )
            await session.commit()
        if result.rowcount == 0:
            return None
        logger.info("Meeting %r deleted with room %s.", meeting_id, meeting.room_slug)
        return meeting

    # Webhooks.

    async def create_bbb_hook(
        self, callback_url: str, meeting_id: str | None, raw_data: bool
    ) -> tuple[BbbHook, bool]:
        """A webhook, and whether it is new: the same URL for the same
        meeting (or for all) gives back the existing one."""
        async with self._sessions() as session:
            existing = await session.scalar(
                select(BbbHookRow).where(
                    BbbHookRow.callback_url == callback_url,
                    BbbHookRow.meeting_id.is_(None)
                    if meeting_id is None
                    else BbbHookRow.meeting_id == meeting_id,
                )
            )
            if existing is not None:
                return _hook(existing), False
            row = BbbHookRow(
                callback_url=callback_url, meeting_id=meeting_id, raw_data=raw_data
            )
            session.add(row)
            await session.commit()
            logger.info("Webhook %d created.", row.id)
            return _hook(row), True

    async def bbb_hooks(self) -> list[BbbHook]:
        """Every webhook, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(select(BbbHookRow).order_by(BbbHookRow.id))
            return [_hook(row) for row in rows]

    async def delete_bbb_hook(self, hook_id: int) -> bool:
        """Delete a webhook; False when there was none."""
        async with self._sessions() as session:
            result = await session.execute(
                delete(BbbHookRow).where(BbbHookRow.id == hook_id)
            )
            await session.commit()
        return result.rowcount > 0


def _meeting(row: BbbMeetingRow, room: RoomRow) -> BbbMeeting:
    return BbbMeeting(
        id=row.id,
        meeting_id=row.meeting_id,
        room_id=row.room_id,
        room_slug=room.slug,
        name=room.name,
        internal_id=row.internal_id,
        attendee_pw=row.attendee_pw,
        moderator_pw=row.moderator_pw,
        create_time=row.create_time,
        voice_bridge=row.voice_bridge,
        settings=json.loads(row.settings),
        meta=json.loads(row.meta),
    )


def _hook(row: BbbHookRow) -> BbbHook:
    return BbbHook(
        id=row.id,
        callback_url=row.callback_url,
        meeting_id=row.meeting_id,
        raw_data=row.raw_data,
    )
