import random
import struct
from contextlib import suppress
from fractions import Fraction

import av
import pytest
from aiortc.codecs import H264Encoder, Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from aiortc.rtp import unwrap_rtx as aiortc_unwrap_rtx
from aiortc.rtp import wrap_rtx as aiortc_wrap_rtx

from smeeton.sfu import rtp

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
TRANSPORT_CC = (
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
)


def extension_map(**ids):
    uris = {
        "mid": MID,
        "audio_level": AUDIO_LEVEL,
        "abs_send_time": ABS_SEND_TIME,
        "transport_cc": TRANSPORT_CC,
    }
    mapping = HeaderExtensionsMap()
    mapping.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=ext_id, uri=uris[name])
                for name, ext_id in ids.items()
            ]
        )
    )
    return mapping


def one_byte_block(*elements, filler=b""):
    body = b"".join(bytes([(ext_id << 4) | (len(v) - 1)]) + v for ext_id, v in elements)
    body += filler
    body += bytes(-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


def two_byte_block(*elements, appbits=0, filler=b""):
    body = b"".join(bytes([ext_id, len(v)]) + v for ext_id, v in elements) + filler
    body += bytes(-len(body) % 4)
    return struct.pack("!HH", 0x1000 | appbits, len(body) // 4) + body


def build(
    payload=b"\x01\x02\x03\x04",
    *,
    payload_type=96,
    marker=False,
    sequence=1000,
    timestamp=90000,
    ssrc=0x11223344,
    csrcs=(),
    block=None,
    padding=0,
):
    """Lay out an RTP packet byte by byte, independently of the module."""
    first = 0x80 | len(csrcs)
    if padding:
        first |= 0x20
    if block is not None:
        first |= 0x10
    data = struct.pack(
        "!BBHII",
        first,
        (0x80 if marker else 0) | payload_type,
        sequence,
        timestamp,
        ssrc,
    )
    data += b"".join(struct.pack("!I", csrc) for csrc in csrcs)
    data += block or b""
    data += payload
    if padding:
        data += bytes(padding - 1) + bytes([padding])
    return data


def test_is_rtcp_accepts_packet_types_192_to_223_only():
    assert rtp.is_rtcp(b"\x80\xc8")
    assert rtp.is_rtcp(b"\x81\xcd\x00\x04")
    assert rtp.is_rtcp(b"\x80\xdf")
    assert not rtp.is_rtcp(b"\x80\xe0")
    assert not rtp.is_rtcp(b"\x80\x60")
    assert not rtp.is_rtcp(b"\x80\xbf")
    assert not rtp.is_rtcp(b"\x80")


def test_parse_header_returns_fields_of_packet_serialized_by_aiortc():
    ids = extension_map(mid=1, audio_level=2)
    packet = RtpPacket(
        payload_type=111,
        marker=1,
        sequence_number=65535,
        timestamp=0xFFFFFFFF,
        ssrc=0xCAFEBABE,
        payload=b"opus frame",
    )
    packet.csrc = [1, 2]
    packet.extensions.mid = "0"
    packet.extensions.audio_level = (True, 30)
    packet.padding_size = 3
    data = packet.serialize(ids)

    payload_type, marker, sequence, timestamp, ssrc, offset = rtp.parse_header(data)

    assert (payload_type, marker, sequence, timestamp, ssrc) == (
        111,
        True,
        65535,
        0xFFFFFFFF,
        0xCAFEBABE,
    )
    assert data[offset : rtp.payload_end(data)] == b"opus frame"


def test_parse_header_finds_payload_after_csrcs_and_extension():
    block = one_byte_block((1, b"ab"), (2, b"\x90"))
    data = build(b"PAYLOAD", csrcs=(7, 8, 9), block=block)

    result = rtp.parse_header(data)

    assert result == (96, False, 1000, 90000, 0x11223344, 12 + 12 + len(block))
    assert data[result[5] :] == b"PAYLOAD"


def test_parse_header_accepts_padding_that_fills_whole_payload():
    data = build(b"", padding=8)

    offset = rtp.parse_header(data)[5]

    assert offset == 12
    assert rtp.payload_end(data) == 12


@pytest.mark.parametrize(
    "data, reason",
    [
        (build()[:11], "shorter"),
        (b"\x40" + build()[1:], "version"),
        (build(csrcs=(1, 2))[:19], "truncated"),
        (build(b"", block=one_byte_block((1, b"a")))[:14], "extension"),
        (build(b"", block=b"\xbe\xde\x00\x05\x10a\x00\x00"), "truncated"),
        (build(b"abc", padding=1)[:-1] + b"\x00", "padding"),
    ],
    ids=[
        "short",
        "version-1",
        "csrc-overrun",
        "extension-header-cut",
        "extension-overrun",
        "zero-padding",
    ],
)
def test_parse_header_rejects_malformed_packet(data, reason):
    with pytest.raises(ValueError, match=reason):
        rtp.parse_header(data)


def test_parse_header_rejects_padding_longer_than_payload():
    data = build(b"abc", padding=2)
    data = data[:-1] + bytes([6])

    with pytest.raises(ValueError, match="padding"):
        rtp.parse_header(data)


def test_payload_end_excludes_padding_and_is_length_without_it():
    assert rtp.payload_end(build(b"abc", padding=5)) == 15
    assert rtp.payload_end(build(b"abc")) == 15


def test_extensions_lists_one_byte_elements_skipping_padding_and_stopping_at_15():
    block = (
        b"\xbe\xde\x00\x03"
        + b"\x10a"  # id 1, 1 byte
        + b"\x00\x00"  # padding bytes between elements
        + b"\x21bc"  # id 2, 2 bytes
        + b"\xf3"  # id 15: stop, whatever follows
        + b"\x31xyz"
    )
    data = build(b"P", block=block)

    elements = rtp.extensions(data)

    assert [(i, data[o : o + n]) for i, o, n in elements] == [(1, b"a"), (2, b"bc")]


def test_extensions_lists_two_byte_elements_including_empty_and_high_ids():
    block = two_byte_block((1, b""), (200, b"x" * 20), (15, b"k"), appbits=5)
    data = build(b"P", block=block)

    elements = rtp.extensions(data)

    assert [(i, data[o : o + n]) for i, o, n in elements] == [
        (1, b""),
        (200, b"x" * 20),
        (15, b"k"),
    ]


def test_extensions_returns_nothing_without_x_bit_or_for_other_profiles():
    assert rtp.extensions(build()) == []
    assert rtp.extensions(build(block=b"\x12\x34\x00\x01abcd")) == []


@pytest.mark.parametrize(
    "block",
    [
        b"\xbe\xde\x00\x01\x13ab\x00",
        b"\xbe\xde\x00\x01\x00\x00\x00\x10",
        b"\x10\x00\x00\x01\x00\x00\x00\x01",
        b"\x10\x00\x00\x01\x01\x05ab",
    ],
    ids=["one-byte-value", "one-byte-last-byte", "two-byte-length", "two-byte-value"],
)
def test_extensions_rejects_element_overrunning_its_block(block):
    with pytest.raises(ValueError, match="overruns"):
        rtp.extensions(build(b"P", block=block))


def test_extensions_rejects_block_longer_than_packet():
    with pytest.raises(ValueError, match="truncated"):
        rtp.extensions(build(b"", block=b"\xbe\xde\x00\x09\x10abc"))


def test_rewrite_extensions_keeps_mapped_elements_renumbered_in_one_byte_form():
    block = one_byte_block((4, b"a0"), (2, b"\x01\x02\x03"), (3, b"\x04\xd2"))
    data = build(b"P", block=block)
    offset = rtp.parse_header(data)[5]

    new_block = rtp.rewrite_extensions(data, offset, {4: 1, 3: 5})

    assert new_block == b"\xbe\xde\x00\x02" + b"\x11a0" + b"\x51\x04\xd2" + b"\x00\x00"


def test_rewrite_extensions_switches_to_two_byte_form_for_id_above_14():
    block = one_byte_block((4, b"a0"), (3, b"\x04\xd2"))
    data = build(b"P", block=block)
    offset = rtp.parse_header(data)[5]

    new_block = rtp.rewrite_extensions(data, offset, {4: 1, 3: 20})

    assert new_block == b"\x10\x00\x00\x02" + b"\x01\x02a0" + b"\x14\x02\x04\xd2"


def test_rewrite_extensions_reads_two_byte_source_into_one_byte_form():
    data = build(b"P", block=two_byte_block((7, b"zz"), (9, b"")))
    offset = rtp.parse_header(data)[5]

    assert rtp.rewrite_extensions(data, offset, {7: 2}) == b"\xbe\xde\x00\x01\x21zz\x00"


def test_rewrite_extensions_returns_empty_when_nothing_is_kept():
    data = build(b"P", block=one_byte_block((4, b"a0")))
    offset = rtp.parse_header(data)[5]

    assert rtp.rewrite_extensions(data, offset, {5: 1}) == b""
    assert rtp.rewrite_extensions(build(), 12, {4: 1}) == b""


def test_rewrite_extensions_rejects_new_id_outside_one_to_255():
    data = build(b"P", block=one_byte_block((4, b"a0")))
    offset = rtp.parse_header(data)[5]

    with pytest.raises(ValueError, match="1..255"):
        rtp.rewrite_extensions(data, offset, {4: 256})


def test_rewrite_output_parses_with_aiortc_with_new_fields_and_extensions():
    publisher_ids = extension_map(mid=4, abs_send_time=2, transport_cc=3)
    source = RtpPacket(
        payload_type=96,
        marker=1,
        sequence_number=500,
        timestamp=1234,
        ssrc=0x01020304,
        payload=b"\x90\x80\x12\x34frame bytes",
    )
    source.csrc = [0xAAAA, 0xBBBB]
    source.extensions.mid = "a0"
    source.extensions.abs_send_time = 0x123456
    source.extensions.transport_sequence_number = 4321
    source.padding_size = 4
    data = source.serialize(publisher_ids)
    offset = rtp.parse_header(data)[5]

    block = rtp.rewrite_extensions(data, offset, {4: 1, 3: 5})
    out = rtp.rewrite(data, 100, 7, 0xFFFFFFF0, 0xDEADBEEF, block, offset)

    parsed = RtpPacket.parse(out, extension_map(mid=1, transport_cc=5))
    assert parsed.payload_type == 100
    assert parsed.marker == 1
    assert parsed.sequence_number == 7
    assert parsed.timestamp == 0xFFFFFFF0
    assert parsed.ssrc == 0xDEADBEEF
    assert parsed.csrc == []
    assert parsed.extensions.mid == "a0"
    assert parsed.extensions.transport_sequence_number == 4321
    assert parsed.extensions.abs_send_time is None
    assert parsed.payload == b"\x90\x80\x12\x34frame bytes"
    assert parsed.padding_size == 4


def test_rewrite_clears_x_bit_and_drops_extension_without_block():
    data = build(b"xyz", marker=True, block=one_byte_block((1, b"a")), csrcs=(5,))
    offset = rtp.parse_header(data)[5]

    out = rtp.rewrite(data, 97, 2, 3, 4, b"", offset)

    assert out == build(
        b"xyz", payload_type=97, marker=True, sequence=2, timestamp=3, ssrc=4
    )


def test_rewrite_with_header_extension_passes_block_through_unchanged():
    block = one_byte_block((1, b"a"), (2, b"bcd"))
    data = build(b"xyz", block=block, csrcs=(5, 6), padding=3)
    offset = rtp.parse_header(data)[5]

    assert rtp.header_extension(data, offset) == block
    out = rtp.rewrite(data, 96, 1000, 90000, 0x11223344, block, offset)
    assert out == build(b"xyz", block=block, padding=3)


def test_header_extension_returns_empty_without_x_bit():
    assert rtp.header_extension(build(), 12) == b""


def test_audio_level_reads_voice_flag_and_level_written_by_aiortc():
    packet = RtpPacket(payload_type=111, payload=b"\xfc")
    packet.extensions.mid = "0"
    packet.extensions.audio_level = (True, 42)
    data = packet.serialize(extension_map(mid=1, audio_level=2))

    assert rtp.audio_level(data, 2) == (True, 42)
    assert rtp.audio_level(data, 3) is None


def test_audio_level_reads_silence_without_voice_flag():
    data = build(b"\xfc", block=one_byte_block((1, b"\x7f")))

    assert rtp.audio_level(data, 1) == (False, 127)
    assert rtp.audio_level(build(), 1) is None


def test_wrap_rtx_output_unwraps_with_aiortc_to_original_fields():
    ids = extension_map(mid=1)
    data = build(b"media", marker=True, sequence=4242, block=one_byte_block((1, b"v")))
    offset = rtp.parse_header(data)[5]

    wrapped = rtp.wrap_rtx(data, offset, 97, 0x55667788, 12)

    rtx = RtpPacket.parse(wrapped, ids)
    assert (rtx.payload_type, rtx.ssrc, rtx.sequence_number) == (97, 0x55667788, 12)
    original = aiortc_unwrap_rtx(rtx, payload_type=96, ssrc=0x11223344)
    assert original.sequence_number == 4242
    assert original.payload == b"media"
    assert original.marker == 1
    assert original.timestamp == 90000
    assert original.extensions.mid == "v"


def test_unwrap_rtx_restores_packet_wrapped_by_aiortc():
    ids = extension_map(mid=1)
    packet = RtpPacket(
        payload_type=96, marker=1, sequence_number=65535, timestamp=9, ssrc=0xA1
    )
    packet.payload = b"frame"
    packet.extensions.mid = "v"
    rtx = aiortc_wrap_rtx(packet, payload_type=97, sequence_number=3, ssrc=0xB2)
    data = rtx.serialize(ids)
    offset = rtp.parse_header(data)[5]

    restored = rtp.unwrap_rtx(data, offset, 96, 0xA1)

    assert restored == packet.serialize(ids)


def test_wrap_then_unwrap_rtx_returns_original_bytes_with_csrcs_and_padding():
    data = build(b"media", csrcs=(1, 2), block=one_byte_block((3, b"abcd")), padding=4)
    offset = rtp.parse_header(data)[5]

    wrapped = rtp.wrap_rtx(data, offset, 97, 0x99, 1)
    wrapped_offset = rtp.parse_header(wrapped)[5]

    assert rtp.unwrap_rtx(wrapped, wrapped_offset, 96, 0x11223344) == data


@pytest.mark.parametrize(
    "data",
    [build(b"\x01"), build(b"", padding=4), build(b"\x01", padding=4)],
    ids=["one-byte", "padding-only", "one-byte-and-padding"],
)
def test_unwrap_rtx_rejects_payload_shorter_than_two_bytes(data):
    with pytest.raises(ValueError, match="shorter than 2"):
        rtp.unwrap_rtx(data, 12, 96, 1)


def video_frames(count):
    rng = random.Random(7)
    for index in range(count):
        frame = av.VideoFrame(width=320, height=240, format="yuv420p")
        for plane in frame.planes:
            plane.update(rng.randbytes(plane.buffer_size))
        frame.pts = index * 3000
        frame.time_base = Fraction(1, 90000)
        yield frame


@pytest.mark.parametrize(
    "encoder_class, is_keyframe",
    [(Vp8Encoder, rtp.is_vp8_keyframe), (H264Encoder, rtp.is_h264_keyframe)],
    ids=["vp8", "h264"],
)
def test_keyframe_detection_matches_aiortc_encoder_on_first_packet_of_frame(
    encoder_class, is_keyframe
):
    encoder = encoder_class()
    ids = extension_map(mid=1)
    # The first frame is a key frame, the fourth is forced to be one.
    expected = [True, False, False, True, False]
    found = []
    for index, frame in enumerate(video_frames(len(expected))):
        payloads, timestamp = encoder.encode(frame, force_keyframe=index == 3)
        packets = []
        for number, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=96, sequence_number=number, timestamp=timestamp
            )
            packet.payload = payload
            packet.extensions.mid = "v"
            packet.padding_size = number % 3
            packets.append(packet.serialize(ids))
        flags = [
            is_keyframe(data, rtp.parse_header(data)[5], rtp.payload_end(data))
            for data in packets
        ]
        found.append(flags[0])
        if not expected[index]:
            assert not any(flags)
    assert found == expected


def vp8_payload(descriptor, header_byte):
    return bytes(descriptor) + bytes([header_byte]) + b"\x9d\x01\x2a"


@pytest.mark.parametrize(
    "payload, keyframe",
    [
        (vp8_payload([0x10], 0x10), True),
        (vp8_payload([0x10], 0x11), False),
        (vp8_payload([0x00], 0x10), False),
        (vp8_payload([0x11], 0x10), False),
        (vp8_payload([0x90, 0x80, 0x05], 0x10), True),
        (vp8_payload([0x90, 0x80, 0x85, 0x06], 0x10), True),
        (vp8_payload([0x90, 0xF0, 0x85, 0x06, 0x01, 0xC1], 0x30), True),
        (vp8_payload([0x90, 0xD0, 0x05, 0x01, 0xC1], 0x31), False),
        (vp8_payload([0x90, 0x10, 0x20], 0x10), True),
        (bytes([0x90, 0x80, 0x85]), False),
        (bytes([0x90, 0xF0]), False),
        (bytes([0x10]), False),
        (b"", False),
    ],
    ids=[
        "plain-key",
        "plain-delta",
        "not-partition-start",
        "partition-1",
        "picture-id-7-bit",
        "picture-id-15-bit",
        "all-extensions",
        "all-extensions-delta",
        "keyidx-only",
        "cut-in-picture-id",
        "cut-after-flags",
        "descriptor-only",
        "empty",
    ],
)
def test_is_vp8_keyframe_reads_descriptor_then_inverse_key_frame_bit(payload, keyframe):
    data = build(payload, block=one_byte_block((1, b"v")))
    offset = rtp.parse_header(data)[5]

    assert rtp.is_vp8_keyframe(data, offset, rtp.payload_end(data)) is keyframe


def stap_a(*nal_units):
    return b"\x78" + b"".join(struct.pack("!H", len(n)) + n for n in nal_units)


@pytest.mark.parametrize(
    "payload, keyframe",
    [
        (b"\x65\x88\x84", True),
        (b"\x67\x42\xc0\x1f", True),
        (b"\x68\xce\x3c", False),
        (b"\x41\x9a\x00", False),
        (stap_a(b"\x67\x42", b"\x68\xce"), True),
        (stap_a(b"\x06\x05", b"\x68\xce", b"\x65\x88"), True),
        (stap_a(b"\x06\x05", b"\x41\x9a"), False),
        (stap_a(b"\x06\x05", b"\x65\x88")[:-3], False),
        (b"\x78\x00\x00\x65", False),
        (b"\x7c\x85\x88", True),
        (b"\x7c\x87\x42", True),
        (b"\x7c\x05\x88", False),
        (b"\x5c\x81\x9a", False),
        (b"\x7c", False),
        (b"", False),
    ],
    ids=[
        "idr",
        "sps",
        "pps",
        "non-idr-slice",
        "stap-a-sps-first",
        "stap-a-idr-last",
        "stap-a-no-key",
        "stap-a-cut",
        "stap-a-zero-size",
        "fu-a-idr-start",
        "fu-a-sps-start",
        "fu-a-idr-middle",
        "fu-a-slice-start",
        "fu-a-cut",
        "empty",
    ],
)
def test_is_h264_keyframe_finds_idr_or_sps_in_single_stap_a_and_fu_a(payload, keyframe):
    data = build(payload, padding=2)
    offset = rtp.parse_header(data)[5]

    assert rtp.is_h264_keyframe(data, offset, rtp.payload_end(data)) is keyframe


@pytest.mark.parametrize(
    "payload, keyframe",
    [
        (b"\x08\x00", True),
        (b"\x0a\x00", True),
        (b"\x48\x00", False),
        (b"\x00\x00", False),
        (b"\x88\x05\x00", True),
        (b"\x88\x85\x06\x00", True),
        (b"\xa8\x85\x06\x00\x00", True),
        (b"\xa8\x85\x06\x02\x00", False),
        (b"\xa8\x85", False),
        (b"\x88", False),
        (b"", False),
    ],
    ids=[
        "begin-not-predicted",
        "begin-with-scalability-structure",
        "predicted",
        "not-begin",
        "picture-id-7-bit",
        "picture-id-15-bit",
        "spatial-layer-0",
        "spatial-layer-1",
        "cut-in-picture-id",
        "cut-after-descriptor",
        "empty",
    ],
)
def test_is_vp9_keyframe_needs_begin_no_prediction_and_spatial_layer_0(
    payload, keyframe
):
    data = build(payload)

    assert rtp.is_vp9_keyframe(data, 12, rtp.payload_end(data)) is keyframe


def test_keyframe_functions_return_false_for_offsets_outside_packet():
    data = build(b"\x65")
    for is_keyframe in (rtp.is_vp8_keyframe, rtp.is_h264_keyframe, rtp.is_vp9_keyframe):
        assert not is_keyframe(data, len(data), len(data))
        assert not is_keyframe(data, -1, len(data))
        assert not is_keyframe(data, 12, 12)
    assert rtp.is_h264_keyframe(data, 12, len(data) + 100)


def test_seq_newer_follows_wraparound():
    assert rtp.seq_newer(1, 0)
    assert rtp.seq_newer(0, 65535)
    assert rtp.seq_newer(10, 65530)
    assert not rtp.seq_newer(65535, 0)
    assert not rtp.seq_newer(5, 5)
    assert rtp.seq_newer(0x7FFF, 0)
    assert not rtp.seq_newer(0x8000, 0)


def test_seq_diff_is_signed_distance_across_wraparound():
    assert rtp.seq_diff(1, 65534) == 3
    assert rtp.seq_diff(65534, 1) == -3
    assert rtp.seq_diff(7, 7) == 0
    assert rtp.seq_diff(0x7FFF, 0) == 0x7FFF
    assert rtp.seq_diff(0x8000, 0) == -0x8000


def fuzz_seeds():
    return [
        build(),
        build(b"", padding=4),
        build(b"\x90\xe0\x80\x01\x10", marker=True, csrcs=(1, 2, 3)),
        build(b"\x78\x00\x02\x67\x42\x00\x01\x65", block=one_byte_block((1, b"\xff"))),
        build(b"\x7c\x85\x00", block=two_byte_block((1, b""), (2, b"abc")), padding=3),
        build(b"\xa8\x85\x06\x00", block=one_byte_block((2, b"ab"), filler=b"\xf0")),
        build(b"\x00\x01xyz", block=one_byte_block((1, b"a"), (14, b"b" * 16))),
    ]


def mutate(rng, seeds, index):
    data = bytearray(rng.choice(seeds))
    kind = index % 4
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 48))
    if kind == 1:
        return bytes(data[: rng.randrange(len(data) + 1)])
    if kind == 2:
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    # Keep version 2 so more inputs get past the first check.
    data[0] = 0x80 | rng.randrange(0x40)
    data[rng.randrange(1, len(data))] = rng.randrange(256)
    return bytes(data[: rng.randrange(12, len(data) + 1)])


def test_parsers_on_3000_mangled_packets_raise_only_value_error():
    rng = random.Random(20240601)
    seeds = fuzz_seeds()
    accepted = 0
    for index in range(3000):
        data = mutate(rng, seeds, index)
        try:
            header = rtp.parse_header(data)
        except ValueError:
            header = None
        with suppress(ValueError):
            rtp.extensions(data)
        if header is None:
            offset = rng.randrange(-2, len(data) + 3)
            end = rng.randrange(-2, len(data) + 6)
        else:
            accepted += 1
            offset = header[5]
            end = rtp.payload_end(data)
            assert 12 <= offset <= end <= len(data)
            with suppress(ValueError):
                rtp.rewrite_extensions(data, offset, {1: 2, 2: 15, 14: 1})
            with suppress(ValueError):
                rtp.audio_level(data, 1)
            # Cut at the payload, so every overrun reaches the end of the buffer.
            with suppress(ValueError):
                rtp.extensions(data[:offset])
            block = rtp.header_extension(data, offset)
            rtp.rewrite(data, 96, 1, 2, 3, block, offset)
        with suppress(ValueError):
            rtp.unwrap_rtx(data, offset, 96, 1)
        for is_keyframe in (
            rtp.is_vp8_keyframe,
            rtp.is_h264_keyframe,
            rtp.is_vp9_keyframe,
        ):
            assert is_keyframe(data, offset, end) in (True, False)
            payload = data[max(offset, 0) : max(end, 0)]
            assert is_keyframe(payload, 0, len(payload)) in (True, False)
    # The corpus must reach past validation, or the fuzzing proves little.
    assert accepted > 500
