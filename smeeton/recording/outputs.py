"""One encoder and the outputs it feeds: the recording file and live streams.

The composed picture and mix are encoded once (H.264 and AAC); every output
muxes the same packets. Each output has its own thread and queue, so a
stream that stalls or reconnects never holds up the encoder, the recording
or the other streams. An output starts at a key frame and counts its time
from there.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import queue
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy

from smeeton.recording.decoder import SAMPLE_RATE

logger = logging.getLogger(__name__)

# Fragmented MP4: every key frame starts a fragment, so the file plays
# while it is written and is complete the moment the recording stops.
MP4_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
CONNECT_TIMEOUT = 5.0
# Reconnection: the first wait, the longest, and how often a stream that
# never went live is tried before it counts as failed.
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 15.0
ATTEMPTS_BEFORE_LIVE = 3
# About four seconds of packets; a stream further behind reconnects.
STREAM_QUEUE = 320
_GLOBAL_HEADER = 1 << 22  # AV_CODEC_FLAG_GLOBAL_HEADER
_STOP = object()


class TooSlow(Exception):
    """The receiving server fell seconds behind; the stream reconnects."""


class OutputStatus(enum.Enum):
    STARTING = "starting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True)
class EncoderSettings:
    width: int = 1280
    height: int = 720
    fps: int = 30
    video_bitrate: int = 2_500_000
    audio_bitrate: int = 128_000
    preset: str = "veryfast"
    keyframe_seconds: float = 2.0


@dataclass(frozen=True)
class Packet:
    """An encoded packet, immutable, shared by every output."""

    kind: str  # "video" or "audio"
    data: bytes
    pts: int
    dts: int
    duration: int
    time_base: Fraction
    keyframe: bool

    @classmethod
    def of(cls, kind: str, packet: av.Packet) -> Packet:
        pts = packet.pts or 0
        return cls(
            kind,
            bytes(packet),
            pts,
            packet.dts if packet.dts is not None else pts,
            packet.duration or 0,
            packet.time_base,
            packet.is_keyframe,
        )


class Encoder:
    """libx264 and AAC, opened once; their streams are the outputs' templates."""

    def __init__(self, settings: EncoderSettings) -> None:
        self.settings = settings
        # A container that writes nothing holds the encoder streams, so that
        # each output can copy their parameters (SPS/PPS, AAC config).
        self._container = av.open("", "w", format="null")
        video = self._container.add_stream(
            "libx264",
            rate=settings.fps,
            options={
                "preset": settings.preset,
                "tune": "zerolatency",
                "g": str(round(settings.fps * settings.keyframe_seconds)),
                "bf": "0",
            },
        )
        video.width, video.height = settings.width, settings.height
        video.pix_fmt = "yuv420p"
        video.bit_rate = settings.video_bitrate
        video.codec_context.flags |= _GLOBAL_HEADER
        audio = self._container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio.bit_rate = settings.audio_bitrate
        audio.codec_context.flags |= _GLOBAL_HEADER
        self._container.start_encoding()
        self.video, self.audio = video, audio
        self._keyframe_wanted = threading.Event()

    def want_keyframe(self) -> None:
        """The next picture is encoded as a key frame (a new output waits)."""
        self._keyframe_wanted.set()

    def encode_video(self, frame: av.VideoFrame, index: int) -> list[Packet]:
        frame.pts = index
        frame.time_base = Fraction(1, self.settings.fps)
        if self._keyframe_wanted.is_set():
            self._keyframe_wanted.clear()
            frame.pict_type = av.video.frame.PictureType.I
        return [Packet.of("video", p) for p in self.video.encode(frame)]

    def encode_audio(self, samples: numpy.ndarray, pts: int) -> list[Packet]:
        """Planar float samples shaped (2, n), `pts` counted in samples."""
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        frame.time_base = Fraction(1, SAMPLE_RATE)
        return [Packet.of("audio", p) for p in self.audio.encode(frame)]

    def flush(self) -> list[Packet]:
        packets = [Packet.of("video", p) for p in self.video.encode(None)]
        packets += [Packet.of("audio", p) for p in self.audio.encode(None)]
        return packets

    def close(self) -> None:
        self._container.close()


class Output:
    """Base of outputs: a thread muxing packets from a queue into a container."""

    kind = "output"

    def __init__(
        self,
        encoder: Encoder,
        on_change: Callable[[Output], None],
        queue_size: int = 0,
    ) -> None:
        self.encoder = encoder
        self.on_change = on_change
        self.status = OutputStatus.STARTING
        self.error = ""
        self.packets_dropped = 0
        self._queue: queue.Queue[object] = queue.Queue(queue_size)
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run_logged, name=f"smeeton-{self.kind}", daemon=True
        )
        # Time of the key frame this output started at, in seconds.
        self._base: Fraction | None = None
        self.first_time = 0.0
        self.last_time = 0.0

    @property
    def active(self) -> bool:
        return self.status not in (OutputStatus.STOPPED, OutputStatus.FAILED)

    def start(self) -> None:
        self._thread.start()

    def put(self, packet: Packet) -> None:
        """Hand a packet over; never blocks the encoder."""
        if not self.active:
            return
        try:
            self._queue.put_nowait(packet)
        except queue.Full:
            self.packets_dropped += 1
            self.overflowed()

    def overflowed(self) -> None:
        pass

    def stop(self) -> None:
        """Finish what is queued and close; safe to call twice."""
        self._stopping.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_STOP)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    # In the output's thread.

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception as exc:
            logger.exception("The %s failed.", self.kind)
            self._set(OutputStatus.FAILED, str(exc) or type(exc).__name__)

    def run(self) -> None:
        raise NotImplementedError

    def _set(self, status: OutputStatus, error: str = "") -> None:
        if status is self.status and error == self.error:
            return
        self.status, self.error = status, error
        self.on_change(self)

    def _open(self, target: str, format: str, options: dict[str, str] | None):
        container = av.open(target, "w", format=format, options=options or {})
        streams = {
            "video": container.add_stream_from_template(self.encoder.video),
            "audio": container.add_stream_from_template(self.encoder.audio),
        }
        return container, streams

    def _mux(self, container, streams, packet: Packet) -> bool:
        """Mux one packet counted from this output's first key frame; False
        while still waiting for that key frame."""
        if self._base is None:
            if packet.kind != "video" or not packet.keyframe:
                return False
            self._base = packet.pts * packet.time_base
            self.first_time = float(self._base)
        shift = round(self._base / packet.time_base)
        pts = packet.pts - shift
        if pts < 0:
            return True  # audio from just before the key frame
        out = av.Packet(packet.data)
        out.pts, out.dts = pts, max(packet.dts - shift, 0)
        out.duration = packet.duration
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = streams[packet.kind]
        container.mux(out)
        end = (packet.pts + packet.duration) * packet.time_base
        self.last_time = max(self.last_time, float(end))
        return True

    @property
    def duration(self) -> float:
        """Seconds muxed so far."""
        if self._base is None:
            return 0.0
        return max(self.last_time - self.first_time, 0.0)


class FileOutput(Output):
    """The recording: one fragmented MP4 written as the meeting goes."""

    kind = "recording"

    def __init__(
        self, encoder: Encoder, path: Path, on_change: Callable[[Output], None]
    ) -> None:
        super().__init__(encoder, on_change)
        self.path = path

    def run(self) -> None:
        container, streams = self._open(str(self.path), "mp4", MP4_OPTIONS)
        self.encoder.want_keyframe()
        try:
            while True:
                packet = self._queue.get()
                if packet is _STOP:
                    break
                assert isinstance(packet, Packet)
                muxed = self._mux(container, streams, packet)
                if muxed and self.status is OutputStatus.STARTING:
                    self._set(OutputStatus.LIVE)
        finally:
            container.close()
        self._set(OutputStatus.STOPPED)


class StreamOutput(Output):
    """A live stream to an RTMP or RTMPS server, reconnecting with backoff."""

    kind = "stream"

    def __init__(
        self, encoder: Encoder, url: str, on_change: Callable[[Output], None]
    ) -> None:
        super().__init__(encoder, on_change, STREAM_QUEUE)
        self.url = url
        self.reconnects = 0
        self._overflow = threading.Event()

    def overflowed(self) -> None:
        self._overflow.set()

    def run(self) -> None:
        backoff, attempts, was_live = BACKOFF_FIRST, 0, False
        while not self._stopping.is_set():
            attempts += 1
            try:
                self._connect_and_send()
            except Exception as exc:
                self.error = describe(exc)
                logger.warning("A live stream failed: %s", self.error)
            if self.status is OutputStatus.LIVE:
                was_live, backoff, attempts = True, BACKOFF_FIRST, 0
            if self._stopping.is_set():
                break
            if not was_live and attempts >= ATTEMPTS_BEFORE_LIVE:
                self._set(OutputStatus.FAILED, self.error)
                return
            self._set(OutputStatus.RECONNECTING, self.error)
            self.reconnects += 1
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
        self._set(OutputStatus.STOPPED)

    def _connect_and_send(self) -> None:
        _reachable(self.url)
        container, streams = self._open(self.url, "flv", None)
        # Packets queued while disconnected are stale; start afresh.
        self._drain()
        self._overflow.clear()
        self._base = None
        self.encoder.want_keyframe()
        try:
            while not self._overflow.is_set():
                packet = self._queue.get()
                if packet is _STOP:
                    return
                assert isinstance(packet, Packet)
                muxed = self._mux(container, streams, packet)
                if muxed and self.status is not OutputStatus.LIVE:
                    self._set(OutputStatus.LIVE)
            raise TooSlow("The streaming server is not taking the stream in time.")
        finally:
            # The connection may be gone already; closing it then fails.
            with contextlib.suppress(Exception):
                container.close()

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                self._stopping.set()
                self._queue.put_nowait(_STOP)
                return


def _reachable(url: str) -> None:
    """Fail fast, with a reason a person understands, when nothing listens.

    PyAV opens the connection without a timeout of its own; a host that
    drops packets would otherwise hold the stream at "starting" for minutes.
    LIMITATION: nor do its writes time out, so a server that accepts and
    then stops reading holds the stream until its queue overflows.
    """
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "rtmps" else 1935)
    with socket.create_connection((parts.hostname, port), CONNECT_TIMEOUT):
        pass


def describe(exc: BaseException) -> str:
    """An error of a stream as the moderator reads it."""
    if isinstance(exc, TooSlow):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return "The streaming server's name could not be found."
    if isinstance(exc, ConnectionRefusedError):
        return "The streaming server refused the connection."
    if isinstance(exc, TimeoutError):
        return "The streaming server did not answer."
    if isinstance(exc, BrokenPipeError | ConnectionResetError):
        return "The streaming server closed the connection."
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"The streaming server could not be used: {text}."
