"""RTP packets (RFC 3550) read and rewritten as bytes, for the forwarding path.

Every function here works on the datagram as received (`bytes`, `bytearray` or
`memoryview`) with precompiled `struct.Struct` objects; there is no packet class.
The forwarder calls `parse_header` once per packet and hands the returned
`payload_offset` to the other functions, which then need not find it again.

Offsets: `payload_offset` is the first payload byte, after the CSRC list and the
header extension block; `payload_end(data)` is one past the last payload byte,
before any RTP padding. `parse_header` validates the padding, so `payload_end`
trusts it without checking again.
"""

from __future__ import annotations

import struct

# What a datagram arrives as, or a view into one.
Buffer = bytes | bytearray | memoryview

HEADER = struct.Struct("!BBHII")
HEADER_SIZE = 12
VERSION = 2

# RFC 8285 §4.2 and §4.3: the "defined by profile" field of the header extension.
ONE_BYTE_PROFILE = 0xBEDE
TWO_BYTE_PROFILE = 0x1000
# RFC 8285 §4.3: the low four bits of the two-byte profile are "appbits".
TWO_BYTE_PROFILE_MASK = 0xFFF0

# RFC 3550 §5.1: bits of the first two header bytes.
PADDING_BIT = 0x20
EXTENSION_BIT = 0x10
CSRC_COUNT_MASK = 0x0F
MARKER_BIT = 0x80
PAYLOAD_TYPE_MASK = 0x7F

_EXTENSION_HEADER = struct.Struct("!HH")

# RFC 6184 §5.2: NAL unit types that start a decodable picture (IDR
# slice, sequence parameter set) and the aggregation / fragmentation types.
_H264_KEY_NAL_TYPES = frozenset((5, 7))
_H264_STAP_A = 24
_H264_FU_A = 28


def is_rtcp(data: Buffer) -> bool:
    """Tell RTCP from RTP on a shared port, for a first byte already in 128..191.

    RFC 5761 §4: RTCP packet types 192..223 fall where RTP would carry the marker
    bit and payload types 64..95, which RTP must therefore not use.
    """
    return len(data) >= 2 and 192 <= data[1] <= 223


def parse_header(data: Buffer) -> tuple[int, bool, int, int, int, int]:
    """Validate an RTP packet and return the fields the forwarder needs.

    Returns (payload_type, marker, sequence, timestamp, ssrc, payload_offset).
    Raises ValueError with a short reason when the packet is not RTP version 2 or
    when the CSRC list, the header extension or the padding overrun the packet.
    """
    size = len(data)
    if size < HEADER_SIZE:
        raise ValueError("shorter than the RTP header")
    first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
    if first >> 6 != VERSION:
        raise ValueError("RTP version is not 2")
    offset = HEADER_SIZE + (first & CSRC_COUNT_MASK) * 4
    if first & EXTENSION_BIT:
        # RFC 3550 §5.3.1: a 4-byte header, then the length in 32-bit words.
        if offset + 4 > size:
            raise ValueError("header extension is truncated")
        offset += 4 + ((data[offset + 2] << 8) | data[offset + 3]) * 4
    if offset > size:
        raise ValueError("CSRC list or header extension is truncated")
    # RFC 3550 §5.1: the last byte counts the padding, itself included.
    if first & PADDING_BIT and not 0 < data[-1] <= size - offset:
        raise ValueError("padding length is invalid")
    return (
        second & PAYLOAD_TYPE_MASK,
        second > PAYLOAD_TYPE_MASK,
        sequence,
        timestamp,
        ssrc,
        offset,
    )


def payload_end(data: Buffer) -> int:
    """Return the offset one past the payload, before RTP padding.

    The padding length is trusted, so call this only on a packet that
    `parse_header` accepted.
    """
    if data[0] & PADDING_BIT:
        return len(data) - data[-1]
    return len(data)


def header_extension(data: Buffer, payload_offset: int) -> bytes:
    """Return the packet's header extension block as is, or b"" when it has none.

    The block includes the profile and length word, so it can be passed straight
    to `rewrite` when the subscriber uses the publisher's extension ids.
    """
    first = data[0]
    if not first & EXTENSION_BIT:
        return b""
    return bytes(data[HEADER_SIZE + (first & CSRC_COUNT_MASK) * 4 : payload_offset])


def extensions(data: Buffer) -> list[tuple[int, int, int]]:
    """List the RFC 8285 header extension elements as (id, value_offset, length).

    Offsets index into `data`, so values are read without copying. Both the
    one-byte (0xBEDE) and two-byte (0x100X) forms are understood; a block with
    any other profile yields no elements. Raises ValueError when the block or an
    element overruns the packet.
    """
    size = len(data)
    if size < HEADER_SIZE:
        raise ValueError("shorter than the RTP header")
    first = data[0]
    if not first & EXTENSION_BIT:
        return []
    start = HEADER_SIZE + (first & CSRC_COUNT_MASK) * 4
    if start + 4 > size:
        raise ValueError("header extension is truncated")
    profile, words = _EXTENSION_HEADER.unpack_from(data, start)
    end = start + 4 + words * 4
    if end > size:
        raise ValueError("header extension is truncated")
    return _elements(data, start + 4, end, profile)


def _elements(
    data: Buffer, pos: int, end: int, profile: int
) -> list[tuple[int, int, int]]:
    found: list[tuple[int, int, int]] = []
    if profile == ONE_BYTE_PROFILE:
        while pos < end:
            byte = data[pos]
            ext_id = byte >> 4
            if ext_id == 0:
                # RFC 8285 §4.2: a padding byte carries neither id nor length.
                pos += 1
                continue
            if ext_id == 15:
                # RFC 8285 §4.2: id 15 ends processing of the whole block.
                break
            length = (byte & 0x0F) + 1
            pos += 1
            if pos + length > end:
                raise ValueError("one-byte extension element overruns its block")
            found.append((ext_id, pos, length))
            pos += length
    elif profile & TWO_BYTE_PROFILE_MASK == TWO_BYTE_PROFILE:
        while pos < end:
            ext_id = data[pos]
            if ext_id == 0:
                pos += 1
                continue
            if pos + 2 > end:
                raise ValueError("two-byte extension element overruns its block")
            length = data[pos + 1]
            pos += 2
            if pos + length > end:
                raise ValueError("two-byte extension element overruns its block")
            found.append((ext_id, pos, length))
            pos += length
    return found


def rewrite_extensions(
    data: Buffer, payload_offset: int, id_map: dict[int, int]
) -> bytes:
    """Build a header extension block keeping only the elements named in id_map.

    Each kept element is renumbered from the publisher's id (key) to the
    subscriber's (value) and keeps its order and value. The result includes the
    profile and length word and is padded to 32 bits; it is b"" when nothing is
    kept. It uses the one-byte form (0xBEDE) when every kept element fits it
    (RFC 8285 §4.2: id 1..14, 1..16 bytes) and the two-byte form otherwise.
    `payload_offset` is where the source block ends, as from `parse_header`.
    Raises ValueError on an overrun or a new id outside 1..255.
    """
    first = data[0]
    if not first & EXTENSION_BIT:
        return b""
    start = HEADER_SIZE + (first & CSRC_COUNT_MASK) * 4
    if start + 4 > payload_offset or payload_offset > len(data):
        raise ValueError("header extension is truncated")
    profile = (data[start] << 8) | data[start + 1]
    kept = []
    one_byte = True
    for ext_id, offset, length in _elements(data, start + 4, payload_offset, profile):
        new_id = id_map.get(ext_id)
        if new_id is None:
            continue
        if not 0 < new_id < 256:
            raise ValueError("extension id is outside 1..255")
        if new_id > 14 or length > 16 or length == 0:
            one_byte = False
        kept.append((new_id, offset, length))
    if not kept:
        return b""
    body = bytearray()
    if one_byte:
        for new_id, offset, length in kept:
            body.append((new_id << 4) | (length - 1))
            body += data[offset : offset + length]
        profile = ONE_BYTE_PROFILE
    else:
        for new_id, offset, length in kept:
            body.append(new_id)
            body.append(length)
            body += data[offset : offset + length]
        profile = TWO_BYTE_PROFILE
    body += bytes(-len(body) % 4)
    return _EXTENSION_HEADER.pack(profile, len(body) // 4) + body


def rewrite(
    data: Buffer,
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    extension_block: bytes,
    payload_offset: int,
) -> bytes:
    """Return the packet as a subscriber receives it: new ids, same payload.

    The marker and padding bits and the payload (with its padding) are kept;
    the CSRC list is dropped; the X bit is set iff `extension_block` (as from
    `rewrite_extensions` or `header_extension`) is non-empty. `sequence` and
    `timestamp` must already be reduced modulo 2**16 and 2**32.
    """
    first = 0x80 | (data[0] & PADDING_BIT)
    if extension_block:
        first |= EXTENSION_BIT
    return b"".join(
        (
            HEADER.pack(
                first,
                (data[1] & MARKER_BIT) | payload_type,
                sequence,
                timestamp,
                ssrc,
            ),
            extension_block,
            data[payload_offset:],
        )
    )


def audio_level(data: Buffer, ext_id: int) -> tuple[bool, int] | None:
    """Return (voice_activity, level) from the RFC 6464 extension with ext_id.

    The level is in -dBov, 0 (loudest) to 127 (silence). Returns None when the
    packet carries no such element. Raises ValueError on a malformed block.
    """
    for found_id, offset, length in extensions(data):
        if found_id == ext_id and length:
            byte = data[offset]
            return byte > 0x7F, byte & 0x7F
    return None


def unwrap_rtx(
    data: Buffer,
    payload_offset: int,
    original_payload_type: int,
    original_ssrc: int,
) -> bytes:
    """Rebuild the original packet from an RFC 4588 retransmission packet.

    RFC 4588 §4: the RTX payload starts with the original sequence number. The
    marker, timestamp, CSRC list, header extension and padding are kept.
    Raises ValueError when the payload is shorter than those two bytes, which
    is also the case for the padding-only RTX packets senders use as probes.
    """
    size = len(data)
    if payload_offset < HEADER_SIZE or payload_offset + 2 > size:
        raise ValueError("RTX payload is shorter than 2 bytes")
    first, second, _, timestamp, _ = HEADER.unpack_from(data)
    end = size - data[-1] if first & PADDING_BIT else size
    if end - payload_offset < 2:
        raise ValueError("RTX payload is shorter than 2 bytes")
    return b"".join(
        (
            HEADER.pack(
                first,
                (second & MARKER_BIT) | original_payload_type,
                (data[payload_offset] << 8) | data[payload_offset + 1],
                timestamp,
                original_ssrc,
            ),
            data[HEADER_SIZE:payload_offset],
            data[payload_offset + 2 :],
        )
    )


def wrap_rtx(
    data: Buffer,
    payload_offset: int,
    rtx_payload_type: int,
    rtx_ssrc: int,
    rtx_sequence: int,
) -> bytes:
    """Wrap a packet the subscriber lost into an RFC 4588 retransmission packet.

    RFC 4588 §4: the original sequence number goes in front of the original
    payload; the marker, timestamp, CSRC list, header extension and padding are
    kept.
    """
    first, second, _, timestamp, _ = HEADER.unpack_from(data)
    return b"".join(
        (
            HEADER.pack(
                first,
                (second & MARKER_BIT) | rtx_payload_type,
                rtx_sequence,
                timestamp,
                rtx_ssrc,
            ),
            data[HEADER_SIZE:payload_offset],
            data[2:4],
            data[payload_offset:],
        )
    )


def is_vp8_keyframe(data: Buffer, payload_offset: int, payload_end: int) -> bool:
    """Tell whether a VP8 RTP payload starts a key frame (RFC 7741).

    Only the packet that starts partition 0 can say so; any other packet, and
    any truncated payload, gives False.
    """
    end = min(payload_end, len(data))
    pos = payload_offset
    if pos < 0 or pos >= end:
        return False
    descriptor = data[pos]
    # RFC 7741 §4.2: S=1 and PID=0 mark the packet holding the payload header.
    if (descriptor & 0x17) != 0x10:
        return False
    pos += 1
    if descriptor & 0x80:
        if pos >= end:
            return False
        flags = data[pos]
        pos += 1
        if flags & 0x80:
            # RFC 7741 §4.2: M=1 makes the PictureID 15 bits instead of 7.
            if pos >= end:
                return False
            pos += 2 if data[pos] & 0x80 else 1
        if flags & 0x40:
            pos += 1
        # RFC 7741 §4.2: T and K share one byte.
        if flags & 0x30:
            pos += 1
    if pos >= end:
        return False
    # RFC 7741 §4.3: P, the inverse key frame flag, is 0 for a key frame.
    return not (data[pos] & 0x01)


def is_h264_keyframe(data: Buffer, payload_offset: int, payload_end: int) -> bool:
    """Tell whether an H.264 RTP payload starts a key frame (RFC 6184).

    True for an IDR slice or a sequence parameter set, sent alone, inside a
    STAP-A, or as the first fragment of an FU-A. Truncated payloads give False.
    """
    end = min(payload_end, len(data))
    pos = payload_offset
    if pos < 0 or pos >= end:
        return False
    nal_type = data[pos] & 0x1F
    if nal_type in _H264_KEY_NAL_TYPES:
        return True
    if nal_type == _H264_STAP_A:
        # RFC 6184 §5.7.1: each aggregated NAL unit follows a 16-bit size.
        pos += 1
        while pos + 2 < end:
            size = (data[pos] << 8) | data[pos + 1]
            pos += 2
            if size == 0 or pos + size > end:
                return False
            if (data[pos] & 0x1F) in _H264_KEY_NAL_TYPES:
                return True
            pos += size
        return False
    if nal_type == _H264_FU_A:
        # RFC 6184 §5.8: the FU header holds the start bit and the NAL type.
        if pos + 1 >= end:
            return False
        header = data[pos + 1]
        return header > 0x7F and (header & 0x1F) in _H264_KEY_NAL_TYPES
    return False


def is_vp9_keyframe(data: Buffer, payload_offset: int, payload_end: int) -> bool:
    """Tell whether a VP9 RTP payload starts a key frame (RFC 9628).

    True for the first packet (B=1) of a frame without inter-picture
    prediction (P=0) in spatial layer 0. Truncated payloads give False.
    """
    end = min(payload_end, len(data))
    pos = payload_offset
    if pos < 0 or pos >= end:
        return False
    descriptor = data[pos]
    # RFC 9628 §4.2: the first byte is I|P|L|F|B|E|V|Z.
    if descriptor & 0x40 or not descriptor & 0x08:
        return False
    pos += 1
    if descriptor & 0x80:
        if pos >= end:
            return False
        pos += 2 if data[pos] & 0x80 else 1
    if descriptor & 0x20:
        if pos >= end:
            return False
        # RFC 9628 §4.2: the layer byte is TID(3)|U|SID(3)|D; upper spatial
        # layers of a key picture depend on layer 0 and cannot start decoding.
        return not (data[pos] >> 1) & 0x07
    return True


def seq_newer(a: int, b: int) -> bool:
    """Tell whether sequence number a comes after b, modulo 2**16.

    RFC 1982 serial number arithmetic; a distance of exactly 2**15 is not newer.
    """
    return 0 < ((a - b) & 0xFFFF) < 0x8000


def seq_diff(a: int, b: int) -> int:
    """Return how many sequence numbers a is after b, in -2**15 .. 2**15 - 1."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000
