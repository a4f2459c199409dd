from __future__ import annotations

import struct

from smeeton.sfu.track import OutputCodec, Source, Track

VP8 = OutputCodec("VP8", 96, 90000, rtx_payload_type=97)


def packet(ssrc: int, payload_type: int, seq: int, payload: bytes, pad: int = 0):
    first = 0x80 | (0x20 if pad else 0)
    header = struct.pack("!BBHII", first, payload_type, seq, 1000, ssrc)
    padding = bytes(pad - 1) + bytes([pad]) if pad else b""
    return header + payload + padding


def video_track() -> tuple[Track, list[str], list[bytes]]:
    track = Track("t1", "video", VP8)
    drops: list[str] = []
    sent: list[bytes] = []
    track.on_drop = drops.append
    track.attach(Source(1111, 100, 2222, 101), lambda: None, lambda s, q: None)
    track.add_output("sub", sent.append)
    return track, drops, sent


def test_padding_only_rtx_probe_is_ignored_without_a_drop():
    track, drops, sent = video_track()
    track.receive_rtx(packet(2222, 101, 7, b"", pad=200), 0.0)
    assert drops == [] and sent == []


def test_rtx_without_original_sequence_number_is_dropped_as_malformed():
    track, drops, sent = video_track()
    track.receive_rtx(packet(2222, 101, 7, b"\x01"), 0.0)
    assert drops == ["rtx_malformed"] and sent == []


def test_paused_track_forwards_nothing_until_resumed():
    track, drops, sent = video_track()
    track.receive(packet(1111, 100, 1, b"\x10\x00"), 0.0)
    track.pause()
    track.receive(packet(1111, 100, 2, b"\x10\x00"), 0.0)
    track.resume()
    track.receive(packet(1111, 100, 3, b"\x10\x00"), 0.0)
    assert len(sent) == 2
    assert [struct.unpack_from("!H", p, 2)[0] for p in sent] == [
        struct.unpack_from("!H", sent[0], 2)[0],
        (struct.unpack_from("!H", sent[0], 2)[0] + 2) & 0xFFFF,
    ]
