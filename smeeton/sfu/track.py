"""A published track: packets in from one publisher, out to every subscriber.

Each packet is rewritten once, whatever the number of subscribers: our own
SSRC, a sequence number and timestamp continued across publisher restarts,
the subscribers' payload type and header extension ids. The rewritten packet
is cached for NACKs and then protected and sent once per subscriber.
"""

from __future__ import annotations

import logging
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from smeeton.sfu import rtp
from smeeton.sfu.cache import PacketCache

logger = logging.getLogger(__name__)

_SEQ_TS = struct.Struct("!HI")
_SSRC = struct.Struct("!I")

# Sequence gaps longer than this are a restart, not loss worth a NACK.
_MAX_NACK_GAP = 200
# RFC 4585 gives no number; a few tries within about a second is usual.
_NACK_TRIES = 3
_NACK_INTERVAL = 0.05
_NACK_GIVE_UP = 1.0


@dataclass(frozen=True)
class OutputCodec:
    """What subscribers are offered for a track: one codec and maybe its RTX."""

    name: str
    payload_type: int
    clock_rate: int
    channels: int | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    feedback: tuple[str, ...] = ()
    rtx_payload_type: int | None = None


@dataclass
class TrackStats:
    """Counters a track keeps for metrics and tests."""

    packets_received: int = 0
    bytes_received: int = 0
    packets_forwarded: int = 0
    packets_lost_upstream: int = 0
    nacks_sent: int = 0
    retransmissions_received: int = 0
    duplicates: int = 0
    nacks_received: int = 0
    retransmissions_sent: int = 0
    keyframes_requested: int = 0
    keyframes_received: int = 0


class Source:
    """How one publisher's stream maps onto a track; replaced on restart."""

    __slots__ = (
        "ssrc",
        "payload_type",
        "rtx_ssrc",
        "rtx_payload_type",
        "extension_map",
        "audio_level_id",
    )

    def __init__(
        self,
        ssrc: int | None,
        payload_type: int,
        rtx_ssrc: int | None = None,
        rtx_payload_type: int | None = None,
        extension_map: dict[int, int] | None = None,
        audio_level_id: int | None = None,
    ) -> None:
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.rtx_ssrc = rtx_ssrc
        self.rtx_payload_type = rtx_payload_type
        self.extension_map = extension_map or {}
        self.audio_level_id = audio_level_id


class Track:
    """One published track and the subscribers that receive it."""

    def __init__(
        self,
        track_id: str,
        kind: str,
        codec: OutputCodec,
        label: str = "",
        stream_id: str = "",
    ) -> None:
        self.id = track_id
        self.kind = kind
        self.codec = codec
        self.label = label
        self.ssrc = _random_ssrc()
        self.rtx_ssrc = _random_ssrc() if codec.rtx_payload_type is not None else None
        # One stream id and CNAME per publisher: receivers keep its audio
        # and video in sync (RFC 8830 §2, RFC 3550 §6.5.1).
        self.stream_id = stream_id or track_id
        self.cname = self.stream_id
        self.stats = TrackStats()
        self.audio_level: int = 127
        # The loudest level since the speaker detector last looked.
        self.loudest: int = 127
        self.closed = False
        self.paused = False
        # A key frame was asked for and has not come yet: the packets are
        # looked at until one starts (RFC 7741 §4.3, RFC 6184 §5.8).
        self.keyframe_pending = False
        self._is_keyframe = _KEYFRAME_TESTS.get(codec.name.lower())
        self.cache = PacketCache()
        self.source: Source | None = None
        self.request_keyframe: Callable[[], None] = _nothing
        self.send_nack: Callable[[int, list[int]], None] = _nothing_nack
        self.on_drop: Callable[[str], None] = _ignore_drop
        self._outputs: tuple[Callable[[bytes], None], ...] = ()
        self._subscriptions: dict[object, Callable[[bytes], None]] = {}
        self._first_header = (0x80, codec.payload_type)
        # Rewriting state, continued across sources.
        self._seq_offset = 0
        self._ts_offset = 0
        self._expected_seq = -1
        self._last_out_seq = secrets.randbelow(0x8000)
        self._last_out_ts = secrets.randbelow(0x80000000)
        self._last_arrival = 0.0
        self._missing: dict[int, list[float]] = {}
        # The publisher's last SR: NTP time, our RTP time, arrival.
        self.sr_mapping: tuple[int, int, float] | None = None

    # Publisher side.

    def attach(
        self,
        source: Source,
        request_keyframe: Callable[[], None],
        send_nack: Callable[[int, list[int]], None],
    ) -> None:
        """Take packets from a (new) publisher stream, continuing the numbering."""
        self.source = source
        self.request_keyframe = request_keyframe
        self.send_nack = send_nack
        self._expected_seq = -1
        self._missing.clear()

    def detach(self) -> None:
        """The publisher stream is gone; subscribers keep their track."""
        self.source = None
        self.request_keyframe = _nothing
        self.send_nack = _nothing_nack
        self._missing.clear()

    def receive(self, packet: bytes, now: float) -> None:
        """Rewrite one RTP packet from the publisher and send it to everyone."""
        source = self.source
        if source is None:
            return
        try:
            payload_type, _, seq, ts, _, payload_offset = rtp.parse_header(packet)
        except ValueError:
            self._drop("rtp_malformed")
            return
        if payload_type != source.payload_type:
            self._drop("rtp_unexpected_payload_type")
            return
        # parse_header checks only the extension block's length; its
        # elements are read here, before the packet counts as received.
        try:
            extensions = rtp.rewrite_extensions(
                packet, payload_offset, source.extension_map
            )
            level = None
            if source.audio_level_id is not None:
                level = rtp.audio_level(packet, source.audio_level_id)
        except ValueError:
            self._drop("rtp_extension_malformed")
            return
        stats = self.stats
        stats.packets_received += 1
        stats.bytes_received += len(packet)

        # Loss, reordering and restarts, judged by the incoming sequence.
        expected = self._expected_seq
        if seq == expected:
            self._expected_seq = (seq + 1) & 0xFFFF
        elif expected < 0:
            self._continue_numbering(seq, ts, now)
            self._expected_seq = (seq + 1) & 0xFFFF
        elif rtp.seq_newer(seq, expected):
            self._note_gap(seq, expected, now)
            self._expected_seq = (seq + 1) & 0xFFFF
        elif not self._recovered(seq):
            self._drop("rtp_duplicate")
            return

        # The key frame asked for has come: the next request sends a PLI.
        test = self._is_keyframe
        if self.keyframe_pending and test and test(packet, payload_offset, len(packet)):
            self.keyframe_pending = False
            stats.keyframes_received += 1

        # The audio level feeds the active speaker.
        if level is not None:
            self.audio_level = level[1]
            if level[1] < self.loudest:
                self.loudest = level[1]

        # Rewrite once, cache for NACKs, send to every subscriber.
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (ts + self._ts_offset) & 0xFFFFFFFF
        out = rtp.rewrite(
            packet,
            self.codec.payload_type,
            out_seq,
            out_ts,
            self.ssrc,
            extensions,
            payload_offset,
        )
        if rtp.seq_newer(out_seq, self._last_out_seq):
            self._last_out_seq = out_seq
            self._last_out_ts = out_ts
            self._last_arrival = now
        self.cache.put(out_seq, out)
        for send in self._outputs:
            send(out)
        stats.packets_forwarded += len(self._outputs)

    def receive_rtx(self, packet: bytes, now: float) -> None:
        """A retransmission the publisher sent on its RTX stream (RFC 4588)."""
        source = self.source
        if source is None or source.ssrc is None:
            return
        try:
            payload_offset = rtp.parse_header(packet)[5]
            padded = packet[0] & rtp.PADDING_BIT
            if padded and rtp.payload_end(packet) <= payload_offset:
                # Padding alone: a sender probing the bandwidth, not a loss
                # being repaired; it has done its work by arriving.
                return
            original = rtp.unwrap_rtx(
                packet, payload_offset, source.payload_type, source.ssrc
            )
        except ValueError:
            self._drop("rtx_malformed")
            return
        self.receive(original, now)

    def sender_report(self, ntp: int, rtp_timestamp: int, now: float) -> None:
        """Keep the publisher's latest SR time pair, mapped onto our timestamps."""
        self.sr_mapping = (ntp, (rtp_timestamp + self._ts_offset) & 0xFFFFFFFF, now)

    @property
    def highest_sequence(self) -> int:
        """The highest incoming sequence number seen, for receiver reports."""
        return (self._expected_seq - 1) & 0xFFFF

    def resend_missing(self, now: float) -> None:
        """Ask the publisher again for packets still missing; give up on old ones."""
        source = self.source
        if not self._missing or source is None or source.ssrc is None:
            return
        again = []
        for seq, (first, last, tries) in list(self._missing.items()):
            if now - first > _NACK_GIVE_UP or tries >= _NACK_TRIES:
                del self._missing[seq]
            elif now - last >= _NACK_INTERVAL:
                self._missing[seq] = [first, now, tries + 1]
                again.append(seq)
        if again:
            self.stats.nacks_sent += 1
            self.send_nack(source.ssrc, again)

    # Subscriber side.

    def add_output(self, key: object, send: Callable[[bytes], None]) -> None:
        """Start sending to a subscriber; it wants a key frame to begin with."""
        self._subscriptions[key] = send
        self._refresh_outputs()
        if self.kind == "video":
            self.keyframe_wanted()

    def remove_output(self, key: object) -> None:
        if self._subscriptions.pop(key, None) is not None:
            self._refresh_outputs()

    def pause(self) -> None:
        """Forward nothing (a moderator's mute) until `resume`."""
        self.paused = True
        self._refresh_outputs()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._refresh_outputs()
            if self.kind == "video":
                self.keyframe_wanted()

    def take_loudest(self) -> int:
        """The loudest audio level since the last call, 127 for silence."""
        loudest, self.loudest = self.loudest, 127
        return loudest

    def _refresh_outputs(self) -> None:
        # A paused track costs nothing per packet: there is nobody to send to.
        if self.paused or self.closed:
            self._outputs = ()
        else:
            self._outputs = tuple(self._subscriptions.values())

    @property
    def subscriber_count(self) -> int:
        return len(self._outputs)

    @property
    def detects_keyframes(self) -> bool:
        return self._is_keyframe is not None

    def keyframe_wanted(self) -> None:
        """A subscriber asked for a key frame (PLI or FIR) or just started."""
        self.stats.keyframes_requested += 1
        self.request_keyframe()

    def close(self) -> None:
        """Stop forwarding; safe to call twice."""
        self.closed = True
        self.detach()
        self._subscriptions.clear()
        self._outputs = ()
        self.cache.clear()

    # Steps of `receive`.

    def _continue_numbering(self, seq: int, ts: int, now: float) -> None:
        # RFC 3550 §5.1: numbers continue from where the last source left
        # off, and time advances by the wall-clock gap.
        elapsed = max(now - self._last_arrival, 0.0) if self._last_arrival else 0.0
        step = max(int(elapsed * self.codec.clock_rate), 1)
        self._seq_offset = (self._last_out_seq + 1 - seq) & 0xFFFF
        self._ts_offset = (self._last_out_ts + step - ts) & 0xFFFFFFFF

    def _note_gap(self, seq: int, expected: int, now: float) -> None:
        gap = (seq - expected) & 0xFFFF
        self.stats.packets_lost_upstream += gap
        if gap > _MAX_NACK_GAP:
            self._missing.clear()
            return
        lost = [(expected + i) & 0xFFFF for i in range(gap)]
        for missing in lost:
            self._missing[missing] = [now, now, 1]
        source = self.source
        if source is not None and source.ssrc is not None:
            self.stats.nacks_sent += 1
            self.send_nack(source.ssrc, lost)

    def _recovered(self, seq: int) -> bool:
        """A late packet: a retransmission we asked for, or else a duplicate."""
        if self._missing.pop(seq, None) is None:
            self.stats.duplicates += 1
            return False
        self.stats.retransmissions_received += 1
        self.stats.packets_lost_upstream -= 1
        return True

    def _drop(self, reason: str) -> None:
        self.on_drop(reason)


_KEYFRAME_TESTS = {"vp8": rtp.is_vp8_keyframe, "h264": rtp.is_h264_keyframe}


def _random_ssrc() -> int:
    return secrets.randbits(32) or 1


def _nothing() -> None:
    pass


def _ignore_drop(reason: str) -> None:
    pass


def _nothing_nack(ssrc: int, sequences: list[int]) -> None:
    pass
