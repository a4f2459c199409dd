"""Recording and live streaming of meetings: the rooms' side of the composer.

A room observer that, while a meeting is recorded or streamed, keeps the
composer subscribed to every published track and told who is in the room,
carries out the moderators' requests, and tells everyone what is on. The
composer and its outputs run in threads; what they report comes back to the
event loop here.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

from smeeton.recording import targets
from smeeton.recording.composer import Composer
from smeeton.recording.outputs import (
    EncoderSettings,
    FileOutput,
    Output,
    OutputStatus,
    StreamOutput,
)
from smeeton.recording.recordings import Recording, Recordings
from smeeton.rooms import events, rules
from smeeton.rooms.errors import UserError
from smeeton.rooms.moderation import require_moderator
from smeeton.rooms.observers import RoomObserver

if TYPE_CHECKING:
    from smeeton.config import RecordingConfig
    from smeeton.rooms.participant import Participant
    from smeeton.rooms.room import Room
    from smeeton.sfu.track import Track

logger = logging.getLogger(__name__)

# Streams that ended stay listed, so people see why, up to this many.
_KEPT_ENDED = 5
_JOIN_TIMEOUT = 5.0


class _Stream:
    """One live stream of a meeting."""

    def __init__(self, output: StreamOutput, shown: str) -> None:
        self.id = "s" + secrets.token_hex(4)
        self.output = output
        self.shown = shown

    @property
    def info(self) -> events.StreamInfo:
        output = self.output
        # A stream that reconnects keeps saying why its last try failed.
        error = "" if output.status is OutputStatus.LIVE else output.error
        return events.StreamInfo(self.id, self.shown, output.status.value, error)


class RoomBroadcast:
    """What one meeting records and streams, and the composer behind it."""

    def __init__(
        self,
        room: Room,
        config: RecordingConfig,
        recordings: Recordings,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.room = room
        self.config = config
        self.recordings = recordings
        self.loop = loop
        self.composer: Composer | None = None
        self.recording: Recording | None = None
        self.file: FileOutput | None = None
        self.started = 0.0
        self.streams: dict[str, _Stream] = {}
        # Set when a moderator stopped the recording: no automatic restart.
        self.stopped_by_moderator = False
        self._fed: dict[str, Track] = {}
        self._finishing: dict[FileOutput, Recording] = {}
        # Who has been in the meeting during each recording.
        self._present: dict[FileOutput, set[str]] = {}
        # The composer being closed, until its threads are done.
        self._closing: Composer | None = None

    @property
    def state(self) -> events.RecordingState:
        return events.RecordingState(
            recording=self.file is not None,
            started=self.started if self.file is not None else 0.0,
            streams=[s.info for s in self.streams.values()],
        )

    def tell_everyone(self) -> None:
        state = self.state
        for participant in self.room.participants.values():
            participant.deliver(state)

    # Recording.

    def start_recording(self) -> None:
        if self.file is not None:
            raise UserError("The meeting is being recorded already.")
        composer = self._composer()
        recording, path = self.recordings.create(
            self.room.slug, self.room.settings.recording_labels
        )
        self.file = FileOutput(composer.encoder, path, self._reported)
        self.recording = recording
        self.started = recording.started
        self._finishing[self.file] = recording
        self._present[self.file] = set(self.room.participants)
        composer.add_output(self.file)
        logger.info("Recording %s of room %s started.", recording.id, self.room.slug)
        self.tell_everyone()

    def stop_recording(self) -> None:
        if self.file is None:
            raise UserError("The meeting is not being recorded.")
        file, self.file = self.file, None
        self.recording = None
        file.stop()
        self.tell_everyone()

    # Streaming.

    def start_stream(self, url: str, key: str) -> str:
        try:
            target = targets.check(url, key)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        live = [s for s in self.streams.values() if s.output.active]
        if len(live) >= self.config.max_streams:
            raise UserError(
                f"A meeting can have at most {self.config.max_streams} live streams."
            )
        composer = self._composer()
        output = StreamOutput(composer.encoder, target.url, self._reported)
        stream = _Stream(output, target.shown)
        self.streams[stream.id] = stream
        self._forget_ended()
        composer.add_output(stream.output)
        logger.info(
            "Room %s started live stream %s to %s.",
            self.room.slug,
            stream.id,
            target.shown,
        )
        self.tell_everyone()
        return stream.id

    def stop_stream(self, stream_id: str) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            raise UserError("There is no such live stream.", "not_found")
        if not stream.output.active:
            # Stopping an ended stream takes it off the list.
            del self.streams[stream_id]
            self.tell_everyone()
            return
        stream.output.stop()
        logger.info("Room %s stopped live stream %s.", self.room.slug, stream_id)

    # The composer's subscriptions.

    def subscribe(self) -> None:
        """Feed the composer every published track, and only those."""
        composer = self.composer
        if composer is None:
            return
        current = {
            track.id: (participant, track)
            for participant in self.room.participants.values()
            for track in participant.tracks
        }
        for track_id in list(self._fed):
            if track_id not in current:
                self._fed.pop(track_id).remove_output(self)
                composer.remove(track_id)
        for track_id, (participant, track) in current.items():
            if track_id not in self._fed:
                self._feed(composer, participant, track)
        composer.set_participants(
            [(p.id, p.name) for p in self.room.participants.values()]
        )
        if self.file is not None:
            self._present.setdefault(self.file, set()).update(self.room.participants)

    def _feed(self, composer: Composer, participant: Participant, track: Track) -> None:
        loop = self.loop

        def keyframe_wanted() -> None:
            # From the composer's thread: the track lives on the event loop.
            if not loop.is_closed():
                loop.call_soon_threadsafe(track.keyframe_wanted)

        try:
            send = composer.feed(
                track.id,
                participant.id,
                track.kind,
                track.label,
                track.codec.name,
                keyframe_wanted,
            )
        except ValueError as exc:
            logger.warning("Track %s is left out of the recording: %s", track.id, exc)
            return
        self._fed[track.id] = track
        track.add_output(self, send)

    def _composer(self) -> Composer:
        if self.composer is None:
            config = self.config
            settings = EncoderSettings(
                width=config.width,
                height=config.height,
                fps=config.fps,
                video_bitrate=config.video_bitrate,
                audio_bitrate=config.audio_bitrate,
                preset=config.preset,
            )
            speaker = self.room.speaker
            self.composer = Composer(settings, speaker=lambda: speaker.current)
            self.composer.start()
            self.subscribe()
        return self.composer

    def _stop_composer_if_idle(self) -> None:
        composer = self.composer
        if composer is None or any(o.active for o in composer.outputs):
            return
        self.composer = None
        for track in self._fed.values():
            track.remove_output(self)
        self._fed.clear()
        composer.close()

    # What the outputs report, from their threads.

    def _reported(self, output: Output) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._changed, output)

    def _changed(self, output: Output) -> None:
        if isinstance(output, FileOutput) and not output.active:
            self._finish(output)
            if output is self.file:
                # The recording failed by itself (a full disk, say).
                self.file, self.recording = None, None
        self._stop_composer_if_idle()
        self.tell_everyone()

    def _finish(self, output: FileOutput) -> None:
        recording = self._finishing.pop(output, None)
        present = self._present.pop(output, set())
        if recording is not None:
            self.recordings.finish(recording, output.duration, len(present))

    def _forget_ended(self) -> None:
        ended = [s for s in self.streams.values() if not s.output.active]
        for stream in ended[:-_KEPT_ENDED] if len(ended) > _KEPT_ENDED else []:
            del self.streams[stream.id]

    # Ending.

    def close(self) -> None:
        """Stop recording and streaming; the recording is finished on disk."""
        self.file = self.recording = None
        composer, self.composer = self.composer, None
        if composer is None:
            return
        for track in self._fed.values():
            track.remove_output(self)
        self._fed.clear()
        for output in composer.outputs:
            output.stop()
        composer.close()
        self._closing = composer

    @property
    def busy(self) -> bool:
        """Whether threads of a closed composer are still finishing."""
        composer = self._closing
        return composer is not None and (
            composer.running or any(o.running for o in composer.outputs)
        )

    def wait(self) -> None:
        """Block until the threads are done, and finish any recording."""
        composer = self._closing
        if composer is None:
            return
        composer.join(_JOIN_TIMEOUT)
        for output in composer.outputs:
            output.join(_JOIN_TIMEOUT)
            if isinstance(output, FileOutput):
                self._finish(output)


class Broadcasts(RoomObserver):
    """Every meeting's recording and streams, by room."""

    def __init__(self, config: RecordingConfig, recordings: Recordings) -> None:
        self.config = config
        self.recordings = recordings
        self._rooms: dict[int, RoomBroadcast] = {}
        # Rooms that closed while their recording was still being finished.
        self._closed: list[RoomBroadcast] = []

    def of(self, room: Room) -> RoomBroadcast:
        broadcast = self._rooms.get(id(room))
        if broadcast is None or broadcast.room is not room:
            broadcast = RoomBroadcast(
                room, self.config, self.recordings, asyncio.get_running_loop()
            )
            self._rooms[id(room)] = broadcast
        return broadcast

    def state(self, room: Room) -> events.RecordingState:
        broadcast = self._rooms.get(id(room))
        if broadcast is None:
            return events.RecordingState(False, 0.0, [])
        return broadcast.state

    # What moderators ask for; attendees are refused.

    def start_recording(self, room: Room, by: Participant) -> None:
        require_moderator(by, "record the meeting")
        rules.check_recording(room, starting=True)
        self.of(room).start_recording()

    def stop_recording(self, room: Room, by: Participant) -> None:
        require_moderator(by, "stop the recording")
        rules.check_recording(room, starting=False)
        broadcast = self.of(room)
        broadcast.stop_recording()
        broadcast.stopped_by_moderator = True

    def start_stream(self, room: Room, by: Participant, url: str, key: str) -> str:
        require_moderator(by, "stream the meeting")
        return self.of(room).start_stream(url, key)

    def stop_stream(self, room: Room, by: Participant, stream_id: str) -> None:
        require_moderator(by, "stop a live stream")
        self.of(room).stop_stream(stream_id)

    # RoomObserver.

    def participant_joined(self, room: Room, participant: Participant) -> None:
        broadcast = self._rooms.get(id(room))
        if (
            rules.records_on_arrival(room, self.config.auto_start)
            and (broadcast is None or broadcast.file is None)
            and not (broadcast is not None and broadcast.stopped_by_moderator)
        ):
            self.of(room).start_recording()
            return  # everyone, the newcomer included, was told
        if broadcast is not None:
            broadcast.subscribe()
        participant.deliver(self.state(room))

    def participant_left(self, room: Room, participant: Participant) -> None:
        broadcast = self._rooms.get(id(room))
        if broadcast is not None:
            broadcast.subscribe()

    def tracks_changed(self, room: Room) -> None:
        broadcast = self._rooms.get(id(room))
        if broadcast is not None:
            broadcast.subscribe()

    def room_closed(self, room: Room) -> None:
        broadcast = self._rooms.pop(id(room), None)
        if broadcast is not None:
            broadcast.close()
            self._closed = [b for b in self._closed if b.busy]
            self._closed.append(broadcast)

    def close(self) -> None:
        """At shutdown: stop every recording and stream; then `wait`."""
        for broadcast in list(self._rooms.values()):
            broadcast.close()
            self._closed.append(broadcast)
        self._rooms.clear()

    def wait(self) -> None:
        """Block until the recordings' last bytes are on disk (in a thread)."""
        closed, self._closed = self._closed, []
        for broadcast in closed:
            broadcast.wait()
