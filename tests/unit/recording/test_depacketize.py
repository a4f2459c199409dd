"""Depacketizers put RTP packets back into frames, in order, and wait for a
key frame after a loss."""

from __future__ import annotations

import struct

from smeeton.recording.depacketize import (
    H264Depacketizer,
    OpusDepacketizer,
    Vp8Depacketizer,
    for_codec,
)

_RTP = struct.Struct("!BBHII")


def packet(seq: int, ts: int, payload: bytes, marker: bool = False) -> bytes:
    return _RTP.pack(0x80, (0x80 if marker else 0) | 96, seq, ts, 1) + payload


def vp8_frame(seq: int, ts: int, body: bytes, parts: int = 3) -> list[bytes]:
    """A VP8 frame split over packets; descriptor with a 15-bit picture id."""
    size = -(-len(body) // parts)
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    packets = []
    for index, chunk in enumerate(chunks):
        start = 0x10 if index == 0 else 0
        descriptor = bytes((0x80 | start, 0x80, 0x80 | 0x01, 0x23))
        last = index == len(chunks) - 1
        packets.append(packet(seq + index, ts, descriptor + chunk, last))
    return packets


KEY = b"\x10" + bytes(range(60))  # frame tag bit 0 clear: a key frame
DELTA = b"\x11" + bytes(range(60))


def test_vp8_frames_come_back_whole_even_reordered():
    asked = []
    depacketizer = Vp8Depacketizer(lambda: asked.append(1))
    first = vp8_frame(10, 3000, KEY)
    second = vp8_frame(13, 6000, DELTA)
    frames = []
    for p in [first[0], first[2], first[1], *second]:
        frames += depacketizer.push(p)
    assert [(f.data, f.keyframe, f.timestamp) for f in frames] == [
        (KEY, True, 3000),
        (DELTA, False, 6000),
    ]
    assert asked == []


def test_vp8_loss_drops_frames_until_a_key_frame_and_asks_for_one():
    asked = []
    depacketizer = Vp8Depacketizer(lambda: asked.append(1))
    seq, frames = 0, []
    # Enough frames after the loss for the reorder window to give up on it.
    for index, body in enumerate([KEY, DELTA, *[DELTA] * 10, KEY]):
        packets = vp8_frame(seq, 3000 * index, body)
        seq += len(packets)
        if index == 1:
            packets = packets[1:]  # the start of frame 1 never arrives
        for p in packets:
            frames += depacketizer.push(p)
    # Frames after the loss are not decodable until the next key frame.
    assert [f.keyframe for f in frames] == [True, True]
    assert asked == [1]


def test_video_before_the_first_key_frame_is_dropped():
    depacketizer = Vp8Depacketizer()
    assert depacketizer.push(vp8_frame(0, 0, DELTA, 1)[0]) == []
    assert len(depacketizer.push(vp8_frame(1, 3000, KEY, 1)[0])) == 1


def test_h264_stap_a_and_fu_a_become_annex_b():
    sps, pps = b"\x67\x42\x00\x1f", b"\x68\xce\x3c\x80"
    idr = b"\x65" + bytes(range(100))
    stap = b"\x18" + struct.pack("!H", 4) + sps + struct.pack("!H", 4) + pps
    fu = [
        bytes((0x7C, 0x80 | 5)) + idr[1:40],
        bytes((0x7C, 5)) + idr[40:80],
        bytes((0x7C, 0x40 | 5)) + idr[80:],
    ]
    depacketizer = H264Depacketizer()
    frames = depacketizer.push(packet(1, 90, stap))
    for index, part in enumerate(fu):
        frames += depacketizer.push(packet(2 + index, 90, part, index == 2))
    (frame,) = frames
    start = b"\x00\x00\x00\x01"
    assert frame.data == start + sps + start + pps + start + idr
    assert frame.keyframe


def test_opus_is_one_frame_per_packet_and_bad_packets_are_ignored():
    depacketizer = OpusDepacketizer()
    assert depacketizer.push(b"\x00junk") == []
    frames = depacketizer.push(packet(5, 960, b"\xfc\x01\x02"))
    assert [f.data for f in frames] == [b"\xfc\x01\x02"]


def test_unknown_codec_is_refused():
    try:
        for_codec("VP9")
    except ValueError as exc:
        assert "VP9" in str(exc)
    else:
        raise AssertionError("VP9 was accepted")
