"""Offer/answer for the server side of both peer connections (RFC 8829, JSEP).

Publishing: the peer offers and we answer, receiving one codec per section.
Subscribing: we offer one section per track in our own numbering (payload
types and header extension ids fixed here), and read which the peer accepted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from smeeton.sfu import sdp
from smeeton.sfu.dtls import DtlsRole
from smeeton.sfu.ice import IceCredentials
from smeeton.sfu.track import OutputCodec

AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
VIDEO_ORIENTATION = "urn:3gpp:video-orientation"
MID = "urn:ietf:params:rtp-hdrext:sdes:mid"

# Header extensions we take from publishers, by URI.
RECEIVED_EXTENSIONS = (MID, AUDIO_LEVEL, ABS_SEND_TIME, VIDEO_ORIENTATION)
# The ids subscribers see them under; fixed, so no per-subscriber rewrite.
SENT_EXTENSIONS = {
    "audio": {AUDIO_LEVEL: 1},
    "video": {ABS_SEND_TIME: 2, VIDEO_ORIENTATION: 3},
}
# The payload types subscribers see, whatever the publisher used.
SENT_PAYLOAD_TYPES = {"opus": (111, None), "vp8": (96, 97), "h264": (102, 103)}
# Which video codecs we take from publishers, most wanted first.
VIDEO_PREFERENCE = ("vp8", "h264")
VIDEO_FEEDBACK = ("goog-remb", "ccm fir", "nack", "nack pli")
# RFC 6184 §8.1: the profile every H.264 decoder in a browser handles.
H264_BASELINE_PROFILES = ("42e01f", "42001f", "42c01f")


class NegotiationError(ValueError):
    """An offer or answer we cannot work with; the message says why."""


@dataclass
class PublishedSection:
    """What a publisher's accepted section carries, for routing its packets."""

    mid: str
    kind: str
    codec: OutputCodec
    payload_type: int
    rtx_payload_type: int | None
    ssrc: int | None
    rtx_ssrc: int | None
    extension_ids: dict[str, int]
    rids: list[str] = field(default_factory=list)


@dataclass
class TransportParameters:
    """Our side of the transport, the same in every section (RFC 8843 BUNDLE)."""

    credentials: IceCredentials
    fingerprint: str
    candidates: list[tuple[str, int]]


@dataclass
class RemoteTransport:
    """The peer's side of the transport, read from its description."""

    credentials: IceCredentials
    fingerprint: tuple[str, str]
    role: DtlsRole  # our role, derived from the peer's a=setup


def parse(text: str) -> sdp.SessionDescription:
    """Parse SDP from the wire, as a negotiation error if malformed."""
    try:
        return sdp.parse(text)
    except sdp.SdpError as exc:
        raise NegotiationError(f"malformed SDP: {exc}") from None


def remote_transport(
    description: sdp.SessionDescription, is_answer: bool
) -> RemoteTransport:
    """The peer's ICE credentials, fingerprint and our resulting DTLS role."""
    sections = [m for m in description.media if m.port != 0] or description.media
    if not sections:
        raise NegotiationError("the description has no media sections")
    first = sections[0]
    ufrag, pwd = description.ice_credentials(first)
    if not ufrag or not pwd:
        raise NegotiationError("the description has no ICE credentials")
    fingerprint = description.fingerprint(first)
    if fingerprint is None:
        raise NegotiationError("the description has no DTLS fingerprint")
    if not first.rtcp_mux:
        raise NegotiationError("RTCP multiplexing (a=rtcp-mux) is required")
    setup = description.setup_of(first) or "actpass"
    # RFC 8842 §5: in an offer actpass or active lets us be passive (the
    # DTLS server); an offer of passive makes us the client. In an answer
    # to our actpass offer, the peer's choice decides.
    if setup == "passive":
        role = DtlsRole.CLIENT
    elif setup in ("active", "actpass"):
        role = DtlsRole.SERVER
    else:
        raise NegotiationError(f"unusable a=setup:{setup}")
    if is_answer and setup == "actpass":
        raise NegotiationError("an answer must not say a=setup:actpass")
    return RemoteTransport(IceCredentials(ufrag, pwd), fingerprint, role)


def answer_publish(
    offer: sdp.SessionDescription,
    local: TransportParameters,
    role: DtlsRole,
) -> tuple[sdp.SessionDescription, list[PublishedSection]]:
    """Answer a publisher's offer: receive audio and video, refuse the rest."""
    answer = _session(local)
    answer.origin = f"- {secrets.randbits(62)} 1 IN IP4 0.0.0.0"
    published: list[PublishedSection] = []
    bundle: list[str] = []
    for offered in offer.media:
        section, accepted = _answer_section(offered, local, role)
        answer.media.append(section)
        if accepted is not None:
            published.append(accepted)
            bundle.append(section.mid or "")
    if bundle:
        answer.groups.append(("BUNDLE", bundle))
    return answer, published


def _answer_section(
    offered: sdp.MediaSection, local: TransportParameters, role: DtlsRole
) -> tuple[sdp.MediaSection, PublishedSection | None]:
    sending = offered.direction in ("sendonly", "sendrecv", None)
    codec = _choose_codec(offered) if sending and offered.port != 0 else None
    if offered.kind not in ("audio", "video") or codec is None:
        return _rejected(offered), None

    rtx = _rtx_for(offered, codec.payload_type)
    codecs = [codec] + ([rtx] if rtx else [])
    feedback = [f for f in codec.feedback if f in VIDEO_FEEDBACK]
    extensions = [e for e in offered.extensions if e.uri in RECEIVED_EXTENSIONS]
    section = _section(offered.kind, offered.mid or "", local, role)
    section.direction = "recvonly"
    section.codecs = [
        sdp.Codec(
            c.payload_type,
            c.name,
            c.clock_rate,
            c.channels,
            dict(c.parameters),
            list(feedback) if c is codec else [],
        )
        for c in codecs
    ]
    section.formats = [str(c.payload_type) for c in codecs]
    section.extensions = [sdp.HeaderExtension(e.id, e.uri) for e in extensions]
    section.rtcp_rsize = offered.rtcp_rsize
    return section, _published(offered, codec, rtx)


def _published(
    offered: sdp.MediaSection, codec: sdp.Codec, rtx: sdp.Codec | None
) -> PublishedSection:
    ssrc, rtx_ssrc = _media_ssrcs(offered)
    name = codec.name.lower()
    sent_pt, sent_rtx = SENT_PAYLOAD_TYPES[name]
    parameters = dict(codec.parameters)
    if name == "vp8":
        parameters = {}
    output = OutputCodec(
        name=codec.name,
        payload_type=sent_pt,
        clock_rate=codec.clock_rate,
        channels=codec.channels,
        parameters=parameters,
        feedback=VIDEO_FEEDBACK if offered.kind == "video" else (),
        rtx_payload_type=sent_rtx if offered.kind == "video" else None,
    )
    return PublishedSection(
        mid=offered.mid or "",
        kind=offered.kind,
        codec=output,
        payload_type=codec.payload_type,
        rtx_payload_type=rtx.payload_type if rtx else None,
        ssrc=ssrc,
        rtx_ssrc=rtx_ssrc if rtx else None,
        extension_ids={e.uri: e.id for e in offered.extensions},
        rids=[r.id for r in offered.rids if r.direction == "send"],
    )


def _choose_codec(offered: sdp.MediaSection) -> sdp.Codec | None:
    if offered.kind == "audio":
        return next((c for c in offered.codecs if c.name.lower() == "opus"), None)
    for wanted in VIDEO_PREFERENCE:
        candidates = [c for c in offered.codecs if c.name.lower() == wanted]
        if wanted == "h264":
            candidates = [c for c in candidates if _usable_h264(c)]
            candidates.sort(key=_h264_rank)
        if candidates:
            return candidates[0]
    return None


def _usable_h264(codec: sdp.Codec) -> bool:
    # RFC 6184 §5.8: browsers packetize in mode 1; mode 0 is single NAL only.
    return codec.parameters.get("packetization-mode", "0") == "1"


def _h264_rank(codec: sdp.Codec) -> int:
    profile = codec.parameters.get("profile-level-id", "").lower()
    return 0 if profile in H264_BASELINE_PROFILES else 1


def _rtx_for(offered: sdp.MediaSection, payload_type: int) -> sdp.Codec | None:
    for codec in offered.codecs:
        if codec.name.lower() == "rtx" and codec.parameters.get("apt") == str(
            payload_type
        ):
            return codec
    return None


def _media_ssrcs(offered: sdp.MediaSection) -> tuple[int | None, int | None]:
    """The media SSRC and its RTX SSRC, from a=ssrc-group:FID or a=ssrc."""
    for group in offered.ssrc_groups:
        if group.semantics == "FID" and len(group.ssrcs) == 2:
            return group.ssrcs[0], group.ssrcs[1]
    if offered.ssrcs:
        return next(iter(offered.ssrcs)), None
    return None, None


def _rejected(offered: sdp.MediaSection) -> sdp.MediaSection:
    # RFC 8829 §5.3.1: a rejected section keeps its kind and mid, port zero.
    section = sdp.MediaSection(
        kind=offered.kind,
        port=0,
        protocol=offered.protocol,
        formats=list(offered.formats) or ["0"],
    )
    section.mid = offered.mid
    section.direction = "inactive"
    section.connection = "IN IP4 0.0.0.0"
    if offered.kind == "application":
        section.sctp_port = offered.sctp_port
    else:
        section.codecs = list(offered.codecs[:1])
        section.formats = [str(c.payload_type) for c in section.codecs] or ["0"]
    return section


def _session(local: TransportParameters) -> sdp.SessionDescription:
    description = sdp.SessionDescription()
    description.ice_lite = True
    description.msid_semantic = " WMS *"
    return description


def _section(
    kind: str, mid: str, local: TransportParameters, role: DtlsRole | None
) -> sdp.MediaSection:
    port = local.candidates[0][1] if local.candidates else 9
    host = local.candidates[0][0] if local.candidates else "0.0.0.0"
    section = sdp.MediaSection(
        kind=kind, port=port, protocol="UDP/TLS/RTP/SAVPF", formats=[]
    )
    section.connection = f"IN IP4 {host}" if ":" not in host else f"IN IP6 {host}"
    section.mid = mid
    section.rtcp_mux = True
    section.ice_ufrag = local.credentials.ufrag
    section.ice_pwd = local.credentials.pwd
    section.fingerprints = [("sha-256", local.fingerprint)]
    if role is None:
        section.setup = "actpass"
    else:
        section.setup = "active" if role is DtlsRole.CLIENT else "passive"
    for index, (address, candidate_port) in enumerate(local.candidates):
        section.candidates.append(
            sdp.Candidate(
                foundation=str(index + 1),
                component=1,
                transport="udp",
                # RFC 8445 §5.1.2.1: host type preference 126, then order.
                priority=(126 << 24) | ((65535 - index) << 8) | 255,
                host=address,
                port=candidate_port,
                type="host",
            )
        )
    section.end_of_candidates = True
    return section


@dataclass
class OfferedTrack:
    """One section of a subscriber offer: a track, or an inactive slot."""

    mid: str
    kind: str
    codec: OutputCodec | None
    ssrc: int | None = None
    rtx_ssrc: int | None = None
    cname: str = ""
    stream_id: str = ""
    track_id: str = ""


def offer_subscribe(
    slots: list[OfferedTrack], local: TransportParameters, version: int
) -> sdp.SessionDescription:
    """Our offer to a subscriber: one sendonly section per track, in slot order."""
    offer = _session(local)
    offer.origin = f"- {_session_id(local)} {version} IN IP4 0.0.0.0"
    for slot in slots:
        offer.media.append(_offer_section(slot, local))
    offer.groups.append(("BUNDLE", [slot.mid for slot in slots]))
    return offer


def _session_id(local: TransportParameters) -> int:
    # Stable for the life of the transport, as RFC 8866 §5.2 wants.
    return int.from_bytes(local.credentials.ufrag.encode()[:7], "big")


def _offer_section(slot: OfferedTrack, local: TransportParameters) -> sdp.MediaSection:
    section = _section(slot.kind, slot.mid, local, None)
    codec = slot.codec or _placeholder_codec(slot.kind)
    section.codecs = [
        sdp.Codec(
            codec.payload_type,
            codec.name,
            codec.clock_rate,
            codec.channels,
            dict(codec.parameters),
            list(codec.feedback),
        )
    ]
    if codec.rtx_payload_type is not None:
        section.codecs.append(
            sdp.Codec(
                codec.rtx_payload_type,
                "rtx",
                codec.clock_rate,
                None,
                {"apt": str(codec.payload_type)},
            )
        )
    section.formats = [str(c.payload_type) for c in section.codecs]
    section.extensions = [
        sdp.HeaderExtension(i, uri) for uri, i in SENT_EXTENSIONS[slot.kind].items()
    ]
    section.rtcp_rsize = True
    if slot.codec is None or slot.ssrc is None:
        section.direction = "inactive"
        return section
    section.direction = "sendonly"
    msid = f"{slot.stream_id} {slot.track_id}"
    section.msid = msid
    section.ssrcs[slot.ssrc] = {"cname": slot.cname, "msid": msid}
    if slot.rtx_ssrc is not None and codec.rtx_payload_type is not None:
        section.ssrcs[slot.rtx_ssrc] = {"cname": slot.cname, "msid": msid}
        section.ssrc_groups.append(sdp.SsrcGroup("FID", [slot.ssrc, slot.rtx_ssrc]))
    return section


def _placeholder_codec(kind: str) -> OutputCodec:
    if kind == "audio":
        return OutputCodec("opus", 111, 48000, 2)
    return OutputCodec("VP8", 96, 90000)


@dataclass
class AcceptedTrack:
    """What a subscriber's answer says of one of our sections."""

    mid: str
    receiving: bool
    rtx: bool


def read_subscribe_answer(
    answer: sdp.SessionDescription, slots: list[OfferedTrack]
) -> list[AcceptedTrack]:
    """Which offered tracks the subscriber will receive, and whether with RTX."""
    by_mid = {m.mid: m for m in answer.media}
    accepted = []
    for slot in slots:
        section = by_mid.get(slot.mid)
        if section is None:
            raise NegotiationError(f"the answer has no section for mid {slot.mid}")
        payload_types = {c.payload_type for c in section.codecs}
        receiving = (
            slot.codec is not None
            and section.port != 0
            and section.direction in ("recvonly", "sendrecv")
            and slot.codec.payload_type in payload_types
        )
        rtx = (
            receiving
            and slot.codec is not None
            and slot.codec.rtx_payload_type in payload_types
        )
        accepted.append(AcceptedTrack(slot.mid, receiving, rtx))
    return accepted
