"""RTP packets of one track back into whole frames a decoder can take.

VP8 (RFC 7741) and H.264 (RFC 6184, packetization mode 1, written out as
Annex B) are put together from their packets; Opus carries one frame per
packet. Packets are put back in order over a short window; a packet that
never comes breaks the frame it belonged to, and video then waits for the
next key frame, which the depacketizer asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smeeton.sfu import rtp

# How many later packets may arrive before a missing one counts as lost.
# The server's NACKs recover most losses within a few tens of milliseconds.
REORDER_WINDOW = {"audio": 3, "video": 24}

_START_CODE = b"\x00\x00\x00\x01"
# RFC 6184 §5.2 and §5.8.
_STAP_A = 24
_FU_A = 28


# A packet waiting for its turn: payload, RTP timestamp, marker bit.
_Item = tuple[bytes, int, bool]


@dataclass(frozen=True)
class Frame:
    """One encoded frame: its bytes, RTP timestamp and whether it is a key."""

    data: bytes
    timestamp: int
    keyframe: bool


class Reorderer:
    """Puts packets back in sequence order; tells when one was given up."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.expected = -1
        self._pending: dict[int, _Item] = {}

    def push(self, seq: int, item: _Item) -> tuple[list[_Item], bool]:
        """Items now in order, and whether any before them was lost."""
        if self.expected < 0:
            self.expected = seq
        if seq != self.expected and not rtp.seq_newer(seq, self.expected):
            return [], False  # late or duplicate: its frame has gone already
        self._pending[seq] = item
        ready: list[_Item] = []
        lost = False
        while True:
            found = self._pending.pop(self.expected, None)
            if found is not None:
                ready.append(found)
                self.expected = (self.expected + 1) & 0xFFFF
                continue
            if len(self._pending) <= self.window:
                break
            # Give up on the gap: skip to the oldest packet still held.
            lost = True
            self.expected = min(
                self._pending, key=lambda s: rtp.seq_diff(s, self.expected)
            )
        return ready, lost


class Depacketizer:
    """Base: in-order packets in, frames out; subclasses join payloads."""

    kind = "video"

    def __init__(self, keyframe_wanted: Callable[[], None] = lambda: None) -> None:
        self.keyframe_wanted = keyframe_wanted
        self.reorderer = Reorderer(REORDER_WINDOW[self.kind])
        self.frames_broken = 0
        # Video starts broken: nothing decodes before the first key frame.
        self._waiting_for_key = self.kind == "video"
        self._parts: list[bytes] = []
        self._timestamp = -1
        self._broken = False

    def push(self, packet: bytes) -> list[Frame]:
        """One RTP packet as the track sends it; the frames it completes."""
        try:
            _, marker, seq, ts, _, offset = rtp.parse_header(packet)
            end = rtp.payload_end(packet)
        except ValueError:
            return []
        ready, lost = self.reorderer.push(seq, (bytes(packet[offset:end]), ts, marker))
        if lost:
            self._break()
        frames: list[Frame] = []
        for payload, timestamp, last in ready:
            frames.extend(self._add(payload, timestamp, last))
        return frames

    def _add(self, payload: bytes, ts: int, marker: bool) -> list[Frame]:
        frames: list[Frame] = []
        if ts != self._timestamp:
            if self._parts:
                # The last frame never saw its marker: a packet went missing.
                self._break()
            self._parts, self._broken = [], False
            self._timestamp = ts
        try:
            self.take(payload)
        except ValueError:
            self._break()
        if marker or self.kind == "audio":
            frame = self._finish()
            if frame is not None:
                frames.append(frame)
        return frames

    def _finish(self) -> Frame | None:
        parts, self._parts = self._parts, []
        broken, self._broken = self._broken, False
        if broken or not parts:
            return None
        data = b"".join(parts)
        key = self.is_keyframe(data)
        if self._waiting_for_key:
            if not key:
                return None
            self._waiting_for_key = False
        return Frame(data, self._timestamp, key)

    def _break(self) -> None:
        self._broken = True
        self.frames_broken += 1
        if self.kind == "video" and not self._waiting_for_key:
            self._waiting_for_key = True
            self.keyframe_wanted()

    def take(self, payload: bytes) -> None:
        """Add one payload to the frame in progress; ValueError if bad."""
        self._parts.append(payload)

    def is_keyframe(self, data: bytes) -> bool:
        return True


class OpusDepacketizer(Depacketizer):
    """RFC 7587: one Opus packet per RTP packet."""

    kind = "audio"


class Vp8Depacketizer(Depacketizer):
    """RFC 7741: strip the payload descriptor, join the partitions."""

    def take(self, payload: bytes) -> None:
        if not payload:
            raise ValueError("empty VP8 payload")
        first = payload[0]
        offset = 1
        # §4.2: X bit, then I (picture id), L (TL0PICIDX), T/K (TID, KEYIDX).
        if first & 0x80:
            if len(payload) < 2:
                raise ValueError("VP8 descriptor is truncated")
            extended = payload[1]
            offset = 2
            if extended & 0x80:
                if offset >= len(payload):
                    raise ValueError("VP8 picture id is truncated")
                offset += 2 if payload[offset] & 0x80 else 1
            if extended & 0x40:
                offset += 1
            if extended & 0x30:
                offset += 1
        if offset >= len(payload):
            raise ValueError("VP8 descriptor without a payload")
        start = bool(first & 0x10) and first & 0x07 == 0
        if start != (not self._parts):
            # A frame must begin at the start of partition 0, and only there.
            raise ValueError("VP8 partition out of place")
        self._parts.append(payload[offset:])

    def is_keyframe(self, data: bytes) -> bool:
        # RFC 6386 §9.1: bit 0 of the frame tag is 0 for a key frame.
        return not data[0] & 0x01


class H264Depacketizer(Depacketizer):
    """RFC 6184: single NAL units, STAP-A and FU-A, written out as Annex B."""

    def __init__(self, keyframe_wanted: Callable[[], None] = lambda: None) -> None:
        super().__init__(keyframe_wanted)
        self._fragment: bytearray | None = None

    def take(self, payload: bytes) -> None:
        if not payload:
            raise ValueError("empty H.264 payload")
        nal_type = payload[0] & 0x1F
        if nal_type == _STAP_A:
            self._stap_a(payload)
        elif nal_type == _FU_A:
            self._fu_a(payload)
        elif 1 <= nal_type <= 23:
            self._parts += (_START_CODE, payload)
        else:
            raise ValueError(f"H.264 NAL type {nal_type} is not supported")

    def _stap_a(self, payload: bytes) -> None:
        offset = 1
        while offset + 2 <= len(payload):
            size = (payload[offset] << 8) | payload[offset + 1]
            offset += 2
            if size == 0 or offset + size > len(payload):
                raise ValueError("STAP-A unit overruns the packet")
            self._parts += (_START_CODE, payload[offset : offset + size])
            offset += size

    def _fu_a(self, payload: bytes) -> None:
        if len(payload) < 3:
            raise ValueError("FU-A is truncated")
        header = payload[1]
        if header & 0x80:
            nal_header = (payload[0] & 0xE0) | (header & 0x1F)
            self._fragment = bytearray((nal_header,))
        elif self._fragment is None:
            raise ValueError("FU-A continues a unit that never started")
        self._fragment += payload[2:]
        if header & 0x40:
            self._parts += (_START_CODE, bytes(self._fragment))
            self._fragment = None

    def _finish(self) -> Frame | None:
        if self._fragment is not None:
            self._fragment = None
            self._broken = True
        return super()._finish()

    def is_keyframe(self, data: bytes) -> bool:
        # An IDR slice or a sequence parameter set starts a decodable picture.
        index = data.find(_START_CODE)
        while index >= 0:
            if index + 4 < len(data) and data[index + 4] & 0x1F in (5, 7):
                return True
            index = data.find(_START_CODE, index + 4)
        return False


def for_codec(
    name: str, keyframe_wanted: Callable[[], None] = lambda: None
) -> Depacketizer:
    """The depacketizer for a track's codec name; ValueError if unknown."""
    kinds = {
        "opus": OpusDepacketizer,
        "vp8": Vp8Depacketizer,
        "h264": H264Depacketizer,
    }
    cls = kinds.get(name.lower())
    if cls is None:
        raise ValueError(f"codec {name} cannot be recorded")
    return cls(keyframe_wanted)
