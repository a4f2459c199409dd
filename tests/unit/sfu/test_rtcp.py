import random
import struct
import time
from contextlib import suppress

import pytest
from aiortc.rtp import (
    RtcpByePacket,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from smeeton.sfu import rtcp

BLOCK = rtcp.ReportBlock(
    ssrc=0x0A0B0C0D,
    fraction_lost=25,
    packets_lost=-3,
    highest_sequence=0x0001FFFF,
    jitter=120,
    last_sr=0x12345678,
    delay_since_last_sr=65536,
)

PACKETS = {
    "sender-report": rtcp.SenderReport(
        ssrc=1,
        ntp_timestamp=0xE1234567_89ABCDEF,
        rtp_timestamp=0xFFFFFFFF,
        packet_count=10,
        octet_count=12000,
        reports=[BLOCK, rtcp.ReportBlock(2, 0, 8_388_607, 5, 0, 0, 0)],
    ),
    "sender-report-without-blocks": rtcp.SenderReport(7, 1 << 63, 0, 0, 0),
    "receiver-report": rtcp.ReceiverReport(ssrc=3, reports=[BLOCK]),
    "receiver-report-without-blocks": rtcp.ReceiverReport(ssrc=3),
    "sdes": rtcp.Sdes(
        [
            (0x11, [(rtcp.SDES_CNAME, b"abcd")]),
            (0x22, [(rtcp.SDES_CNAME, b"abcde"), (6, b"smeeton")]),
            (0x33, []),
            (0x44, [(rtcp.SDES_CNAME, b"")]),
        ]
    ),
    "bye": rtcp.Bye([0x11, 0x22]),
    "bye-with-reason": rtcp.Bye([0x11], b"left the meeting"),
    "nack": rtcp.Nack(5, 6, [100, 101, 116, 117, 500]),
    "pli": rtcp.Pli(5, 6),
    "fir": rtcp.Fir(5, [(6, 1), (7, 255)]),
    "remb": rtcp.Remb(5, 250_000, [6, 7]),
    "remb-without-ssrcs": rtcp.Remb(5, 0, []),
    "transport-feedback": rtcp.TransportFeedback(5, 6, b"\x00\x01\x00\x02\x20\x02\x01"),
    "app": rtcp.Unknown(rtcp.APP, 3, b"\x00\x00\x00\x05NAMEdata"),
    "sli": rtcp.Unknown(
        rtcp.PSFB, 2, b"\x00\x00\x00\x05\x00\x00\x00\x06\x00\x01\x02\x03"
    ),
    "extended-report": rtcp.Unknown(rtcp.XR, 0, b"\x00\x00\x00\x05\x04\x00\x00"),
}


@pytest.mark.parametrize("packet", PACKETS.values(), ids=PACKETS.keys())
def test_parse_compound_of_pack_returns_the_packet(packet):
    data = rtcp.pack(packet)

    assert len(data) % 4 == 0
    assert rtcp.parse_compound(data) == [packet]


def test_parse_compound_of_pack_compound_returns_packets_in_order():
    packets = list(PACKETS.values())

    data = rtcp.pack_compound(packets)

    assert rtcp.parse_compound(data) == packets


def test_pack_sender_report_lays_out_rfc_3550_fields():
    data = rtcp.pack(PACKETS["sender-report-without-blocks"])

    assert data == (
        b"\x80\xc8\x00\x06" + b"\x00\x00\x00\x07" + b"\x80" + bytes(7) + bytes(12)
    )


def test_pack_report_block_clamps_packets_lost_to_signed_24_bits():
    report = rtcp.ReceiverReport(1, [rtcp.ReportBlock(2, 0, -(10**9), 0, 0, 0, 0)])
    report.reports.append(rtcp.ReportBlock(3, 0, 10**9, 0, 0, 0, 0))

    parsed = rtcp.parse_compound(rtcp.pack(report))[0]

    assert [block.packets_lost for block in parsed.reports] == [
        -(1 << 23),
        (1 << 23) - 1,
    ]


def test_pack_sdes_ends_every_chunk_with_null_and_pads_to_32_bits():
    data = rtcp.pack(rtcp.Sdes([(1, [(1, b"ab")]), (2, [(1, b"abcdef")])]))

    assert data == (
        b"\x82\xca\x00\x07"
        + b"\x00\x00\x00\x01\x01\x02ab"
        + b"\x00\x00\x00\x00"
        + b"\x00\x00\x00\x02\x01\x06abcdef"
        + b"\x00\x00\x00\x00"
    )


def test_pack_nack_groups_sequences_across_wraparound():
    nack = rtcp.Nack(1, 2, [65534, 65535, 0, 1, 40])

    data = rtcp.pack(nack)

    # PID 65534 with BLP bits for 65535, 0 and 1; then PID 40 alone.
    assert data[12:] == b"\xff\xfe\x00\x07" + b"\x00\x28\x00\x00"
    assert rtcp.parse_compound(data) == [nack]


def test_pack_nack_splits_more_than_17_sequences_into_several_pairs():
    lost = list(range(65530, 65536)) + list(range(0, 30))
    nack = rtcp.Nack(1, 2, lost)

    data = rtcp.pack(nack)

    assert data[12:] == (
        b"\xff\xfa\xff\xff" + b"\x00\x0b\xff\xff" + b"\x00\x1c\x00\x01"
    )
    assert rtcp.parse_compound(data)[0].lost == lost


def test_pack_nack_starts_new_pair_for_sequence_before_pid():
    nack = rtcp.Nack(1, 2, [10, 5, 6])

    data = rtcp.pack(nack)

    assert data[12:] == b"\x00\x0a\x00\x00" + b"\x00\x05\x00\x01"
    assert rtcp.parse_compound(data) == [nack]


@pytest.mark.parametrize(
    "bitrate, exponent, mantissa",
    [
        (0, 0, 0),
        (262_143, 0, 262_143),
        (262_144, 1, 131_072),
        (3_000_000_000, 14, 3_000_000_000 >> 14),
        (rtcp.REMB_MAX_BITRATE, 63, 262_143),
        (rtcp.REMB_MAX_BITRATE * 4, 63, 262_143),
    ],
    ids=["zero", "largest-exact", "first-shifted", "3-gbps", "largest", "clamped"],
)
def test_pack_remb_picks_smallest_exponent_that_fits(bitrate, exponent, mantissa):
    data = rtcp.pack(rtcp.Remb(1, bitrate, [2]))

    assert data[12:16] == b"REMB"
    assert data[17] >> 2 == exponent
    assert ((data[17] & 3) << 16) | (data[18] << 8) | data[19] == mantissa
    parsed = rtcp.parse_compound(data)[0]
    assert parsed.bitrate == mantissa << exponent
    assert parsed.bitrate <= bitrate


def test_pack_remb_rounds_down_by_less_than_one_part_in_2_to_the_17():
    for bitrate in (300_001, 2_500_000, 3_000_000_000, 123_456_789_012):
        parsed = rtcp.parse_compound(rtcp.pack(rtcp.Remb(1, bitrate, [])))[0]
        assert 0 <= bitrate - parsed.bitrate < bitrate / (1 << 17)


@pytest.mark.parametrize(
    "packet",
    [
        rtcp.ReceiverReport(1, [BLOCK] * 32),
        rtcp.Bye(list(range(32))),
        rtcp.Bye([1], b"x" * 256),
        rtcp.Sdes([(1, [(1, b"x" * 256)])]),
        rtcp.Sdes([(1, [(0, b"x")])]),
        rtcp.Nack(1, 2, []),
        rtcp.Fir(1, []),
        rtcp.Remb(1, -1, []),
        rtcp.Remb(1, 1, list(range(256))),
        rtcp.Unknown(rtcp.APP, 32, b""),
    ],
    ids=[
        "32-report-blocks",
        "32-bye-sources",
        "long-bye-reason",
        "long-sdes-item",
        "sdes-item-type-0",
        "nack-without-lost",
        "fir-without-entries",
        "negative-remb",
        "256-remb-ssrcs",
        "fmt-over-31",
    ],
)
def test_pack_rejects_what_the_wire_format_cannot_carry(packet):
    with pytest.raises(ValueError):
        rtcp.pack(packet)


def test_pack_pads_unaligned_body_with_p_bit_and_count_byte():
    data = rtcp.pack(rtcp.TransportFeedback(1, 2, b"\x00\x01\x00\x02\x20"))

    assert data[0] == 0xAF
    assert data[2:4] == b"\x00\x04"
    assert data[-3:] == b"\x00\x00\x03"


def test_parse_compound_strips_padding_of_last_packet():
    pli = b"\x81\xce\x00\x02" + struct.pack("!II", 1, 2)
    padded = b"\xa1\xce\x00\x03" + struct.pack("!II", 1, 2) + b"\x00\x00\x00\x04"

    assert rtcp.parse_compound(pli + padded) == [rtcp.Pli(1, 2), rtcp.Pli(1, 2)]


def test_parse_compound_returns_unknown_for_afb_other_than_remb():
    body = struct.pack("!II", 1, 0) + b"ABCD\x00\x00\x00\x00"
    data = b"\x8f\xce\x00\x04" + body

    assert rtcp.parse_compound(data) == [rtcp.Unknown(rtcp.PSFB, 15, body)]


def test_parse_compound_ignores_fci_after_pli_and_sr_profile_extension():
    pli = b"\x81\xce\x00\x03" + struct.pack("!III", 1, 2, 3)
    sr = rtcp.pack(PACKETS["sender-report-without-blocks"])
    sr = sr[:2] + b"\x00\x07" + sr[4:] + b"ext!"

    assert rtcp.parse_compound(pli + sr) == [
        rtcp.Pli(1, 2),
        PACKETS["sender-report-without-blocks"],
    ]


VALID_RR = rtcp.pack(rtcp.ReceiverReport(1, [BLOCK]))


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (VALID_RR + b"\x80\xc9\x00", "header is truncated"),
        (b"\x40" + VALID_RR[1:], "version"),
        (VALID_RR[:-4], "overruns"),
        (b"\xa0\xc9\x00\x01\x00\x00\x00\x00", "padding"),
        (b"\xa0\xc9\x00\x01\x00\x00\x00\x05", "padding"),
        (b"\xa0\xc9\x00\x00", "padding"),
        (b"\x81\xc9\x00\x01\x00\x00\x00\x01", "RR is shorter"),
        (b"\x81\xc8\x00\x06" + bytes(24), "SR is shorter"),
        (b"\x81\xca\x00\x01\x00\x00\x00\x01", "no end item"),
        (b"\x81\xca\x00\x02\x00\x00\x00\x01\x01\x05ab", "SDES item"),
        (b"\xa1\xca\x00\x02\x00\x00\x00\x01\x01\x00\x00\x03", "SDES item"),
        (b"\x82\xca\x00\x02\x00\x00\x00\x01\x01\x00\x00\x00", "SDES chunk"),
        (b"\x82\xcb\x00\x01\x00\x00\x00\x01", "BYE is shorter"),
        (b"\x81\xcb\x00\x02\x00\x00\x00\x01\x05ab\x00", "reason"),
        (b"\x81\xcd\x00\x01\x00\x00\x00\x01", "RTPFB is shorter"),
        (b"\x81\xcd\x00\x02" + bytes(8), "NACK"),
        (b"\x81\xce\x00\x01\x00\x00\x00\x01", "PSFB is shorter"),
        (b"\x84\xce\x00\x03" + bytes(12), "FIR"),
        (b"\x84\xce\x00\x02" + bytes(8), "FIR"),
        (b"\x8f\xce\x00\x03" + bytes(8) + b"REMB", "REMB is truncated"),
        (b"\x8f\xce\x00\x04" + bytes(8) + b"REMB\x02\x00\x00\x00", "SSRC count"),
    ],
    ids=[
        "empty",
        "second-header-cut",
        "version-1",
        "length-overrun",
        "zero-padding",
        "padding-beyond-body",
        "padding-without-body",
        "rr-count",
        "sr-count",
        "sdes-without-end",
        "sdes-item-overrun",
        "sdes-item-type-at-end",
        "sdes-second-chunk-missing",
        "bye-count",
        "bye-reason-overrun",
        "rtpfb-short",
        "nack-without-fci",
        "psfb-short",
        "fir-half-entry",
        "fir-without-entries",
        "remb-short",
        "remb-ssrc-count",
    ],
)
def test_parse_compound_rejects_malformed_input(data, reason):
    with pytest.raises(ValueError, match=reason):
        rtcp.parse_compound(data)


def aiortc_block():
    return RtcpReceiverInfo(
        ssrc=BLOCK.ssrc,
        fraction_lost=BLOCK.fraction_lost,
        packets_lost=BLOCK.packets_lost,
        highest_sequence=BLOCK.highest_sequence,
        jitter=BLOCK.jitter,
        lsr=BLOCK.last_sr,
        dlsr=BLOCK.delay_since_last_sr,
    )


def test_aiortc_parses_our_reports_sdes_and_bye():
    ours = [
        rtcp.SenderReport(1, 0xE1234567_89ABCDEF, 3, 4, 5, [BLOCK]),
        rtcp.ReceiverReport(2, [BLOCK]),
        rtcp.Sdes([(1, [(rtcp.SDES_CNAME, b"abc")])]),
        rtcp.Bye([1, 2]),
    ]

    sr, rr, sdes, bye = RtcpPacket.parse(rtcp.pack_compound(ours))

    assert sr.ssrc == 1
    assert sr.sender_info == RtcpSenderInfo(0xE1234567_89ABCDEF, 3, 4, 5)
    assert sr.reports == [aiortc_block()]
    assert (rr.ssrc, rr.reports) == (2, [aiortc_block()])
    assert sdes.chunks == [RtcpSourceInfo(ssrc=1, items=[(1, b"abc")])]
    assert bye.sources == [1, 2]


def test_aiortc_parses_our_feedback():
    ours = [
        rtcp.Nack(1, 2, [100, 101, 103, 200]),
        rtcp.Pli(1, 2),
        rtcp.Fir(1, [(2, 9)]),
        rtcp.Remb(1, 3_000_000_000, [2, 3]),
    ]

    nack, pli, fir, remb = RtcpPacket.parse(rtcp.pack_compound(ours))

    assert isinstance(nack, RtcpRtpfbPacket)
    assert (nack.fmt, nack.ssrc, nack.media_ssrc) == (1, 1, 2)
    assert nack.lost == [100, 101, 103, 200]
    assert isinstance(pli, RtcpPsfbPacket)
    assert (pli.fmt, pli.ssrc, pli.media_ssrc, pli.fci) == (1, 1, 2, b"")
    assert (fir.fmt, fir.media_ssrc, fir.fci) == (
        4,
        0,
        b"\x00\x00\x00\x02\x09\x00\x00\x00",
    )
    assert (remb.fmt, remb.ssrc) == (15, 1)
    assert unpack_remb_fci(remb.fci) == (3_000_000_000 >> 14 << 14, [2, 3])


def test_parse_compound_reads_packets_packed_by_aiortc():
    theirs = [
        RtcpSrPacket(
            ssrc=1,
            sender_info=RtcpSenderInfo(0xE1234567_89ABCDEF, 3, 4, 5),
            reports=[aiortc_block()],
        ),
        RtcpRrPacket(ssrc=2, reports=[aiortc_block()]),
        RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=1, items=[(1, b"cname")])]),
        RtcpRtpfbPacket(fmt=1, ssrc=1, media_ssrc=2, lost=[7, 8, 30, 46]),
        RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=2),
        RtcpPsfbPacket(
            fmt=15, ssrc=1, media_ssrc=0, fci=pack_remb_fci(123_456_789, [2])
        ),
        RtcpByePacket(sources=[1, 2]),
    ]

    parsed = rtcp.parse_compound(b"".join(bytes(packet) for packet in theirs))

    assert parsed == [
        rtcp.SenderReport(1, 0xE1234567_89ABCDEF, 3, 4, 5, [BLOCK]),
        rtcp.ReceiverReport(2, [BLOCK]),
        rtcp.Sdes([(1, [(1, b"cname")])]),
        rtcp.Nack(1, 2, [7, 8, 30, 46]),
        rtcp.Pli(1, 2),
        rtcp.Remb(1, 123_456_789 >> 9 << 9, [2]),
        rtcp.Bye([1, 2]),
    ]


@pytest.mark.parametrize("bitrate", [0, 1, 262_143, 262_144, 3_000_000_000, 10**15])
def test_pack_remb_writes_same_fci_as_aiortc(bitrate):
    data = rtcp.pack(rtcp.Remb(1, bitrate, [2, 3]))

    assert data[12:] == pack_remb_fci(bitrate, [2, 3])


def test_ntp_now_is_wall_clock_since_1900_in_32_32_fixed_point():
    before = time.time()
    ntp = rtcp.ntp_now()
    after = time.time()

    seconds = ntp / (1 << 32) - 2_208_988_800
    assert before - 0.001 <= seconds <= after + 0.001


def test_middle_32_takes_bits_16_to_47():
    assert rtcp.middle_32(0x11223344_55667788) == 0x33445566


def fuzz_seeds():
    return [
        rtcp.pack_compound(list(PACKETS.values())[:5]),
        rtcp.pack_compound(list(PACKETS.values())[5:10]),
        rtcp.pack_compound(list(PACKETS.values())[10:]),
        rtcp.pack(PACKETS["sdes"]),
        rtcp.pack(rtcp.Nack(1, 2, list(range(0, 60, 3)))),
        rtcp.pack(rtcp.Bye([1], b"bye")),
    ]


def mutate(rng, seeds, index):
    data = bytearray(rng.choice(seeds))
    kind = index % 4
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 64))
    if kind == 1:
        return bytes(data[: rng.randrange(len(data) + 1)])
    if kind == 2:
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    # Damage one header's count or length and keep version 2.
    data[0] = 0x80 | rng.randrange(0x40)
    data[rng.choice((0, 3))] ^= 1 << rng.randrange(5)
    return bytes(data)


def nack_as_set(packet):
    if isinstance(packet, rtcp.Nack):
        return packet.sender_ssrc, packet.media_ssrc, set(packet.lost)
    return packet


def test_parse_compound_on_3000_mangled_datagrams_raises_only_value_error():
    rng = random.Random(20240602)
    seeds = fuzz_seeds()
    accepted = 0
    for index in range(3000):
        data = mutate(rng, seeds, index)
        with suppress(ValueError):
            packets = rtcp.parse_compound(data)
            accepted += 1
            # Whatever was accepted must pack again and parse to the same, but
            # for the order of NACKed sequences, which packing may regroup.
            again = rtcp.parse_compound(rtcp.pack_compound(packets))
            assert list(map(nack_as_set, again)) == list(map(nack_as_set, packets))
    # The corpus must reach past validation, or the fuzzing proves little.
    assert accepted > 300
