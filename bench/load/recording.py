"""Pre-encoded media: RTP payloads recorded once, replayed by load publishers.

A recording is a list of frames, each with its send time, its RTP timestamp
and the RTP payloads it was packetized into. It is made with aiortc's
encoders (VP8 from a moving test pattern, Opus from a tone) and cached on
disk, so no encoder runs while a benchmark measures.
"""

from __future__ import annotations

import fractions
import math
import struct
from dataclasses import dataclass
from pathlib import Path

_MAGIC = b"SMREC1\n"
_HEADER = struct.Struct("!4sIIdI")  # codec, clock rate, frame count, duration
_FRAME = struct.Struct("!dIH")  # send time, timestamp, payload count
_LENGTH = struct.Struct("!H")


@dataclass(frozen=True)
class Frame:
    """One encoded frame: when to send it and what to send."""

    at: float
    timestamp: int
    payloads: tuple[bytes, ...]


@dataclass(frozen=True)
class Recording:
    """Frames of one codec, meant to be replayed in a loop of `duration` s."""

    codec: str
    clock_rate: int
    frames: tuple[Frame, ...]
    duration: float

    @property
    def packet_rate(self) -> float:
        """RTP packets per second when replayed."""
        return sum(len(f.payloads) for f in self.frames) / self.duration

    @property
    def bitrate(self) -> float:
        """Payload bits per second when replayed."""
        size = sum(len(p) for f in self.frames for p in f.payloads)
        return size * 8 / self.duration

    def save(self, path: Path) -> None:
        parts = [
            _MAGIC,
            _HEADER.pack(
                self.codec.encode().ljust(4),
                self.clock_rate,
                len(self.frames),
                self.duration,
                0,
            ),
        ]
        for frame in self.frames:
            parts.append(_FRAME.pack(frame.at, frame.timestamp, len(frame.payloads)))
            for payload in frame.payloads:
                parts.append(_LENGTH.pack(len(payload)))
                parts.append(payload)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a killed run leaves no half file.
        partial = path.with_suffix(".partial")
        partial.write_bytes(b"".join(parts))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> Recording:
        data = memoryview(path.read_bytes())
        if bytes(data[: len(_MAGIC)]) != _MAGIC:
            raise ValueError(f"{path} is not a recording")
        offset = len(_MAGIC)
        codec, clock_rate, count, duration, _ = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size
        frames = []
        for _ in range(count):
            at, timestamp, payload_count = _FRAME.unpack_from(data, offset)
            offset += _FRAME.size
            payloads = []
            for _ in range(payload_count):
                (length,) = _LENGTH.unpack_from(data, offset)
                offset += _LENGTH.size
                payloads.append(bytes(data[offset : offset + length]))
                offset += length
            frames.append(Frame(at, timestamp, tuple(payloads)))
        return cls(codec.decode().strip(), clock_rate, tuple(frames), duration)


def record_video(
    seconds: float,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    bitrate: int = 1_000_000,
) -> Recording:
    """VP8 of moving colour bars; the first frame is a key frame."""
    import av
    import numpy
    from aiortc.codecs.vpx import Vp8Encoder

    encoder = Vp8Encoder()
    encoder.target_bitrate = bitrate
    time_base = fractions.Fraction(1, 90000)
    frames = []
    count = round(seconds * fps)
    for index in range(count):
        image = numpy.zeros((height, width, 3), numpy.uint8)
        shift = (index * 8) % width
        for bar in range(8):
            x = (bar * width // 8 + shift) % width
            image[:, x : x + width // 16] = (bar * 32, 255 - bar * 32, 128)
        # Noise keeps the encoder near its target rate, as a camera would.
        image[::7, ::5] = numpy.random.randint(0, 255, image[::7, ::5].shape)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = index * 90000 // fps
        frame.time_base = time_base
        payloads, _ = encoder.encode(frame, force_keyframe=index == 0)
        frames.append(Frame(index / fps, frame.pts, tuple(payloads)))
    return Recording("VP8", 90000, tuple(frames), count / fps)


def record_audio(seconds: float, bitrate: int = 32_000) -> Recording:
    """Opus in 20 ms frames of a 440 Hz tone, at a browser's usual rate."""
    import av
    import numpy
    from aiortc.codecs.opus import OpusEncoder

    encoder = OpusEncoder()
    encoder.codec.bit_rate = bitrate
    rate, samples = 48000, 960
    frames = []
    count = round(seconds * 50)
    first: int | None = None
    for index in range(count):
        t = (numpy.arange(samples) + index * samples) / rate
        wave = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
        stereo = numpy.repeat(wave, 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = rate
        frame.pts = index * samples
        frame.time_base = fractions.Fraction(1, rate)
        payloads, timestamp = encoder.encode(frame)
        if not payloads:
            continue
        if first is None:
            first = index
        at = (index - first) * samples / rate
        frames.append(Frame(at, timestamp, tuple(payloads)))
    return Recording("opus", 48000, tuple(frames), len(frames) * samples / rate)


def cached(
    cache_dir: Path, seconds: float = 10.0, bitrate: int = 1_000_000
) -> tuple[Recording, Recording]:
    """(audio, video) recordings, encoded on first use and kept in `cache_dir`."""
    audio_path = cache_dir / f"opus-{seconds:g}s.rec"
    video_path = cache_dir / f"vp8-640x360-30fps-{bitrate // 1000}k-{seconds:g}s.rec"
    if not audio_path.exists():
        record_audio(seconds).save(audio_path)
    if not video_path.exists():
        record_video(seconds, bitrate=bitrate).save(video_path)
    return Recording.load(audio_path), Recording.load(video_path)
