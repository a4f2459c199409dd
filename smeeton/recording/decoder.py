"""Decoders for the composer: one PyAV codec context per recorded track.

Video comes out as `av.VideoFrame`s as the publisher sent them; audio is
resampled to the mixer's format, 48 kHz stereo float samples.
"""

from __future__ import annotations

import logging

import av
import numpy

from smeeton.recording.depacketize import Frame

logger = logging.getLogger(__name__)

SAMPLE_RATE = 48000
CHANNELS = 2

_DECODERS = {"vp8": "vp8", "h264": "h264", "opus": "libopus"}


class Decoder:
    """Decodes one track's frames; a frame that fails to decode is dropped."""

    def __init__(self, codec_name: str) -> None:
        name = _DECODERS.get(codec_name.lower())
        if name is None:
            raise ValueError(f"codec {codec_name} cannot be decoded")
        if name not in av.codecs_available:
            name = codec_name.lower()
        self.context = av.CodecContext.create(name, "r")
        self.errors = 0

    def _decode(self, frame: Frame) -> list:
        try:
            return self.context.decode(av.Packet(frame.data))
        except (av.FFmpegError, ValueError) as exc:
            self.errors += 1
            if self.errors == 1:
                logger.warning("A frame did not decode (%s); dropping it.", exc)
            return []


class VideoDecoder(Decoder):
    """Encoded video frames in, pictures out."""

    def decode(self, frame: Frame) -> list[av.VideoFrame]:
        return self._decode(frame)


class AudioDecoder(Decoder):
    """Opus frames in, (samples, 2) float32 arrays at 48 kHz out."""

    def __init__(self, codec_name: str) -> None:
        super().__init__(codec_name)
        self.resampler = av.AudioResampler(
            format="flt", layout="stereo", rate=SAMPLE_RATE
        )

    def decode(self, frame: Frame) -> list[numpy.ndarray]:
        chunks = []
        for decoded in self._decode(frame):
            for resampled in self.resampler.resample(decoded):
                # Packed float: one row of interleaved left/right samples.
                chunks.append(resampled.to_ndarray().reshape(-1, CHANNELS))
        return chunks
