"""What the BigBlueButton API's calls share: the secret, the store, the
live rooms, the recordings, the ticket and playback link keys, and what it
tells integrations.

It watches the rooms as an observer, so that webhooks hear of people coming
and going and a meeting ended in the room (by a moderator or its time limit)
ends the BigBlueButton meeting too. Observer methods only queue work; one
task does it in order, and `close()` cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from smeeton.http.bbb import webhooks
from smeeton.recording.recordings import Recordings
from smeeton.rooms.observers import RoomObserver
from smeeton.rooms.participant import Participant
from smeeton.rooms.registry import Rooms
from smeeton.rooms.room import Room
from smeeton.store import BbbMeeting, Store

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class BbbService(RoomObserver):
    """The API's shared state, alive as long as the application."""

    def __init__(
        self,
        secret: str,
        rooms: Rooms,
        ticket_key: bytes,
        domain: str,
        recordings: Recordings,
        link_key: bytes,
    ):
        self.secret = secret
        self.rooms = rooms
        self.ticket_key = ticket_key
        self.recordings = recordings
        # Signs the playback links getRecordings hands out.
        self.link_key = link_key
        self.callbacks = webhooks.Callbacks(secret, domain)
        # Set when the application starts.
        self.store: Store
        # Meetings someone has joined since they were created (hasUserJoined).
        self.joined: set[str] = set()
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        rooms.observers.append(self)

    def start(self, store: Store) -> None:
        self.store = store
        self._worker = asyncio.create_task(self._work())

    async def close(self) -> None:
        """Stop the worker and the callbacks; safe to call twice."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await self.callbacks.close()

    def live_room(self, meeting: BbbMeeting) -> Room | None:
        """The meeting's live room, if anybody is in it or waits."""
        room = self.rooms.rooms.get(meeting.room_slug)
        return None if room is None or room.closed else room

    async def tell_hooks(self, meeting: BbbMeeting, payload: dict) -> None:
        """Send an event to every webhook that wants this meeting's."""
        for hook in await self.store.bbb_hooks():
            if hook.meeting_id in (None, meeting.meeting_id):
                self.callbacks.hook(hook, payload)

    async def finish(self, meeting_id: str) -> bool:
        """Forget an ended meeting and tell whoever asked to know; False if
        it was gone already (only the first of two callers acts)."""
        meeting = await self.store.delete_bbb_meeting(meeting_id)
        if meeting is None:
            return False
        self.joined.discard(meeting_id)
        room = self.live_room(meeting)
        if room is not None:
            room.end("The meeting was ended.")
        await self.tell_hooks(meeting, webhooks.event("meeting-ended", meeting))
        for name in ("end_callback_url", "meeting_ended_url"):
            url = str(meeting.settings.get(name) or "")
            if url:
                self.callbacks.meeting_ended(url, meeting_id)
        return True

    # Room observer: queue the work, never wait here.

    def participant_joined(self, room: Room, participant: Participant) -> None:
        self._queue(lambda: self._user_event(room, participant, "user-joined"))

    def participant_left(self, room: Room, participant: Participant) -> None:
        self._queue(lambda: self._user_event(room, participant, "user-left"))

    def room_closed(self, room: Room) -> None:
        # LIMITATION: a room everyone left closes without ending its
        # meeting, which stays (not running) until `end`; BigBlueButton
        # would end it after a minute.
        if room.ended:
            self._queue(lambda: self._room_ended(room))

    def _queue(self, job: Job) -> None:
        if self._worker is not None:
            self._jobs.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                logger.exception("A BigBlueButton API job failed.")

    async def _user_event(self, room: Room, participant: Participant, kind: str):
        meeting = await self.store.bbb_meeting_in_room(room.slug)
        if meeting is None:
            return
        user: dict[str, object] = {
            "internal-user-id": participant.id,
            "external-user-id": participant.external_id,
        }
        if kind == "user-joined":
            self.joined.add(meeting.meeting_id)
            user["name"] = participant.name
            user["role"] = "MODERATOR" if participant.is_moderator else "VIEWER"
            user["presenter"] = "false"
        await self.tell_hooks(meeting, webhooks.event(kind, meeting, user=user))

    async def _room_ended(self, room: Room) -> None:
        meeting = await self.store.bbb_meeting_in_room(room.slug)
        if meeting is not None:
            await self.finish(meeting.meeting_id)
