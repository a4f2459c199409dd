"""The load peers' SDP: a browser-like publish offer and a receive-only answer.

Both are written as text, the way Chromium lays them out (BUNDLE, rtcp-mux,
Opus on 111, VP8 on 96 with RTX on 97), so a server sees what it would see
from a browser. Remote descriptions are read with the server's own parser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bench.load.connection import Address, RemoteParameters
from smeeton.sfu import sdp
from smeeton.sfu.dtls import DtlsRole

AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
# Chromium's ids for these two; one numbering across the whole session.
AUDIO_LEVEL_ID = 1
MID_ID = 4
OPUS_PT = 111
VP8_PT = 96
RTX_PT = 97


@dataclass(frozen=True)
class LocalParameters:
    """Our side of one connection, as every section of our SDP states it."""

    ufrag: str
    pwd: str
    fingerprint: str
    candidate: Address


@dataclass(frozen=True)
class PublishedStreams:
    """The SSRCs and names a publish offer announces."""

    audio_ssrc: int
    video_ssrc: int
    rtx_ssrc: int
    cname: str
    stream_id: str
    audio_track_id: str
    video_track_id: str

    @classmethod
    def generate(cls) -> PublishedStreams:
        ssrcs = [secrets.randbits(32) or 1 for _ in range(3)]
        return cls(
            *ssrcs,
            cname=secrets.token_urlsafe(12),
            stream_id=secrets.token_hex(8),
            audio_track_id=secrets.token_hex(8),
            video_track_id=secrets.token_hex(8),
        )


def publish_offer(local: LocalParameters, streams: PublishedStreams) -> str:
    """A sendonly offer of one Opus and one VP8 section, mids "0" and "1"."""
    s = streams
    msid = f"a=msid:{s.stream_id} "
    lines = [
        "v=0",
        f"o=- {secrets.randbits(62)} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        f"a=msid-semantic: WMS {s.stream_id}",
        f"m=audio {local.candidate[1]} UDP/TLS/RTP/SAVPF {OPUS_PT}",
        *_transport_lines(local, "actpass"),
        "a=mid:0",
        f"a=extmap:{AUDIO_LEVEL_ID} {AUDIO_LEVEL}",
        f"a=extmap:{MID_ID} {MID}",
        "a=sendonly",
        msid + s.audio_track_id,
        "a=rtcp-mux",
        "a=rtcp-rsize",
        f"a=rtpmap:{OPUS_PT} opus/48000/2",
        f"a=fmtp:{OPUS_PT} minptime=10;useinbandfec=1",
        f"a=ssrc:{s.audio_ssrc} cname:{s.cname}",
        f"a=ssrc:{s.audio_ssrc} msid:{s.stream_id} {s.audio_track_id}",
        f"m=video {local.candidate[1]} UDP/TLS/RTP/SAVPF {VP8_PT} {RTX_PT}",
        *_transport_lines(local, "actpass"),
        "a=mid:1",
        f"a=extmap:{MID_ID} {MID}",
        "a=sendonly",
        msid + s.video_track_id,
        "a=rtcp-mux",
        "a=rtcp-rsize",
        f"a=rtpmap:{VP8_PT} VP8/90000",
        f"a=rtcp-fb:{VP8_PT} goog-remb",
        f"a=rtcp-fb:{VP8_PT} ccm fir",
        f"a=rtcp-fb:{VP8_PT} nack",
        f"a=rtcp-fb:{VP8_PT} nack pli",
        f"a=rtpmap:{RTX_PT} rtx/90000",
        f"a=fmtp:{RTX_PT} apt={VP8_PT}",
        f"a=ssrc-group:FID {s.video_ssrc} {s.rtx_ssrc}",
        f"a=ssrc:{s.video_ssrc} cname:{s.cname}",
        f"a=ssrc:{s.video_ssrc} msid:{s.stream_id} {s.video_track_id}",
        f"a=ssrc:{s.rtx_ssrc} cname:{s.cname}",
        f"a=ssrc:{s.rtx_ssrc} msid:{s.stream_id} {s.video_track_id}",
    ]
    return "\r\n".join(lines) + "\r\n"


def receive_answer(offer: sdp.SessionDescription, local: LocalParameters) -> str:
    """Receive every sending section with the offered codecs; a=setup:active."""
    lines = [
        "v=0",
        f"o=- {secrets.randbits(62)} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
    ]
    bundle = offer.bundle_mids()
    if bundle:
        lines.append("a=group:BUNDLE " + " ".join(bundle))
    lines.append("a=msid-semantic: WMS")
    for section in offer.media:
        lines += _answer_section(section, local)
    return "\r\n".join(lines) + "\r\n"


def _answer_section(section: sdp.MediaSection, local: LocalParameters) -> list[str]:
    formats = " ".join(section.formats)
    if section.port == 0 or section.kind not in ("audio", "video"):
        # RFC 8829 §5.3.1: a rejected section keeps its kind and mid, port zero.
        lines = [f"m={section.kind} 0 {section.protocol} {formats}"]
        lines.append("c=IN IP4 0.0.0.0")
        return lines + ([f"a=mid:{section.mid}"] if section.mid is not None else [])
    sending = section.direction in ("sendonly", "sendrecv", None)
    lines = [f"m={section.kind} {local.candidate[1]} {section.protocol} {formats}"]
    lines += _transport_lines(local, "active")
    if section.mid is not None:
        lines.append(f"a=mid:{section.mid}")
    for extension in section.extensions:
        lines.append(f"a=extmap:{extension.id} {extension.uri}")
    lines.append("a=recvonly" if sending else "a=inactive")
    lines.append("a=rtcp-mux")
    if section.rtcp_rsize:
        lines.append("a=rtcp-rsize")
    for codec in section.codecs:
        lines += _codec_lines(codec)
    return lines


def _codec_lines(codec: sdp.Codec) -> list[str]:
    rtpmap = f"a=rtpmap:{codec.payload_type} {codec.name}/{codec.clock_rate}"
    if codec.channels:
        rtpmap += f"/{codec.channels}"
    lines = [rtpmap]
    lines += [f"a=rtcp-fb:{codec.payload_type} {fb}" for fb in codec.feedback]
    if codec.parameters:
        parameters = ";".join(f"{k}={v}" for k, v in codec.parameters.items())
        lines.append(f"a=fmtp:{codec.payload_type} {parameters}")
    return lines


def _transport_lines(local: LocalParameters, setup: str) -> list[str]:
    host, port = local.candidate
    return [
        f"c=IN IP4 {host}",
        "a=rtcp:9 IN IP4 0.0.0.0",
        f"a=candidate:1 1 udp 2130706431 {host} {port} typ host generation 0",
        "a=end-of-candidates",
        f"a=ice-ufrag:{local.ufrag}",
        f"a=ice-pwd:{local.pwd}",
        f"a=fingerprint:sha-256 {local.fingerprint}",
        f"a=setup:{setup}",
    ]


def remote_parameters(description: sdp.SessionDescription) -> RemoteParameters:
    """The remote transport from its first live section (RFC 8843 BUNDLE)."""
    live = [m for m in description.media if m.port != 0]
    if not live:
        raise ValueError("the remote description has no live media section")
    first = live[0]
    ufrag, pwd = description.ice_credentials(first)
    fingerprint = description.fingerprint(first)
    if not ufrag or not pwd or fingerprint is None:
        raise ValueError("the remote description lacks ICE credentials or DTLS")
    candidates = tuple(
        (c.host, c.port)
        for c in first.candidates
        if c.component == 1 and c.transport.lower() == "udp" and ":" not in c.host
    )
    return RemoteParameters(
        ufrag, pwd, fingerprint, description.setup_of(first) or "actpass", candidates
    )


def dtls_role(remote_setup: str) -> DtlsRole:
    """Our DTLS role from the remote a=setup (RFC 8842 §5); we answer active."""
    return DtlsRole.SERVER if remote_setup == "active" else DtlsRole.CLIENT


def vp8_payload_types(description: sdp.SessionDescription) -> set[int]:
    """Every payload type the description maps to VP8."""
    return {
        codec.payload_type
        for section in description.media
        if section.kind == "video"
        for codec in section.codecs
        if codec.name.upper() == "VP8"
    }


def parse(text: str) -> sdp.SessionDescription:
    return sdp.parse(text)
