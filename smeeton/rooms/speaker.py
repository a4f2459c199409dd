"""Who is speaking: read from the audio levels publishers put on their packets.

RFC 6464 levels are -dBov from 0 (loudest) to 127 (silence). Each tick the
loudest microphone over the threshold wins, but the current speaker keeps
the floor until someone else has been louder for two ticks running, so
that short noises do not make the highlight jump.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from smeeton.rooms import events

if TYPE_CHECKING:
    from smeeton.rooms.room import Room

TICK = 0.3
# Quieter than -50 dBov is background noise, not speech.
SPEECH_LEVEL = 50
_TICKS_TO_SWITCH = 2
# After this many silent ticks nobody is speaking.
_SILENT_TICKS = 5


class SpeakerDetector:
    """Tells a room who its active speaker is, when that changes."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.current = ""
        self._candidate = ""
        self._candidate_ticks = 0
        self._silent_ticks = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(TICK)
                self.tick()

    def tick(self) -> None:
        """Read and reset every microphone's loudest level; maybe switch."""
        loudest, who = 128, ""
        for participant in self.room.participants.values():
            for track in participant.tracks:
                if track.kind != "audio":
                    continue
                level = track.take_loudest()
                if level < loudest and not track.paused:
                    loudest, who = level, participant.id
        if loudest > SPEECH_LEVEL:
            self._silence()
            return
        self._silent_ticks = 0
        if who == self.current:
            self._candidate_ticks = 0
            return
        if who != self._candidate:
            self._candidate, self._candidate_ticks = who, 0
        self._candidate_ticks += 1
        if self._candidate_ticks >= _TICKS_TO_SWITCH or not self.current:
            self._switch(who)

    def _silence(self) -> None:
        self._candidate_ticks = 0
        self._silent_ticks += 1
        if self.current and self._silent_ticks >= _SILENT_TICKS:
            self._switch("")

    def _switch(self, who: str) -> None:
        self.current = who
        self._candidate, self._candidate_ticks = "", 0
        event = events.ActiveSpeaker(who)
        for participant in self.room.participants.values():
            participant.deliver(event)
