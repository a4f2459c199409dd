"""The media halves of the load peers: a replaying publisher and a counter.

The publisher sends a recording's payloads on their real schedule, as RTP
with fresh sequence numbers and timestamps and the header extensions its
offer announced; it ignores all feedback (PLI, NACK, REMB), which is fine
for a load that starts on a key frame. The subscriber counts what it can
unprotect, per SSRC, and judges loss by sequence gaps.

For latency, a publisher can stamp each packet: a 12-byte trailer after the
payload holding a marker and its send time. Servers forward payloads
unchanged (they rewrite SSRC, sequence, timestamp and header extensions,
never the payload), and both sides live in one process on one clock, so the
subscriber reads the time it took without any table of sent packets.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import struct
import time
from dataclasses import dataclass, field

from bench.load.connection import MediaConnection
from bench.load.recording import Recording
from smeeton.sfu.rtp import is_vp8_keyframe, parse_header

_HEADER = struct.Struct("!BBHII")
_SEQUENCE = struct.Struct("!H")
_SSRC = struct.Struct("!I")
# RFC 3550 §5.1 version 2 with the X bit: every packet has extensions.
_FIRST_BYTE = 0x90
# Browsers pace a frame's packets instead of sending a key frame's thirty at
# once; eight every 5 ms (about 16 Mbit/s) keeps bursts from several
# publishers' key frames within a server's default socket buffer.
_PACE_BURST = 8
_PACE_INTERVAL = 0.005
# The send-time trailer: a marker no VP8 or Opus tail is likely to end in,
# then a double of time.monotonic(). Nothing in the path decodes media, so
# the extra bytes after a frame's data disturb nobody.
STAMP_MARKER = b"SMts"
_STAMP = struct.Struct("!4sd")
# RFC 4585 §6.3.1 PLI and RFC 5104 §4.3.1 FIR, both payload-specific feedback.
_PSFB = 206
_KEYFRAME_FMTS = (1, 4)


def extension_block(elements: list[tuple[int, bytes]]) -> bytes:
    """An RFC 8285 one-byte header extension block, padded to 32 bits."""
    body = b"".join(bytes([(ext_id << 4) | (len(v) - 1)]) + v for ext_id, v in elements)
    body += b"\0" * (-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


@dataclass(frozen=True)
class Stream:
    """One RTP stream a publisher sends: its recording and how to label it."""

    recording: Recording
    ssrc: int
    payload_type: int
    extensions: bytes


@dataclass
class SendStats:
    packets: int = 0
    bytes: int = 0
    # How far behind schedule the sender fell, a sign of a saturated load.
    max_lateness: float = 0.0


class ReplayingPublisher:
    """Replays recordings in a loop over one connection, no encoder involved."""

    def __init__(
        self, connection: MediaConnection, streams: list[Stream], stamp: bool = False
    ) -> None:
        self.connection = connection
        self.streams = streams
        self.stamp = stamp
        self.stats = SendStats()
        self.keyframes_requested = 0
        self._tasks: list[asyncio.Task[None]] = []
        # Streams (by SSRC) that should start over at their key frame.
        self._restart: set[int] = set()

    def rtcp_received(self, packet: bytes) -> None:
        """Honour PLI and FIR by replaying the video from its key frame.

        A server asks for a key frame when a subscriber starts; a recording
        with one key frame would otherwise keep that subscriber waiting for
        up to a whole loop.
        """
        offset = 0
        while offset + 12 <= len(packet):
            first, kind, words = struct.unpack_from("!BBH", packet, offset)
            if kind == _PSFB and first & 0x1F in _KEYFRAME_FMTS:
                # The media SSRC (PLI) or the FCI's SSRC (FIR) names the stream.
                media = _SSRC.unpack_from(packet, offset + 8)[0]
                if first & 0x1F == 4 and offset + 16 <= len(packet):
                    media = _SSRC.unpack_from(packet, offset + 12)[0]
                self._restart.add(media)
                self.keyframes_requested += 1
            offset += 4 * (words + 1)

    def start(self) -> None:
        """Start sending every stream; call once the connection is up."""
        for stream in self.streams:
            self._tasks.append(asyncio.create_task(self._replay(stream)))

    def close(self) -> None:
        """Stop sending; the connection belongs to the caller."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def _replay(self, stream: Stream) -> None:
        recording = stream.recording
        loop = asyncio.get_running_loop()
        send = self.connection.send_rtp
        stats = self.stats
        pack = _HEADER.pack
        ssrc = stream.ssrc
        pt = stream.payload_type
        packets = [
            [
                (pt | 0x80 if last else pt, stream.extensions + payload)
                for last, payload in _with_last(frame.payloads)
            ]
            for frame in recording.frames
        ]
        seq = secrets.randbelow(0x10000)
        rate = recording.clock_rate
        stamp = _STAMP.pack if self.stamp else None
        clock = time.monotonic
        restart = self._restart
        restart.discard(ssrc)

        # Publishers start out of phase, as independent cameras would.
        cycle_start = loop.time() + random.uniform(0, 0.033)
        cycle_ts = secrets.randbits(32)
        while True:
            for frame, frame_packets in zip(recording.frames, packets, strict=True):
                if ssrc in restart:
                    break
                delay = cycle_start + frame.at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif -delay > stats.max_lateness:
                    stats.max_lateness = -delay
                ts = (cycle_ts + frame.timestamp) & 0xFFFFFFFF
                for index, (second, body) in enumerate(frame_packets):
                    if index and not index % _PACE_BURST:
                        await asyncio.sleep(_PACE_INTERVAL)
                    packet = pack(_FIRST_BYTE, second, seq, ts, ssrc) + body
                    if stamp is not None:
                        packet += stamp(STAMP_MARKER, clock())
                    send(packet)
                    seq = (seq + 1) & 0xFFFF
                    stats.packets += 1
                    stats.bytes += len(packet)
            # The next loop starts where this one ended, or right now when
            # a key frame was asked for; the timestamps follow the clock.
            if ssrc in restart:
                restart.discard(ssrc)
                now = loop.time()
                cycle_ts += round((now - cycle_start) * rate)
                cycle_start = now
            else:
                cycle_ts += round(recording.duration * rate)
                cycle_start += recording.duration


def _with_last(payloads: tuple[bytes, ...]) -> list[tuple[bool, bytes]]:
    # RFC 7741 §4.1: the marker bit is set on the last packet of a frame.
    return [(i == len(payloads) - 1, p) for i, p in enumerate(payloads)]


class StreamCount:
    """What one SSRC delivered: packets, bytes, and the sequence span."""

    __slots__ = ("packets", "bytes", "first", "highest")

    def __init__(self, seq: int) -> None:
        self.packets = 0
        self.bytes = 0
        self.first = seq
        self.highest = seq

    @property
    def expected(self) -> int:
        return self.highest - self.first + 1

    @property
    def lost(self) -> int:
        return max(self.expected - self.packets, 0)


@dataclass(frozen=True)
class Totals:
    """Sums over every stream a subscriber (or many) received."""

    packets: int = 0
    bytes: int = 0
    expected: int = 0
    streams: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.packets + other.packets,
            self.bytes + other.bytes,
            self.expected + other.expected,
            self.streams + other.streams,
        )

    def __sub__(self, other: Totals) -> Totals:
        return Totals(
            self.packets - other.packets,
            self.bytes - other.bytes,
            self.expected - other.expected,
            self.streams - other.streams,
        )

    @property
    def lost(self) -> int:
        return max(self.expected - self.packets, 0)


class CountingSubscriber:
    """Counts every RTP packet the connection could unprotect, by SSRC."""

    def __init__(self) -> None:
        self.streams: dict[int, StreamCount] = {}
        self.rtcp_packets = 0

    def rtp_received(self, packet: bytes) -> None:
        ssrc = _SSRC.unpack_from(packet, 8)[0]
        seq = _SEQUENCE.unpack_from(packet, 2)[0]
        count = self.streams.get(ssrc)
        if count is None:
            count = self.streams[ssrc] = StreamCount(seq)
        count.packets += 1
        count.bytes += len(packet)

        # Extend the 16-bit sequence number (RFC 3550 §A.1); late ones count
        # as received without moving the span.
        delta = (seq - count.highest) & 0xFFFF
        if delta < 0x8000:
            count.highest += delta

    def rtcp_received(self, packet: bytes) -> None:
        self.rtcp_packets += 1

    def totals(self) -> Totals:
        return Totals(
            sum(c.packets for c in self.streams.values()),
            sum(c.bytes for c in self.streams.values()),
            sum(c.expected for c in self.streams.values()),
            len(self.streams),
        )


class LatencyHistogram:
    """Stamped packets' transit times in 0.1 ms bins, shared by subscribers.

    Bins keep the cost per packet at one list increment and the memory
    fixed, whatever the packet rate; a quantile is then exact to a bin.
    """

    BIN = 0.0001
    SIZE = 20000  # two seconds; anything later lands in the last bin

    def __init__(self) -> None:
        self.bins = [0] * self.SIZE
        self.count = 0
        self.enabled = False

    def add(self, seconds: float) -> None:
        index = int(seconds / self.BIN)
        self.bins[index if 0 <= index < self.SIZE else self.SIZE - 1] += 1
        self.count += 1

    def reset(self) -> None:
        self.bins = [0] * self.SIZE
        self.count = 0

    def quantile(self, q: float) -> float | None:
        """The q-quantile in seconds (bin midpoint), None without samples."""
        if not self.count:
            return None
        wanted = q * self.count
        seen = 0
        for index, count in enumerate(self.bins):
            seen += count
            if seen >= wanted and count:
                return (index + 0.5) * self.BIN
        return (self.SIZE - 0.5) * self.BIN


@dataclass
class FirstMedia:
    """When a subscriber first got video, and a key frame, on time.monotonic()."""

    # Payload types that carry VP8, from the offers; a packet of any other
    # type is not video for this purpose.
    video_payload_types: set[int] = field(default_factory=set)
    video: float | None = None
    keyframe: float | None = None


class TimingSubscriber(CountingSubscriber):
    """A counting subscriber that also times stamped packets and first media."""

    def __init__(self, latency: LatencyHistogram) -> None:
        super().__init__()
        self.latency = latency
        self.first = FirstMedia()

    def rtp_received(self, packet: bytes) -> None:
        CountingSubscriber.rtp_received(self, packet)
        latency = self.latency
        if latency.enabled and packet[-12:-8] == STAMP_MARKER:
            sent = _STAMP.unpack_from(packet, len(packet) - 12)[1]
            latency.add(time.monotonic() - sent)
        if self.first.keyframe is None:
            self._first_video(packet)

    def _first_video(self, packet: bytes) -> None:
        first = self.first
        if packet[1] & 0x7F not in first.video_payload_types:
            return
        now = time.monotonic()
        if first.video is None:
            first.video = now
        try:
            payload_offset = parse_header(packet)[5]
        except ValueError:
            return
        if is_vp8_keyframe(packet, payload_offset, len(packet)):
            first.keyframe = now
