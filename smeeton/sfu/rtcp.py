"""RTCP compound packets (RFC 3550, 4585, 5104, REMB) parsed into records and packed.

Each RTCP packet becomes one small dataclass; `parse_compound` walks a datagram
by the length field of each header and `pack` / `pack_compound` turn records
back into bytes.

Packet types and feedback formats this module does not model (APP, XR, SLI,
RPSI, application-layer feedback other than REMB, ...) are not skipped: they
come back as `Unknown` records holding the body, so the forwarder can count or
relay them, and `pack` writes them out again unchanged.

Byte strings that RFC 3550 calls text (SDES item values, the BYE reason) are
kept as `bytes`, so a round trip is exact whatever their encoding.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

VERSION = 2

SR = 200
RR = 201
SDES = 202
BYE = 203
APP = 204
RTPFB = 205
PSFB = 206
XR = 207

# RFC 4585 §6.2.1 and draft-holmer-rmcat-transport-wide-cc-extensions §3.1.
NACK_FMT = 1
TRANSPORT_FEEDBACK_FMT = 15
# RFC 4585 §6.3.1, RFC 5104 §4.3.1 and RFC 4585 §6.4 (application layer).
PLI_FMT = 1
FIR_FMT = 4
AFB_FMT = 15

# RFC 3550 §6.5.1.
SDES_CNAME = 1

_PADDING_BIT = 0x20
_COUNT_MASK = 0x1F
# RFC 3550 §6.4.1: reception report count, SSRC count and FMT are 5 bits.
_MAX_COUNT = 31
_MAX_BODY = 0xFFFF * 4

_HEADER = struct.Struct("!BBH")
_U32 = struct.Struct("!I")
_TWO_U32 = struct.Struct("!II")
_SENDER_INFO = struct.Struct("!IQIII")
_REPORT_BLOCK = struct.Struct("!IIIIII")
_NACK_ITEM = struct.Struct("!HH")
_FIR_ENTRY = struct.Struct("!IB3x")
_REMB_HEADER = struct.Struct("!4sBBH")

_REMB_IDENTIFIER = b"REMB"
# draft-alvestrand-rmcat-remb-03 §2.2: a 6-bit exponent and an 18-bit mantissa.
_REMB_MANTISSA_BITS = 18
_REMB_MAX_EXPONENT = 63
REMB_MAX_BITRATE = ((1 << _REMB_MANTISSA_BITS) - 1) << _REMB_MAX_EXPONENT

# RFC 868: seconds from the NTP epoch (1900) to the Unix epoch (1970).
_NTP_UNIX_OFFSET = 2_208_988_800


@dataclass(slots=True)
class ReportBlock:
    """One reception report (RFC 3550 §6.4.1) about the source `ssrc`."""

    ssrc: int
    fraction_lost: int
    # RFC 3550 §6.4.1: signed 24 bits, negative when duplicates outnumber
    # losses; packing clamps rather than wraps.
    packets_lost: int
    highest_sequence: int
    jitter: int
    last_sr: int
    delay_since_last_sr: int


@dataclass(slots=True)
class SenderReport:
    """SR (RFC 3550 §6.4.1): what a sender sent, plus its reception reports."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: list[ReportBlock] = field(default_factory=list)


@dataclass(slots=True)
class ReceiverReport:
    """RR (RFC 3550 §6.4.2): reception reports from a participant that sends none."""

    ssrc: int
    reports: list[ReportBlock] = field(default_factory=list)


@dataclass(slots=True)
class Sdes:
    """SDES (RFC 3550 §6.5): per source, a list of (item type, value) pairs."""

    chunks: list[tuple[int, list[tuple[int, bytes]]]]


@dataclass(slots=True)
class Bye:
    """BYE (RFC 3550 §6.6): the sources are leaving, with an optional reason."""

    ssrcs: list[int]
    reason: bytes = b""


@dataclass(slots=True)
class Nack:
    """Generic NACK (RFC 4585 §6.2.1): the sequence numbers the sender lost."""

    sender_ssrc: int
    media_ssrc: int
    lost: list[int]


@dataclass(slots=True)
class TransportFeedback:
    """Transport-wide congestion control feedback, its FCI kept unparsed."""

    sender_ssrc: int
    media_ssrc: int
    fci: bytes


@dataclass(slots=True)
class Pli:
    """Picture Loss Indication (RFC 4585 §6.3.1): send a key frame, please."""

    sender_ssrc: int
    media_ssrc: int


@dataclass(slots=True)
class Fir:
    """Full Intra Request (RFC 5104 §4.3.1): (ssrc, command sequence number)s."""

    sender_ssrc: int
    entries: list[tuple[int, int]]


@dataclass(slots=True)
class Remb:
    """Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03).

    `bitrate` is in bits per second. Packing rounds it down to what an 18-bit
    mantissa with the smallest sufficient exponent holds, and clamps anything
    above `REMB_MAX_BITRATE`.
    """

    sender_ssrc: int
    bitrate: int
    ssrcs: list[int]


@dataclass(slots=True)
class Unknown:
    """A packet type or feedback format not modelled here, body without padding.

    For RTPFB and PSFB `fmt` is the FMT field; for other types it is the
    5-bit count field, whatever it means there.
    """

    packet_type: int
    fmt: int
    body: bytes


Packet = (
    SenderReport
    | ReceiverReport
    | Sdes
    | Bye
    | Nack
    | TransportFeedback
    | Pli
    | Fir
    | Remb
    | Unknown
)


def parse_compound(data: bytes | bytearray | memoryview) -> list[Packet]:
    """Parse every RTCP packet in a datagram, in order.

    Raises ValueError when the datagram is empty, when a header is not version 2,
    when a length field or the padding overruns the datagram, or when a body is
    too short for what its header announces. Padding is accepted on any packet,
    not only the last (RFC 3550 §6.4.1 asks senders, not receivers).
    """
    size = len(data)
    if not size:
        raise ValueError("RTCP datagram is empty")
    packets: list[Packet] = []
    pos = 0
    while pos < size:
        if pos + 4 > size:
            raise ValueError("RTCP header is truncated")
        first, packet_type, words = _HEADER.unpack_from(data, pos)
        if first >> 6 != VERSION:
            raise ValueError("RTCP version is not 2")
        end = pos + 4 + words * 4
        if end > size:
            raise ValueError("RTCP length overruns the datagram")
        body_end = end
        if first & _PADDING_BIT:
            # RFC 3550 §6.4.1: the last byte counts the padding, itself included.
            padding = data[end - 1] if words else 0
            if not 0 < padding <= words * 4:
                raise ValueError("RTCP padding length is invalid")
            body_end -= padding
        body = bytes(data[pos + 4 : body_end])
        count = first & _COUNT_MASK
        parser = _PARSERS.get(packet_type)
        packet = parser(count, body) if parser else None
        if packet is None:
            packet = Unknown(packet_type, count, body)
        packets.append(packet)
        pos = end
    return packets


def _parse_report_blocks(body: bytes, pos: int, count: int) -> list[ReportBlock]:
    reports = []
    for _ in range(count):
        ssrc, lost_word, highest, jitter, last_sr, delay = _REPORT_BLOCK.unpack_from(
            body, pos
        )
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        reports.append(
            ReportBlock(ssrc, lost_word >> 24, lost, highest, jitter, last_sr, delay)
        )
        pos += _REPORT_BLOCK.size
    return reports


def _parse_sr(count: int, body: bytes) -> SenderReport:
    # RFC 3550 §6.4.1: bytes after the report blocks are a profile extension.
    if len(body) < _SENDER_INFO.size + count * _REPORT_BLOCK.size:
        raise ValueError("SR is shorter than its report count")
    ssrc, ntp, rtp_timestamp, packets, octets = _SENDER_INFO.unpack_from(body)
    return SenderReport(
        ssrc,
        ntp,
        rtp_timestamp,
        packets,
        octets,
        _parse_report_blocks(body, _SENDER_INFO.size, count),
    )


def _parse_rr(count: int, body: bytes) -> ReceiverReport:
    if len(body) < 4 + count * _REPORT_BLOCK.size:
        raise ValueError("RR is shorter than its report count")
    return ReceiverReport(
        _U32.unpack_from(body)[0], _parse_report_blocks(body, 4, count)
    )


def _parse_sdes(count: int, body: bytes) -> Sdes:
    size = len(body)
    chunks = []
    pos = 0
    for _ in range(count):
        if pos + 4 > size:
            raise ValueError("SDES chunk is truncated")
        ssrc = _U32.unpack_from(body, pos)[0]
        pos += 4
        items = []
        while True:
            if pos >= size:
                raise ValueError("SDES chunk has no end item")
            item_type = body[pos]
            if not item_type:
                # RFC 3550 §6.5: the null END item, then nulls up to 32 bits.
                pos = (pos + 4) & ~3
                break
            if pos + 2 > size or pos + 2 + body[pos + 1] > size:
                raise ValueError("SDES item is truncated")
            length = body[pos + 1]
            items.append((item_type, body[pos + 2 : pos + 2 + length]))
            pos += 2 + length
        chunks.append((ssrc, items))
    return Sdes(chunks)


def _parse_bye(count: int, body: bytes) -> Bye:
    size = len(body)
    end = count * 4
    if end > size:
        raise ValueError("BYE is shorter than its source count")
    ssrcs = list(struct.unpack_from(f"!{count}I", body))
    reason = b""
    if end < size:
        length = body[end]
        if end + 1 + length > size:
            raise ValueError("BYE reason is truncated")
        reason = body[end + 1 : end + 1 + length]
    return Bye(ssrcs, reason)


def _parse_rtpfb(fmt: int, body: bytes) -> Nack | TransportFeedback | None:
    # RFC 4585 §6.1: sender SSRC and media source SSRC come before the FCI.
    if len(body) < 8:
        raise ValueError("RTPFB is shorter than its two SSRCs")
    sender_ssrc, media_ssrc = _TWO_U32.unpack_from(body)
    if fmt == NACK_FMT:
        return Nack(sender_ssrc, media_ssrc, _parse_nack_fci(body))
    if fmt == TRANSPORT_FEEDBACK_FMT:
        return TransportFeedback(sender_ssrc, media_ssrc, body[8:])
    return None


def _parse_nack_fci(body: bytes) -> list[int]:
    size = len(body)
    # RFC 4585 §6.2.1: at least one PID+BLP pair.
    if size < 12 or size % 4:
        raise ValueError("NACK FCI is not a whole number of PID+BLP pairs")
    lost = []
    for pos in range(8, size, 4):
        pid, blp = _NACK_ITEM.unpack_from(body, pos)
        lost.append(pid)
        bit = 0
        while blp:
            if blp & 1:
                lost.append((pid + bit + 1) & 0xFFFF)
            blp >>= 1
            bit += 1
    return lost


def _parse_psfb(fmt: int, body: bytes) -> Pli | Fir | Remb | None:
    if len(body) < 8:
        raise ValueError("PSFB is shorter than its two SSRCs")
    sender_ssrc, media_ssrc = _TWO_U32.unpack_from(body)
    if fmt == PLI_FMT:
        # RFC 4585 §6.3.1: PLI has no FCI; anything after the SSRCs is ignored.
        return Pli(sender_ssrc, media_ssrc)
    if fmt == FIR_FMT:
        size = len(body)
        # RFC 5104 §4.3.1.2: one or more 8-byte entries.
        if size < 16 or size % 8:
            raise ValueError("FIR FCI is not a whole number of entries")
        entries = [_FIR_ENTRY.unpack_from(body, pos) for pos in range(8, size, 8)]
        return Fir(sender_ssrc, entries)
    if fmt == AFB_FMT and body[8:12] == _REMB_IDENTIFIER:
        if len(body) < 16:
            raise ValueError("REMB is truncated")
        _, count, high, low = _REMB_HEADER.unpack_from(body, 8)
        if len(body) < 16 + count * 4:
            raise ValueError("REMB is shorter than its SSRC count")
        mantissa = ((high & 0x03) << 16) | low
        ssrcs = list(struct.unpack_from(f"!{count}I", body, 16))
        return Remb(sender_ssrc, mantissa << (high >> 2), ssrcs)
    return None


_PARSERS = {
    SR: _parse_sr,
    RR: _parse_rr,
    SDES: _parse_sdes,
    BYE: _parse_bye,
    RTPFB: _parse_rtpfb,
    PSFB: _parse_psfb,
}


def _wrap(packet_type: int, count: int, body: bytes) -> bytes:
    if count > _MAX_COUNT:
        raise ValueError("more than 31 items for a 5-bit count")
    padding = -len(body) % 4
    if len(body) + padding > _MAX_BODY:
        raise ValueError("RTCP packet is longer than its length field can say")
    first = 0x80 | count
    if padding:
        # RFC 3550 §6.4.1: the last padding byte counts the padding.
        body += bytes(padding - 1) + bytes((padding,))
        first |= _PADDING_BIT
    return _HEADER.pack(first, packet_type, len(body) // 4) + body


def _pack_report_blocks(reports: list[ReportBlock]) -> bytes:
    return b"".join(
        _REPORT_BLOCK.pack(
            block.ssrc,
            (block.fraction_lost << 24)
            | (max(-0x800000, min(block.packets_lost, 0x7FFFFF)) & 0xFFFFFF),
            block.highest_sequence,
            block.jitter,
            block.last_sr,
            block.delay_since_last_sr,
        )
        for block in reports
    )


def _pack_sr(packet: SenderReport) -> bytes:
    body = _SENDER_INFO.pack(
        packet.ssrc,
        packet.ntp_timestamp,
        packet.rtp_timestamp,
        packet.packet_count,
        packet.octet_count,
    )
    return _wrap(SR, len(packet.reports), body + _pack_report_blocks(packet.reports))


def _pack_rr(packet: ReceiverReport) -> bytes:
    body = _U32.pack(packet.ssrc) + _pack_report_blocks(packet.reports)
    return _wrap(RR, len(packet.reports), body)


def _pack_sdes(packet: Sdes) -> bytes:
    body = bytearray()
    for ssrc, items in packet.chunks:
        start = len(body)
        body += _U32.pack(ssrc)
        for item_type, value in items:
            if not 0 < item_type < 256 or len(value) > 255:
                raise ValueError("SDES item type or length does not fit a byte")
            body.append(item_type)
            body.append(len(value))
            body += value
        # RFC 3550 §6.5: at least one null (the END item), then nulls to 32 bits.
        body += bytes(4 - (len(body) - start) % 4)
    return _wrap(SDES, len(packet.chunks), bytes(body))


def _pack_bye(packet: Bye) -> bytes:
    count = len(packet.ssrcs)
    body = struct.pack(f"!{count}I", *packet.ssrcs)
    if packet.reason:
        if len(packet.reason) > 255:
            raise ValueError("BYE reason is longer than 255 bytes")
        # RFC 3550 §6.6: a length byte, the text, then nulls to 32 bits.
        reason = bytes((len(packet.reason),)) + packet.reason
        body += reason + bytes(-len(reason) % 4)
    return _wrap(BYE, count, body)


def _pack_nack(packet: Nack) -> bytes:
    lost = packet.lost
    if not lost:
        raise ValueError("NACK needs at least one lost sequence number")
    items = []
    pid = lost[0]
    blp = 0
    for sequence in lost[1:]:
        # RFC 4585 §6.2.1: bit i of BLP stands for PID + i + 1, modulo 2**16.
        distance = (sequence - pid - 1) & 0xFFFF
        if distance < 16:
            blp |= 1 << distance
        else:
            items.append(_NACK_ITEM.pack(pid, blp))
            pid = sequence
            blp = 0
    items.append(_NACK_ITEM.pack(pid, blp))
    body = _TWO_U32.pack(packet.sender_ssrc, packet.media_ssrc) + b"".join(items)
    return _wrap(RTPFB, NACK_FMT, body)


def _pack_transport_feedback(packet: TransportFeedback) -> bytes:
    body = _TWO_U32.pack(packet.sender_ssrc, packet.media_ssrc) + packet.fci
    return _wrap(RTPFB, TRANSPORT_FEEDBACK_FMT, body)


def _pack_pli(packet: Pli) -> bytes:
    return _wrap(PSFB, PLI_FMT, _TWO_U32.pack(packet.sender_ssrc, packet.media_ssrc))


def _pack_fir(packet: Fir) -> bytes:
    if not packet.entries:
        raise ValueError("FIR needs at least one entry")
    # RFC 5104 §4.3.1.2: the media source SSRC field is unused and set to 0.
    body = _TWO_U32.pack(packet.sender_ssrc, 0) + b"".join(
        _FIR_ENTRY.pack(ssrc, sequence) for ssrc, sequence in packet.entries
    )
    return _wrap(PSFB, FIR_FMT, body)


def _pack_remb(packet: Remb) -> bytes:
    bitrate = packet.bitrate
    if bitrate < 0:
        raise ValueError("REMB bitrate is negative")
    if len(packet.ssrcs) > 255:
        raise ValueError("REMB lists more than 255 SSRCs")
    # Rounding down: an estimate of the maximum must not overstate it.
    bitrate = min(bitrate, REMB_MAX_BITRATE)
    exponent = max(0, bitrate.bit_length() - _REMB_MANTISSA_BITS)
    mantissa = bitrate >> exponent
    count = len(packet.ssrcs)
    # draft-alvestrand-rmcat-remb-03 §2.2: the media source SSRC field is 0.
    body = (
        _TWO_U32.pack(packet.sender_ssrc, 0)
        + _REMB_HEADER.pack(
            _REMB_IDENTIFIER,
            count,
            (exponent << 2) | (mantissa >> 16),
            mantissa & 0xFFFF,
        )
        + struct.pack(f"!{count}I", *packet.ssrcs)
    )
    return _wrap(PSFB, AFB_FMT, body)


def _pack_unknown(packet: Unknown) -> bytes:
    return _wrap(packet.packet_type, packet.fmt, packet.body)


_PACKERS = {
    SenderReport: _pack_sr,
    ReceiverReport: _pack_rr,
    Sdes: _pack_sdes,
    Bye: _pack_bye,
    Nack: _pack_nack,
    TransportFeedback: _pack_transport_feedback,
    Pli: _pack_pli,
    Fir: _pack_fir,
    Remb: _pack_remb,
    Unknown: _pack_unknown,
}


def pack(packet: Packet) -> bytes:
    """Serialize one RTCP packet, padding it with the P bit if its body needs it.

    Raises ValueError when a list is longer than its count field can say or a
    packet the RFCs require to carry FCI (NACK, FIR) has none.
    """
    return _PACKERS[type(packet)](packet)


def pack_compound(packets: list[Packet]) -> bytes:
    """Serialize packets into one compound RTCP datagram, in the given order.

    RFC 3550 §6.1 wants a compound packet to start with an SR or RR and to
    carry an SDES CNAME; that choice is the caller's.
    """
    return b"".join([pack(packet) for packet in packets])


def ntp_now() -> int:
    """Return the wall clock as a 64-bit NTP timestamp (32.32 fixed point)."""
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    fraction = (nanoseconds << 32) // 1_000_000_000
    # RFC 5905 §6: the 64-bit value wraps in 2036, into era 1.
    return (((seconds + _NTP_UNIX_OFFSET) << 32) | fraction) & 0xFFFF_FFFF_FFFF_FFFF


def middle_32(ntp: int) -> int:
    """Return the middle 32 bits of an NTP timestamp, as LSR (RFC 3550 §6.4.1)."""
    return (ntp >> 16) & 0xFFFF_FFFF
