"""The composer: a room's tracks in, one picture and one mix out, encoded once.

It subscribes to tracks like any other subscriber: each track hands it
rewritten RTP packets on the event loop, which only appends them to a queue.
A worker thread does the rest (PyAV releases the GIL while it decodes,
scales and encodes): it puts frames together, decodes each track once, and
on a fixed clock lays out a picture every 1/fps seconds and mixes 20 ms of
audio. The clock never waits for media, so a publisher who leaves or joins
leaves no gap: the picture repeats and the mix is silence meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import numpy

from smeeton.recording import depacketize
from smeeton.recording.canvas import SPEAKER, TILE, Canvas
from smeeton.recording.decoder import SAMPLE_RATE, AudioDecoder, VideoDecoder
from smeeton.recording.layout import Person, Tile, arrange
from smeeton.recording.mixer import Mixer
from smeeton.recording.outputs import Encoder, EncoderSettings, Output, Packet

logger = logging.getLogger(__name__)

AUDIO_CHUNK = SAMPLE_RATE // 50  # 20 ms
# A worker this far behind the clock skips ahead rather than catch up.
MAX_LAG = 1.0
# Packets a track may have waiting for the worker (about two seconds of
# video); older ones give way, as loss would.
_QUEUE = 600


@dataclass(eq=False)
class _Source:
    """One track as the composer sees it."""

    track_id: str
    participant_id: str
    kind: str
    label: str
    depacketizer: depacketize.Depacketizer
    decoder: VideoDecoder | AudioDecoder
    packets: deque[bytes] = field(default_factory=lambda: deque(maxlen=_QUEUE))
    latest: av.VideoFrame | None = None
    # The latest picture scaled for its tile, and for which tile.
    scaled: numpy.ndarray | None = None
    scaled_for: object = None


class Composer:
    """Decodes, lays out, mixes and encodes a room for its outputs."""

    def __init__(
        self, settings: EncoderSettings, speaker: Callable[[], str] = lambda: ""
    ) -> None:
        self.settings = settings
        # Read in the worker; a string attribute read is atomic.
        self.speaker = speaker
        self.encoder = Encoder(settings)
        self.canvas = Canvas(settings.width, settings.height)
        self.mixer = Mixer()
        self.frames_encoded = 0
        self.frames_skipped = 0
        self.cpu_seconds = 0.0
        self.closed = False
        self._sources: dict[str, _Source] = {}
        self._removed: deque[str] = deque()
        self._outputs: tuple[Output, ...] = ()
        self._participants: tuple[tuple[str, str], ...] = ()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run_logged, name="smeeton-composer", daemon=True
        )
        self._tiles: tuple[tuple[Person, ...], list[Tile]] | None = None
        self._dirty = True
        self._speaker: str | None = None

    # On the event loop.

    def start(self) -> None:
        self._thread.start()

    def feed(
        self,
        track_id: str,
        participant_id: str,
        kind: str,
        label: str,
        codec_name: str,
        keyframe_wanted: Callable[[], None],
    ) -> Callable[[bytes], None]:
        """Take a track; the returned function is the track's output.

        `keyframe_wanted` is called from the worker thread. Raises ValueError
        for a codec the composer cannot decode.
        """
        if kind == "video" and label != "screen":
            label = "camera"
        depacketizer = depacketize.for_codec(codec_name, keyframe_wanted)
        decoder = (
            VideoDecoder(codec_name) if kind == "video" else AudioDecoder(codec_name)
        )
        source = _Source(track_id, participant_id, kind, label, depacketizer, decoder)
        with self._lock:
            self._sources[track_id] = source
            self._dirty = True
        return source.packets.append

    def remove(self, track_id: str) -> None:
        with self._lock:
            if self._sources.pop(track_id, None) is not None:
                self._removed.append(track_id)
                self._dirty = True

    def tracks(self) -> set[str]:
        with self._lock:
            return set(self._sources)

    def set_participants(self, participants: list[tuple[str, str]]) -> None:
        """Who is in the room, (id, name), in the order they joined."""
        self._participants = tuple(participants)
        self._dirty = True

    def add_output(self, output: Output) -> None:
        self._outputs = (*self._outputs, output)
        output.start()

    def remove_output(self, output: Output) -> None:
        self._outputs = tuple(o for o in self._outputs if o is not output)

    @property
    def outputs(self) -> tuple[Output, ...]:
        return self._outputs

    def close(self) -> None:
        """Stop the clock; outputs get the encoder's last packets and stop.

        Safe to call twice; returns at once, the worker finishes on its own.
        """
        self.closed = True
        self._stopping.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    # In the worker thread.

    def _run_logged(self) -> None:
        try:
            self._run()
        except Exception:
            logger.exception("The composer failed.")
        finally:
            for output in self._outputs:
                output.stop()
            self.encoder.close()

    def _run(self) -> None:
        step = 1 / self.settings.fps
        start = time.monotonic()
        video_index = audio_samples = 0
        started_cpu = time.thread_time()
        while not self._stopping.is_set():
            self._decode_pending()
            now = time.monotonic() - start
            if now - video_index * step > MAX_LAG:
                # The machine is too slow for the clock; better a jump than
                # a recording that falls ever further behind.
                skipped = int(now / step) - video_index
                self.frames_skipped += skipped
                logger.warning("The composer is behind; skipping %d frames.", skipped)
                video_index += skipped
                audio_samples = int(video_index * step * SAMPLE_RATE)
            while video_index * step <= now:
                self._emit_video(video_index)
                video_index += 1
            while audio_samples / SAMPLE_RATE <= now:
                self._emit_audio(audio_samples)
                audio_samples += AUDIO_CHUNK
            self.cpu_seconds = time.thread_time() - started_cpu
            due = min(video_index * step, audio_samples / SAMPLE_RATE)
            self._stopping.wait(max(due - (time.monotonic() - start), 0.001))
        self._send(self.encoder.flush())

    def _decode_pending(self) -> None:
        with self._lock:
            sources = list(self._sources.values())
            removed = list(self._removed)
            self._removed.clear()
        for track_id in removed:
            self.mixer.remove(track_id)
        for source in sources:
            while source.packets:
                packet = source.packets.popleft()
                for frame in source.depacketizer.push(packet):
                    self._decode(source, frame)

    def _decode(self, source: _Source, frame: depacketize.Frame) -> None:
        decoder = source.decoder
        if isinstance(decoder, AudioDecoder):
            for samples in decoder.decode(frame):
                self.mixer.push(source.track_id, samples)
            return
        pictures = decoder.decode(frame)
        if pictures:
            source.latest = pictures[-1]
            source.scaled = None
            self._dirty = True

    def _emit_video(self, index: int) -> None:
        speaker = self.speaker()
        if self._dirty or speaker != self._speaker:
            self._dirty = False
            self._speaker = speaker
            self._paint(speaker)
        self.frames_encoded += 1
        self._send(self.encoder.encode_video(self.canvas.frame(), index))

    def _emit_audio(self, pts: int) -> None:
        self._send(self.encoder.encode_audio(self.mixer.mix(AUDIO_CHUNK), pts))

    def _send(self, packets: list[Packet]) -> None:
        outputs = self._outputs
        for packet in packets:
            for output in outputs:
                output.put(packet)

    # Painting.

    def _paint(self, speaker: str) -> None:
        with self._lock:
            video = {
                (s.participant_id, s.label): s
                for s in self._sources.values()
                if s.kind == "video"
            }
        people = tuple(
            Person(pid, name, (pid, "camera") in video, (pid, "screen") in video)
            for pid, name in self._participants
        )
        canvas = self.canvas
        canvas.clear()
        for tile in self._arranged(people):
            source = video.get((tile.person.participant_id, tile.label))
            rect = tile.rect
            if source is not None and source.latest is not None:
                self._blit(source, rect)
            else:
                canvas.fill(rect, TILE)
            if tile.label != "screen":
                canvas.label(rect, tile.person.name, centred=not tile.label)
                if tile.person.participant_id == speaker:
                    canvas.border(rect, SPEAKER)

    def _arranged(self, people: tuple[Person, ...]) -> list[Tile]:
        if self._tiles is None or self._tiles[0] != people:
            self._tiles = (
                people,
                arrange(self.canvas.width, self.canvas.height, people),
            )
        return self._tiles[1]

    def _blit(self, source: _Source, rect) -> None:
        frame = source.latest
        assert frame is not None
        inner = rect.fit(frame.width, frame.height)
        if inner.width < 2 or inner.height < 2:
            return
        if source.scaled is None or source.scaled_for != inner:
            source.scaled = frame.reformat(
                width=inner.width, height=inner.height, format="yuv420p"
            ).to_ndarray()
            source.scaled_for = inner
        self.canvas.blit(inner, source.scaled)
