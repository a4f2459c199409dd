"""An SDP offer or answer (RFC 8866) as WebRTC peers write it, held as dataclasses.

One module past 800 lines on purpose: the grammar is one table of attribute
handlers with the dataclasses they fill and the writer that mirrors them,
and split apart each half would have to be read beside the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_BYTES = 128 * 1024
MAX_LINE_CHARS = 4096
MAX_MEDIA_SECTIONS = 128

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
SETUP_ROLES = ("actpass", "active", "passive", "holdconn")

# C0 and C1 controls and lone surrogates: nothing a peer writes legitimately,
# and a CR or LF smuggled into a value would forge extra lines on the way out.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE = re.compile(r"([a-z])=(.*)")
# RFC 8866 section 9, "token".
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")
# RFC 8839 section 5.4, "ice-char".
_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]+")
# RFC 8122 section 5, hash value as colon-separated upper or lower hex pairs.
_FINGERPRINT = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*")
# RFC 8851 section 10, "rid-id".
_RID_ID = re.compile(r"[A-Za-z0-9_-]+")

# RFC 3551 section 6: audio payload types usable without an a=rtpmap line.
_STATIC_CODECS = {0: ("PCMU", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000)}


class SdpError(ValueError):
    """Malformed SDP; the message names the line number and the problem."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(problem if line is None else f"line {line}: {problem}")


@dataclass
class Codec:
    """One RTP payload type: its a=rtpmap, a=fmtp and a=rtcp-fb lines together."""

    payload_type: int
    name: str
    clock_rate: int
    channels: int | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    feedback: list[str] = field(default_factory=list)

    @property
    def apt(self) -> int | None:
        """The payload type this retransmission (rtx) codec repairs, if any."""
        value = self.parameters.get("apt", "")
        return int(value) if value.isascii() and value.isdigit() else None


@dataclass
class HeaderExtension:
    """An RTP header extension mapping, a=extmap (RFC 8285)."""

    id: int
    uri: str
    direction: str | None = None
    attributes: str = ""


@dataclass
class SsrcGroup:
    """An a=ssrc-group line (RFC 5576): SSRCs bound by FID, SIM, FEC-FR..."""

    semantics: str
    ssrcs: list[int]


@dataclass
class Rid:
    """An a=rid line (RFC 8851) naming one RTP stream of a section."""

    id: str
    direction: str
    params: str = ""


@dataclass
class Candidate:
    """An ICE candidate as carried in a=candidate (RFC 8839 section 5.1).

    extras holds the extension attributes other than raddr, rport and
    tcptype, one "name value" string per pair, in the order written.
    """

    foundation: str
    component: int
    transport: str
    priority: int
    host: str
    port: int
    type: str
    related_address: str | None = None
    related_port: int | None = None
    tcp_type: str | None = None
    extras: list[str] = field(default_factory=list)

    @classmethod
    def from_sdp(cls, value: str) -> Candidate:
        """Read the value after "a=candidate:" (a leading "candidate:" is allowed).

        The prefix is accepted because browsers hand trickled candidates over
        as "candidate:..." strings.
        """
        tokens = _words(value.removeprefix("candidate:"))
        if len(tokens) < 8 or tokens[6] != "typ":
            raise SdpError(
                "a=candidate needs "
                "'foundation component transport priority address port typ type'"
            )
        candidate = cls(
            foundation=tokens[0],
            component=_number(tokens[1], "candidate component", 1, 256),
            transport=tokens[2],
            priority=_number(tokens[3], "candidate priority", 0, 2**32 - 1),
            host=tokens[4],
            port=_number(tokens[5], "candidate port", 0, 65535),
            type=tokens[7],
        )
        pairs = tokens[8:]
        if len(pairs) % 2:
            raise SdpError(f"candidate attribute {pairs[-1][:40]!r} has no value")
        for name, item in zip(pairs[::2], pairs[1::2], strict=True):
            candidate._take(name, item)
        return candidate

    def _take(self, name: str, value: str) -> None:
        if name == "raddr":
            self.related_address = value
        elif name == "rport":
            self.related_port = _number(value, "candidate rport", 0, 65535)
        elif name == "tcptype":
            self.tcp_type = value
        else:
            self.extras.append(f"{name} {value}")

    def to_sdp(self) -> str:
        """Write the value that follows "a=candidate:"."""
        parts = [
            self.foundation,
            str(self.component),
            self.transport,
            str(self.priority),
            self.host,
            str(self.port),
            "typ",
            self.type,
        ]
        if self.related_address is not None:
            parts += ["raddr", self.related_address]
        if self.related_port is not None:
            parts += ["rport", str(self.related_port)]
        if self.tcp_type is not None:
            parts += ["tcptype", self.tcp_type]
        parts.extend(self.extras)
        return " ".join(parts)


@dataclass
class MediaSection:
    """One m= section and everything written under it."""

    kind: str
    port: int
    protocol: str
    formats: list[str]
    connection: str | None = None
    bandwidths: list[str] = field(default_factory=list)
    mid: str | None = None
    direction: str | None = None
    msid: str | None = None
    codecs: list[Codec] = field(default_factory=list)
    extensions: list[HeaderExtension] = field(default_factory=list)
    ssrcs: dict[int, dict[str, str]] = field(default_factory=dict)
    ssrc_groups: list[SsrcGroup] = field(default_factory=list)
    rids: list[Rid] = field(default_factory=list)
    simulcast: str | None = None
    rtcp_mux: bool = False
    rtcp_mux_only: bool = False
    rtcp_rsize: bool = False
    rtcp: str | None = None
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: str | None = None
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    setup: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False
    sctp_port: int | None = None
    max_message_size: int | None = None
    extmap_allow_mixed: bool = False
    other: list[str] = field(default_factory=list)

    def codec(self, payload_type: int) -> Codec | None:
        """The codec with this payload type, or None."""
        return next((c for c in self.codecs if c.payload_type == payload_type), None)

    def extension_id(self, uri: str) -> int | None:
        """The id the header extension with this URI is mapped to, or None."""
        return next((e.id for e in self.extensions if e.uri == uri), None)

    def rtx_payload_type(self, payload_type: int) -> int | None:
        """The payload type of the rtx codec repairing this one, or None."""
        return next(
            (
                c.payload_type
                for c in self.codecs
                if c.name.lower() == "rtx" and c.apt == payload_type
            ),
            None,
        )


@dataclass
class SessionDescription:
    """A whole offer or answer: session-level lines and the media sections."""

    origin: str = "- 0 0 IN IP4 0.0.0.0"
    session_name: str = "-"
    timing: str = "0 0"
    groups: list[tuple[str, list[str]]] = field(default_factory=list)
    ice_lite: bool = False
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: str | None = None
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    setup: str | None = None
    msid_semantic: str | None = None
    extmap_allow_mixed: bool = False
    connection: str | None = None
    other: list[str] = field(default_factory=list)
    media: list[MediaSection] = field(default_factory=list)
    bandwidths: list[str] = field(default_factory=list)

    def bundle_mids(self) -> list[str]:
        """The mids of the first BUNDLE group (RFC 8843), or [] without one."""
        return next((mids for name, mids in self.groups if name == "BUNDLE"), [])

    def ice_credentials(self, section: MediaSection) -> tuple[str | None, str | None]:
        """The section's ICE ufrag and pwd, each falling back to the session's."""
        return (
            section.ice_ufrag if section.ice_ufrag is not None else self.ice_ufrag,
            section.ice_pwd if section.ice_pwd is not None else self.ice_pwd,
        )

    def fingerprints_of(self, section: MediaSection) -> list[tuple[str, str]]:
        """The section's DTLS fingerprints, or the session's when it has none."""
        return section.fingerprints or self.fingerprints

    def fingerprint(self, section: MediaSection) -> tuple[str, str] | None:
        """The first DTLS fingerprint that applies to the section, or None."""
        return next(iter(self.fingerprints_of(section)), None)

    def setup_of(self, section: MediaSection) -> str | None:
        """The section's DTLS role (a=setup), falling back to the session's."""
        return section.setup if section.setup is not None else self.setup


# --- small value readers shared by the line handlers -------------------------


def _number(text: str, what: str, low: int, high: int) -> int:
    # isdigit() alone admits other scripts' digits, which int() would accept.
    if not (text.isascii() and text.isdigit()):
        raise SdpError(f"{what} {text[:40]!r} is not a number")
    if len(text.lstrip("0")) > len(str(high)):
        raise SdpError(f"{what} {text[:40]} is outside {low}..{high}")
    value = int(text)
    if not low <= value <= high:
        raise SdpError(f"{what} {value} is outside {low}..{high}")
    return value


def _words(text: str) -> list[str]:
    # Only the space separates SDP fields; str.split() would also cut at
    # no-break spaces and other Unicode blanks.
    return [word for word in text.split(" ") if word]


def _first_word(text: str) -> tuple[str, str]:
    head, _, rest = text.strip(" ").partition(" ")
    return head, rest.strip(" ")


def _payload_type(text: str) -> int:
    return _number(text, "payload type", 0, 127)


def _required(value: str | None, name: str) -> str:
    if value is None or not value.strip(" "):
        raise SdpError(f"a={name} needs a value")
    return value


def _once(holder: Any, attribute: str, value: object, name: str) -> None:
    if getattr(holder, attribute) is not None:
        raise SdpError(f"a={name} appears twice")
    setattr(holder, attribute, value)


def _carries_rtp(protocol: str) -> bool:
    # RFC 8866 section 5.14: under RTP profiles the formats are payload types.
    return "RTP/" in protocol


# --- attribute handlers ------------------------------------------------------
# Each takes the session or media section it writes into and the text after
# "name:" (None when the line had no colon).  Those shared by both levels take
# anything with the same field names.

Handler = Callable[[Any, str | None], None]


def _flag(attribute: str, name: str) -> Handler:
    def handle(holder: Any, value: str | None) -> None:
        if value is not None:
            raise SdpError(f"a={name} takes no value")
        setattr(holder, attribute, True)

    return handle


def _direction(name: str) -> Handler:
    def handle(section: MediaSection, value: str | None) -> None:
        if value is not None:
            raise SdpError(f"a={name} takes no value")
        if section.direction is not None:
            raise SdpError(f"a={name} after a={section.direction}")
        section.direction = name

    return handle


def _ice_credential(attribute: str, name: str) -> Handler:
    def handle(holder: Any, value: str | None) -> None:
        text = _required(value, name).strip(" ")
        if not _ICE_CHARS.fullmatch(text):
            raise SdpError(f"a={name} has characters outside RFC 8839 ice-char")
        _once(holder, attribute, text, name)

    return handle


def _ice_options(holder: Any, value: str | None) -> None:
    text = _required(value, "ice-options").strip(" ")
    _once(holder, "ice_options", text, "ice-options")


def _fingerprint(holder: Any, value: str | None) -> None:
    parts = _words(_required(value, "fingerprint"))
    if len(parts) != 2 or not _FINGERPRINT.fullmatch(parts[1]):
        raise SdpError("a=fingerprint needs 'algorithm XX:XX:...'")
    holder.fingerprints.append((parts[0].lower(), parts[1].upper()))


def _setup(holder: Any, value: str | None) -> None:
    role = _required(value, "setup").strip(" ")
    if role not in SETUP_ROLES:
        raise SdpError(f"a=setup role {role[:40]!r} is not one of {SETUP_ROLES}")
    _once(holder, "setup", role, "setup")


def _group(description: SessionDescription, value: str | None) -> None:
    semantics, *mids = _words(_required(value, "group"))
    description.groups.append((semantics, mids))


def _msid_semantic(description: SessionDescription, value: str | None) -> None:
    # Kept raw: Chromium writes " WMS <id>" with a space, others "WMS *".
    text = _required(value, "msid-semantic")
    _once(description, "msid_semantic", text, "msid-semantic")


def _mid(section: MediaSection, value: str | None) -> None:
    mid = _required(value, "mid").strip(" ")
    # RFC 5888 section 4: identification-tag is a token.
    if not _TOKEN.fullmatch(mid):
        raise SdpError(f"a=mid {mid[:40]!r} is not a token")
    _once(section, "mid", mid, "mid")


def _msid(section: MediaSection, value: str | None) -> None:
    text = _required(value, "msid")
    # RFC 8830 allows several a=msid; the first is the one WebRTC acts on.
    if section.msid is None:
        section.msid = text
    else:
        section.other.append(f"msid:{text}")


def _extmap(section: MediaSection, value: str | None) -> None:
    head, rest = _first_word(_required(value, "extmap"))
    id_text, slash, direction = head.partition("/")
    # RFC 8285 section 5: 1-14 for one-byte headers, up to 255 for two-byte.
    ext_id = _number(id_text, "extmap id", 1, 255)
    if slash and direction not in DIRECTIONS:
        raise SdpError(f"extmap direction {direction[:40]!r} is not valid")
    uri, attributes = _first_word(rest)
    if not uri:
        raise SdpError("a=extmap needs a URI")
    # The same URI may legitimately repeat (RFC 6904 encrypt); an id may not.
    if any(e.id == ext_id for e in section.extensions):
        raise SdpError(f"extmap id {ext_id} is mapped twice")
    section.extensions.append(
        HeaderExtension(ext_id, uri, direction or None, attributes)
    )


def _ssrc(section: MediaSection, value: str | None) -> None:
    head, rest = _first_word(_required(value, "ssrc"))
    ssrc = _number(head, "ssrc", 0, 2**32 - 1)
    entry = section.ssrcs.setdefault(ssrc, {})
    if not rest:
        return
    name, _, item = rest.partition(":")
    if not name:
        raise SdpError("a=ssrc attribute has no name")
    # RFC 5576 section 4.1: "attribute[:value]" about this SSRC.
    entry[name] = item


def _ssrc_group(section: MediaSection, value: str | None) -> None:
    semantics, *ssrcs = _words(_required(value, "ssrc-group"))
    section.ssrc_groups.append(
        SsrcGroup(semantics, [_number(s, "ssrc", 0, 2**32 - 1) for s in ssrcs])
    )


def _rid(section: MediaSection, value: str | None) -> None:
    rid_id, rest = _first_word(_required(value, "rid"))
    direction, params = _first_word(rest)
    if not _RID_ID.fullmatch(rid_id):
        raise SdpError(f"a=rid id {rid_id[:40]!r} is not an RFC 8851 rid-id")
    if direction not in ("send", "recv"):
        raise SdpError(f"a=rid direction {direction[:40]!r} is not send or recv")
    section.rids.append(Rid(rid_id, direction, params))


def _simulcast(section: MediaSection, value: str | None) -> None:
    # RFC 8853 section 5.1: the stream lists are kept raw for negotiation to read.
    text = _required(value, "simulcast").strip(" ")
    _once(section, "simulcast", text, "simulcast")


def _rtcp(section: MediaSection, value: str | None) -> None:
    _once(section, "rtcp", _required(value, "rtcp").strip(" "), "rtcp")


def _candidate(section: MediaSection, value: str | None) -> None:
    section.candidates.append(Candidate.from_sdp(_required(value, "candidate")))


def _sctp_port(section: MediaSection, value: str | None) -> None:
    port = _number(_required(value, "sctp-port").strip(" "), "sctp-port", 0, 65535)
    _once(section, "sctp_port", port, "sctp-port")


def _max_message_size(section: MediaSection, value: str | None) -> None:
    text = _required(value, "max-message-size").strip(" ")
    size = _number(text, "max-message-size", 0, 2**64 - 1)
    _once(section, "max_message_size", size, "max-message-size")


_SHARED_ATTRIBUTES: dict[str, Handler] = {
    "ice-ufrag": _ice_credential("ice_ufrag", "ice-ufrag"),
    "ice-pwd": _ice_credential("ice_pwd", "ice-pwd"),
    "ice-options": _ice_options,
    "fingerprint": _fingerprint,
    "setup": _setup,
    "extmap-allow-mixed": _flag("extmap_allow_mixed", "extmap-allow-mixed"),
}

_SESSION_ATTRIBUTES: dict[str, Handler] = {
    **_SHARED_ATTRIBUTES,
    "group": _group,
    "ice-lite": _flag("ice_lite", "ice-lite"),
    "msid-semantic": _msid_semantic,
}

_MEDIA_ATTRIBUTES: dict[str, Handler] = {
    **_SHARED_ATTRIBUTES,
    **{name: _direction(name) for name in DIRECTIONS},
    "mid": _mid,
    "msid": _msid,
    "extmap": _extmap,
    "ssrc": _ssrc,
    "ssrc-group": _ssrc_group,
    "rid": _rid,
    "simulcast": _simulcast,
    "rtcp": _rtcp,
    "rtcp-mux": _flag("rtcp_mux", "rtcp-mux"),
    "rtcp-mux-only": _flag("rtcp_mux_only", "rtcp-mux-only"),
    "rtcp-rsize": _flag("rtcp_rsize", "rtcp-rsize"),
    "candidate": _candidate,
    "end-of-candidates": _flag("end_of_candidates", "end-of-candidates"),
    "sctp-port": _sctp_port,
    "max-message-size": _max_message_size,
}

# Defined by their RFCs for media level only, so one before the first m= line
# means the text is not the description it claims to be.  Session-level
# a=extmap (RFC 8285), a=end-of-candidates (RFC 8840) and directions are legal
# and land in SessionDescription.other instead.
_MEDIA_ONLY = frozenset(
    {
        "mid",
        "msid",
        "rtpmap",
        "fmtp",
        "rtcp-fb",
        "ssrc",
        "ssrc-group",
        "rid",
        "simulcast",
        "rtcp",
        "rtcp-mux",
        "rtcp-mux-only",
        "rtcp-rsize",
        "candidate",
        "sctp-port",
        "max-message-size",
    }
)


# --- codec lines: gathered per section, joined when the section ends ---------


@dataclass
class _CodecLines:
    """a=rtpmap, a=fmtp and a=rtcp-fb of one section, which may come in any order."""

    rtpmaps: dict[int, Codec] = field(default_factory=dict)
    parameters: dict[int, dict[str, str]] = field(default_factory=dict)
    feedback: dict[int, list[str]] = field(default_factory=dict)
    feedback_for_all: list[str] = field(default_factory=list)

    def codecs(self, formats: list[str]) -> list[Codec]:
        """Codecs in m= line order; formats without an rtpmap or static entry drop."""
        result = []
        for text in formats:
            payload_type = int(text)
            codec = self.rtpmaps.get(payload_type) or _static_codec(payload_type)
            if codec is None:
                continue
            codec.parameters = self.parameters.get(payload_type, {})
            codec.feedback = self.feedback.get(payload_type, []) + self.feedback_for_all
            result.append(codec)
        return result


def _static_codec(payload_type: int) -> Codec | None:
    entry = _STATIC_CODECS.get(payload_type)
    return None if entry is None else Codec(payload_type, *entry)


def _rtpmap(lines: _CodecLines, value: str | None) -> None:
    pt_text, encoding = _first_word(_required(value, "rtpmap"))
    payload_type = _payload_type(pt_text)
    parts = encoding.split("/")
    if len(parts) not in (2, 3) or not parts[0]:
        raise SdpError("a=rtpmap needs 'payload-type name/clock-rate[/channels]'")
    clock_rate = _number(parts[1], "clock rate", 1, 2**32 - 1)
    channels = _number(parts[2], "channel count", 1, 255) if len(parts) == 3 else None
    if payload_type in lines.rtpmaps:
        raise SdpError(f"payload type {payload_type} has two a=rtpmap lines")
    lines.rtpmaps[payload_type] = Codec(payload_type, parts[0], clock_rate, channels)


def _fmtp(lines: _CodecLines, value: str | None) -> None:
    pt_text, text = _first_word(_required(value, "fmtp"))
    parameters = lines.parameters.setdefault(_payload_type(pt_text), {})
    for token in text.split(";"):
        name, _, item = token.partition("=")
        if name.strip(" "):
            parameters[name.strip(" ")] = item.strip(" ")
    apt = parameters.get("apt")
    if apt is not None:
        _payload_type(apt)


def _rtcp_fb(lines: _CodecLines, value: str | None) -> None:
    pt_text, kind = _first_word(_required(value, "rtcp-fb"))
    if not kind:
        raise SdpError("a=rtcp-fb needs a feedback type")
    # RFC 4585 section 4.2: "*" applies the feedback to every payload type.
    if pt_text == "*":
        lines.feedback_for_all.append(kind)
    else:
        lines.feedback.setdefault(_payload_type(pt_text), []).append(kind)


_CODEC_ATTRIBUTES: dict[str, Callable[[_CodecLines, str | None], None]] = {
    "rtpmap": _rtpmap,
    "fmtp": _fmtp,
    "rtcp-fb": _rtcp_fb,
}


# --- the line reader ---------------------------------------------------------


class _Reader:
    """Parse state: the description so far and the section being read."""

    def __init__(self) -> None:
        self.description = SessionDescription()
        self.section: MediaSection | None = None
        self.codec_lines = _CodecLines()
        self.seen: set[str] = set()

    def finish_section(self) -> None:
        if self.section is not None and _carries_rtp(self.section.protocol):
            self.section.codecs = self.codec_lines.codecs(self.section.formats)
        self.codec_lines = _CodecLines()

    @property
    def holder(self) -> SessionDescription | MediaSection:
        """Where c= and b= lines go: the open section, else the session."""
        return self.section if self.section is not None else self.description

    def session_only(self, kind: str) -> None:
        if self.section is not None:
            raise SdpError(f"{kind}= belongs before the first m= line")
        if kind in self.seen:
            raise SdpError(f"{kind}= appears twice")
        self.seen.add(kind)


def _on_origin(reader: _Reader, value: str) -> None:
    reader.session_only("o")
    reader.description.origin = value


def _on_session_name(reader: _Reader, value: str) -> None:
    reader.session_only("s")
    reader.description.session_name = value


def _on_timing(reader: _Reader, value: str) -> None:
    if reader.section is not None:
        raise SdpError("t= belongs before the first m= line")
    # RFC 8866 section 5.9 allows several t= lines; WebRTC only ever uses "0 0".
    if "t" not in reader.seen:
        reader.seen.add("t")
        reader.description.timing = value


def _on_connection(reader: _Reader, value: str) -> None:
    if not value.strip(" "):
        raise SdpError("c= needs a value")
    if reader.holder.connection is not None:
        raise SdpError("c= appears twice")
    reader.holder.connection = value


def _on_bandwidth(reader: _Reader, value: str) -> None:
    reader.holder.bandwidths.append(value)


def _on_media(reader: _Reader, value: str) -> None:
    if len(reader.description.media) >= MAX_MEDIA_SECTIONS:
        raise SdpError(f"more than {MAX_MEDIA_SECTIONS} m= sections")
    reader.finish_section()
    reader.section = _media_line(value)
    reader.description.media.append(reader.section)


def _media_line(value: str) -> MediaSection:
    parts = _words(value)
    # RFC 8866 section 5.14: media port proto 1*fmt.
    if len(parts) < 4:
        raise SdpError("m= needs 'media port protocol format...'")
    if "/" in parts[1]:
        raise SdpError("m= port ranges are not used by WebRTC")
    port = _number(parts[1], "port", 0, 65535)
    formats = parts[3:]
    if _carries_rtp(parts[2]):
        payload_types = [_payload_type(f) for f in formats]
        if len(set(payload_types)) != len(payload_types):
            raise SdpError("m= lists a payload type twice")
    return MediaSection(kind=parts[0], port=port, protocol=parts[2], formats=formats)


def _on_attribute(reader: _Reader, value: str) -> None:
    name, colon, rest = value.partition(":")
    if not name:
        raise SdpError("a= line has no attribute name")
    item = rest if colon else None
    if reader.section is None:
        _session_attribute(reader.description, name, item, value)
    else:
        _media_attribute(reader, name, item, value)


def _session_attribute(
    description: SessionDescription, name: str, value: str | None, raw: str
) -> None:
    handler = _SESSION_ATTRIBUTES.get(name)
    if handler is not None:
        handler(description, value)
    elif name in _MEDIA_ONLY:
        raise SdpError(f"a={name} belongs inside an m= section")
    else:
        description.other.append(raw)


def _media_attribute(reader: _Reader, name: str, value: str | None, raw: str) -> None:
    section = reader.section
    codec_handler = _CODEC_ATTRIBUTES.get(name)
    if codec_handler is not None and _carries_rtp(section.protocol):
        codec_handler(reader.codec_lines, value)
        return
    handler = _MEDIA_ATTRIBUTES.get(name)
    if handler is not None:
        handler(section, value)
    else:
        section.other.append(raw)


def _ignore(reader: _Reader, value: str) -> None:
    """Lines WebRTC has no use for: i=, u=, e=, p=, k=, r=, z=."""


_LINE_HANDLERS: dict[str, Callable[[_Reader, str], None]] = {
    "o": _on_origin,
    "s": _on_session_name,
    "t": _on_timing,
    "c": _on_connection,
    "b": _on_bandwidth,
    "m": _on_media,
    "a": _on_attribute,
    **{kind: _ignore for kind in "iuepkrz"},
}


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with their 1-based numbers, CRLF or LF ended, blank ones skipped."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if len(line) > MAX_LINE_CHARS:
            raise SdpError(f"longer than {MAX_LINE_CHARS} characters", number)
        control = _CONTROL.search(line)
        if control:
            code = ord(control.group())
            raise SdpError(f"control character U+{code:04X}", number)
        if line:
            yield number, line


def _check_size(text: str) -> None:
    if len(text) <= MAX_TEXT_BYTES:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size <= MAX_TEXT_BYTES:
            return
    line = text.count("\n", 0, MAX_TEXT_BYTES) + 1
    raise SdpError(f"description is larger than {MAX_TEXT_BYTES} bytes", line)


def parse(text: str) -> SessionDescription:
    """Read an SDP offer or answer; anything malformed raises SdpError.

    Missing o=, s= and t= lines keep the SessionDescription defaults: WebRTC
    never acts on them, so their absence is not worth refusing a peer over.
    """
    _check_size(text)
    reader = _Reader()
    first = True
    for number, line in _numbered_lines(text):
        try:
            _read_line(reader, line, first)
        except SdpError as error:
            if error.line is not None:
                raise
            raise SdpError(error.problem, number) from None
        first = False
    if first:
        raise SdpError("missing v=0 line", 1)
    reader.finish_section()
    return reader.description


def _read_line(reader: _Reader, line: str, first: bool) -> None:
    if first:
        if line != "v=0":
            raise SdpError("a description must start with v=0")
        return
    match = _LINE.fullmatch(line)
    if match is None:
        raise SdpError(f"expected '<letter>=<value>', got {line[:40]!r}")
    kind, value = match.groups()
    if kind == "v":
        raise SdpError("v= appears twice")
    handler = _LINE_HANDLERS.get(kind)
    # RFC 8866 section 5 lets a parser reject letters it does not know.
    if handler is None:
        raise SdpError(f"unknown line type {kind}=")
    handler(reader, value)


# --- writing -----------------------------------------------------------------


def serialize(description: SessionDescription) -> str:
    """Write the description as SDP text with CRLF line endings."""
    lines = list(_session_lines(description))
    for section in description.media:
        lines.extend(_media_lines(section))
    for number, line in enumerate(lines, 1):
        if _CONTROL.search(line):
            raise SdpError("a value holds a control character", number)
    return "\r\n".join(lines) + "\r\n"


def _session_lines(d: SessionDescription) -> Iterator[str]:
    yield "v=0"
    yield f"o={d.origin}"
    yield f"s={d.session_name}"
    if d.connection is not None:
        yield f"c={d.connection}"
    yield from (f"b={b}" for b in d.bandwidths)
    yield f"t={d.timing}"
    for semantics, mids in d.groups:
        yield "a=group:" + " ".join([semantics, *mids])
    if d.ice_lite:
        yield "a=ice-lite"
    yield from _transport_lines(d)
    if d.extmap_allow_mixed:
        yield "a=extmap-allow-mixed"
    if d.msid_semantic is not None:
        yield f"a=msid-semantic:{d.msid_semantic}"
    yield from (f"a={line}" for line in d.other)


def _transport_lines(holder: SessionDescription | MediaSection) -> Iterator[str]:
    if holder.ice_ufrag is not None:
        yield f"a=ice-ufrag:{holder.ice_ufrag}"
    if holder.ice_pwd is not None:
        yield f"a=ice-pwd:{holder.ice_pwd}"
    if holder.ice_options is not None:
        yield f"a=ice-options:{holder.ice_options}"
    for algorithm, value in holder.fingerprints:
        yield f"a=fingerprint:{algorithm} {value}"
    if holder.setup is not None:
        yield f"a=setup:{holder.setup}"


def _media_lines(m: MediaSection) -> Iterator[str]:
    # Chromium's order: what every reader of SDP by eye is used to.
    yield " ".join([f"m={m.kind}", str(m.port), m.protocol, *m.formats])
    if m.connection is not None:
        yield f"c={m.connection}"
    yield from (f"b={b}" for b in m.bandwidths)
    if m.rtcp is not None:
        yield f"a=rtcp:{m.rtcp}"
    yield from (f"a=candidate:{c.to_sdp()}" for c in m.candidates)
    if m.end_of_candidates:
        yield "a=end-of-candidates"
    yield from _transport_lines(m)
    if m.mid is not None:
        yield f"a=mid:{m.mid}"
    yield from (_extmap_line(e) for e in m.extensions)
    yield from _flag_lines(m)
    for codec in m.codecs:
        yield from _codec_lines(codec)
    yield from _stream_lines(m)
    if m.sctp_port is not None:
        yield f"a=sctp-port:{m.sctp_port}"
    if m.max_message_size is not None:
        yield f"a=max-message-size:{m.max_message_size}"
    yield from (f"a={line}" for line in m.other)


def _extmap_line(e: HeaderExtension) -> str:
    direction = f"/{e.direction}" if e.direction else ""
    attributes = f" {e.attributes}" if e.attributes else ""
    return f"a=extmap:{e.id}{direction} {e.uri}{attributes}"


def _flag_lines(m: MediaSection) -> Iterator[str]:
    if m.extmap_allow_mixed:
        yield "a=extmap-allow-mixed"
    if m.direction is not None:
        yield f"a={m.direction}"
    if m.msid is not None:
        yield f"a=msid:{m.msid}"
    if m.rtcp_mux:
        yield "a=rtcp-mux"
    if m.rtcp_mux_only:
        yield "a=rtcp-mux-only"
    if m.rtcp_rsize:
        yield "a=rtcp-rsize"


def _codec_lines(c: Codec) -> Iterator[str]:
    channels = f"/{c.channels}" if c.channels is not None else ""
    yield f"a=rtpmap:{c.payload_type} {c.name}/{c.clock_rate}{channels}"
    yield from (f"a=rtcp-fb:{c.payload_type} {kind}" for kind in c.feedback)
    if c.parameters:
        text = ";".join(k if v == "" else f"{k}={v}" for k, v in c.parameters.items())
        yield f"a=fmtp:{c.payload_type} {text}"


def _stream_lines(m: MediaSection) -> Iterator[str]:
    for rid in m.rids:
        params = f" {rid.params}" if rid.params else ""
        yield f"a=rid:{rid.id} {rid.direction}{params}"
    if m.simulcast is not None:
        yield f"a=simulcast:{m.simulcast}"
    for group in m.ssrc_groups:
        yield "a=ssrc-group:" + " ".join([group.semantics, *map(str, group.ssrcs)])
    for ssrc, attributes in m.ssrcs.items():
        if not attributes:
            yield f"a=ssrc:{ssrc}"
        for name, value in attributes.items():
            yield f"a=ssrc:{ssrc} {name}:{value}" if value else f"a=ssrc:{ssrc} {name}"
