"""Parsers of network input refuse garbage with ValueError and nothing else."""

from __future__ import annotations

import struct
from contextlib import suppress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smeeton.sfu import ice, negotiation, rtcp, rtp, sdp
from smeeton.sfu.dtls import DtlsRole
from smeeton.sfu.ice import IceCredentials
from smeeton.sfu.track import OutputCodec

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# SDP.

# A publish offer as Chrome writes it, cut down to what the parser reads.
OFFER = """v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS stream
m=audio 9 UDP/TLS/RTP/SAVPF 111 0
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=ice-options:trickle
a=fingerprint:sha-256 FINGERPRINT
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:stream audio
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:1001 cname:abc
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102
c=IN IP4 0.0.0.0
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=fingerprint:sha-256 FINGERPRINT
a=setup:actpass
a=mid:1
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rid:h send
a=simulcast:send h
a=ssrc-group:FID 2001 2002
a=ssrc:2001 cname:abc
a=ssrc:2002 cname:abc
""".replace("FINGERPRINT", ":".join(["AB", "CD", "EF", "01"] * 8)).splitlines()

SDP_ALPHABET = "0123456789 abcdefxyzABCDEF:/;=-+.*~#\t_"
values = st.text(SDP_ALPHABET, max_size=40)


@st.composite
def mutated_offers(draw) -> str:
    """The offer with a few lines dropped, doubled, cut or given other values."""
    lines = []
    for line in OFFER:
        # One line in twenty changes, so most offers stay nearly usable.
        action = draw(st.integers(0, 99))
        if action < 95:
            lines.append(line)
        elif action == 96:
            lines += [line, line]
        elif action == 97:
            lines.append(line.partition(":")[0] + ":" + draw(values))
        elif action == 98:
            lines.append(line[:2] + draw(values))
        elif action == 99:
            lines.append(line[: draw(st.integers(0, len(line)))])
    return "\r\n".join(lines) + "\r\n"


sdp_texts = st.one_of(st.text(max_size=300), mutated_offers())

LOCAL = negotiation.TransportParameters(
    IceCredentials("ufrag", "p" * 24), "sha-256 " + ":".join(["AB"] * 32), []
)
SLOTS = [
    negotiation.OfferedTrack(
        "0", "audio", OutputCodec("opus", 111, 48000, 2), ssrc=1, track_id="a"
    ),
    negotiation.OfferedTrack(
        "1", "video", OutputCodec("VP8", 96, 90000, rtx_payload_type=97), ssrc=2
    ),
]


@FUZZ
@given(sdp_texts)
def test_sdp_parse_and_negotiation_raise_only_value_error(text):
    # The path of a publish offer, then of a subscriber's answer.
    with suppress(ValueError):
        offer = negotiation.parse(text)
        remote = negotiation.remote_transport(offer, is_answer=False)
        answer, _ = negotiation.answer_publish(offer, LOCAL, remote.role)
        sdp.parse(sdp.serialize(answer))
    with suppress(ValueError):
        description = negotiation.parse(text)
        negotiation.remote_transport(description, is_answer=True)
        negotiation.read_subscribe_answer(description, SLOTS)


def test_sdp_parse_reads_the_unmutated_offer():
    offer = negotiation.parse("\r\n".join(OFFER) + "\r\n")
    remote = negotiation.remote_transport(offer, is_answer=False)
    _, sections = negotiation.answer_publish(offer, LOCAL, DtlsRole.SERVER)
    assert remote.credentials.ufrag == "abcd"
    assert [s.kind for s in sections] == ["audio", "video"]


# RTCP.


def mutated(whole: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Well-framed datagrams as they are, cut short, or with one byte changed."""

    def overwrite(data: bytes, position: int, value: int) -> bytes:
        if not data:
            return data
        position %= len(data)
        return data[:position] + bytes([value]) + data[position + 1 :]

    return st.one_of(
        whole,
        st.builds(lambda data, n: data[:n], whole, st.integers(0, 200)),
        st.builds(overwrite, whole, st.integers(0, 200), st.integers(0, 255)),
    )


# Packets whose header and length field are right, whatever the body says.
rtcp_packet = st.builds(
    lambda count, kind, body: (
        struct.pack("!BBH", 0x80 | count, kind, len(body) // 4) + body
    ),
    st.sampled_from([0, 1, 2, 4, 15]) | st.integers(0, 31),
    st.integers(200, 207) | st.integers(192, 223),
    st.integers(0, 16).flatmap(lambda n: st.binary(min_size=n * 4, max_size=n * 4)),
)
rtcp_datagrams = st.binary(max_size=200) | mutated(
    st.lists(rtcp_packet, min_size=1, max_size=4).map(b"".join)
)


@FUZZ
@given(rtcp_datagrams)
def test_rtcp_parse_compound_raises_only_value_error(data):
    with suppress(ValueError):
        packets = rtcp.parse_compound(data)
        rtcp.pack_compound(packets)


# RTP.

rtp_packets = st.one_of(
    st.binary(max_size=120),
    st.builds(
        lambda first, second, rest: bytes([first, second]) + rest,
        st.integers(0x80, 0xBF),
        st.integers(0, 255),
        st.binary(min_size=10, max_size=120),
    ),
    # A header extension block of random elements with a length that may lie.
    st.builds(
        lambda profile, words, body, payload: (
            struct.pack("!BBHII", 0x90, 96, 1, 2, 3)
            + struct.pack("!HH", profile, len(body) // 4 if words is None else words)
            + body
            + payload
        ),
        st.sampled_from([rtp.ONE_BYTE_PROFILE, rtp.TWO_BYTE_PROFILE, 0x1234]),
        st.one_of(st.none(), st.integers(0, 12)),
        st.binary(max_size=48),
        st.binary(max_size=20),
    ),
)
ID_MAP = {1: 1, 2: 2, 3: 14, 4: 200, 15: 3}


@FUZZ
@given(rtp_packets)
def test_rtp_parse_header_and_extensions_raise_only_value_error(data):
    # What a track does with a packet the publisher's SRTP session let through.
    with suppress(ValueError):
        rtp.extensions(data)
    with suppress(ValueError):
        payload_type, _, sequence, timestamp, _, offset = rtp.parse_header(data)
        end = rtp.payload_end(data)
        assert offset <= end <= len(data)
        rtp.is_vp8_keyframe(data, offset, end)
        rtp.is_h264_keyframe(data, offset, end)
        rtp.is_vp9_keyframe(data, offset, end)
        rtp.audio_level(data, 1)
        block = rtp.rewrite_extensions(data, offset, ID_MAP)
        rtp.rewrite(data, 96, sequence, timestamp, 7, block, offset)
        rtp.wrap_rtx(data, offset, 97, 8, 1)
        rtp.unwrap_rtx(data, offset, 96, 7)


# STUN.

STUN_TYPES = [0x0001, 0x0011, 0x0101, 0x0111, 0x0003]
ATTRIBUTE_TYPES = [
    0x0001, 0x0006, 0x0008, 0x0009, 0x0014, 0x0020, 0x0024, 0x0025,
    0x8022, 0x8028, 0x8029, 0x802A, 0x802B,
]  # fmt: skip
# Attributes an ICE check carries, well-formed, among random ones.
ICE_ATTRIBUTES = [
    struct.pack("!HH", 0x0006, 9) + b"abcd:efgh" + bytes(3),
    struct.pack("!HHI", 0x0024, 4, 0x7E0000FF),
    struct.pack("!HH", 0x0025, 0),
    struct.pack("!HHQ", 0x802A, 8, 1),
    struct.pack("!HH", 0x0008, 20) + bytes(20),
]
stun_attribute = st.sampled_from(ICE_ATTRIBUTES) | st.builds(
    lambda kind, value, pad: (
        struct.pack("!HH", kind, len(value)) + value + bytes(pad * (-len(value) % 4))
    ),
    st.one_of(st.sampled_from(ATTRIBUTE_TYPES), st.integers(0, 0xFFFF)),
    st.one_of(st.binary(max_size=40), st.text(max_size=12).map(str.encode)),
    st.integers(0, 1),
)
stun_messages = st.binary(max_size=120) | mutated(
    st.builds(
        lambda kind, attributes: (
            struct.pack("!HHI12s", kind, len(attributes), 0x2112A442, b"transaction!")
            + attributes
        ),
        st.just(0x0001) | st.sampled_from(STUN_TYPES) | st.integers(0, 0x3FFF),
        st.lists(stun_attribute, max_size=8).map(b"".join)
        | st.lists(st.sampled_from(ICE_ATTRIBUTES), max_size=6).map(
            lambda attributes: ICE_ATTRIBUTES[0] + b"".join(attributes)
        ),
    )
)


@FUZZ
@given(stun_messages)
def test_ice_parse_binding_request_raises_only_value_error(data):
    # The server's path: parse, check integrity, answer either way.
    with suppress(ValueError):
        request = ice.parse_binding_request(data)
        request.verify("p" * 24)
        assert isinstance(request.use_candidate, bool)
        ice.binding_error(request, 401, "Unauthorized")
        ice.binding_success(request, ("127.0.0.1", 5000), "p" * 24)
