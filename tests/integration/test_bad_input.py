"""Bad input on the media port and the WebSocket is dropped, counted and harmless."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import socket
import struct
from collections import Counter

import pytest
import websockets
from aioice import stun
from aiortc import MediaStreamTrack, RTCPeerConnection

from smeeton.sfu import sdp
from smeeton.signalling.messages import MAX_MESSAGE_BYTES
from tests.peers import (
    NO_ICE_SERVERS,
    Participant,
    PatternTrack,
    ToneTrack,
    wait_for,
)

DROPPED = "smeeton_media_dropped_total"
SIGNALLING_ERRORS = "smeeton_signalling_errors_total"
# Reproducible garbage: a failure can be replayed.
SEED = 7283


# Counters.


def counted(server, family: str) -> Counter[str]:
    """The samples of one labelled counter family, by reason."""
    prefix = family + '{reason="'
    return Counter(
        {
            name[len(prefix) : -2]: int(value)
            for name, value in server.metrics().items()
            if name.startswith(prefix)
        }
    )


async def risen(
    server, family: str, before: Counter[str], expected: dict[str, int]
) -> Counter[str]:
    """Wait until each reason has risen by its count; return every increase."""
    increase: Counter[str] = Counter()

    def check() -> bool:
        increase.clear()
        increase.update(counted(server, family))
        increase.subtract(before)
        return all(increase[reason] >= n for reason, n in expected.items())

    try:
        await wait_for(check, 10, f"{family} to rise by {expected}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it rose by {dict(+increase)}") from None
    return +increase


# The honest meeting.


def frames_from(viewer: Participant, speaker: Participant) -> list[int]:
    return [
        r.frames
        for r in viewer.live()
        if r.info["participant_id"] == speaker.participant_id
    ]


async def keeps_decoding(viewer: Participant, speaker: Participant) -> None:
    """Both of the speaker's tracks decode at least 10 more frames at the viewer."""
    start = frames_from(viewer, speaker)
    assert len(start) == 2, start

    def more() -> bool:
        now = frames_from(viewer, speaker)
        return len(now) == 2 and all(
            b >= a + 10 for a, b in zip(start, now, strict=True)
        )

    await wait_for(more, 15, "the speaker's media to keep decoding at the viewer")


@pytest.fixture
async def meeting(server):
    """A speaker publishing audio and video to a viewer that decodes both."""
    speaker = Participant(server.ws_url, "speaker")
    viewer = Participant(server.ws_url, "viewer")
    try:
        await speaker.join()
        await viewer.join()
        await speaker.publish([(ToneTrack(), "microphone"), (PatternTrack(), "camera")])

        def decoding() -> bool:
            frames = frames_from(viewer, speaker)
            return len(frames) == 2 and min(frames) >= 5

        await wait_for(decoding, 20, "the viewer decoding the speaker")
        yield speaker, viewer
    finally:
        await viewer.close()
        await speaker.close()


# Media-port attacks from an address the server has never seen.


def garbage(rng: random.Random, first_bytes: range | list[int]) -> bytes:
    size = rng.randrange(1, 200)
    return bytes([rng.choice(first_bytes)]) + rng.randbytes(size - 1)


OTHER_FIRST_BYTES = [*range(4, 20), *range(64, 128), *range(192, 256)]


def binding_request(username: str, password: str) -> bytes:
    request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
    request.attributes["USERNAME"] = username
    request.attributes["PRIORITY"] = 0x7E0000FF
    request.attributes["ICE-CONTROLLING"] = 1
    request.add_message_integrity(password.encode())
    request.add_fingerprint()
    return bytes(request)


def ice_ufrag(description: str) -> str:
    for line in description.splitlines():
        if line.startswith("a=ice-ufrag:"):
            return line.split(":", 1)[1]
    raise AssertionError("no a=ice-ufrag in the description")


class Attacker:
    """A UDP socket on an address unknown to the server."""

    def __init__(self, media_port: int) -> None:
        self.target = ("127.0.0.1", media_port)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.setblocking(False)
        self.replies: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.socket.sendto(data, self.target)

    def replied(self, count: int) -> bool:
        """Collect what the server sent back; true once `count` arrived."""
        while True:
            try:
                self.replies.append(self.socket.recv(2048))
            except BlockingIOError:
                return len(self.replies) >= count

    def close(self) -> None:
        self.socket.close()


async def test_garbage_from_an_unknown_address_is_dropped_by_first_byte_range(
    server, meeting
):
    speaker, viewer = meeting
    rng = random.Random(SEED)
    attacker = Attacker(server.media_port)
    before = counted(server, DROPPED)
    try:
        for _ in range(20):
            attacker.send(garbage(rng, range(0, 4)))
            attacker.send(garbage(rng, range(20, 64)))
            attacker.send(garbage(rng, range(128, 192)))
            attacker.send(garbage(rng, OTHER_FIRST_BYTES))
        attacker.send(b"")

        increase = await risen(
            server,
            DROPPED,
            before,
            {
                "stun_malformed": 20,
                "dtls_unknown_address": 20,
                "rtp_unknown_address": 20,
                "unknown_protocol": 20,
                "empty": 1,
            },
        )
        assert sum(increase.values()) == 81, increase
        await keeps_decoding(viewer, speaker)
    finally:
        attacker.close()


async def test_broken_stun_checks_are_dropped_and_bad_credentials_get_401(
    server, meeting
):
    speaker, viewer = meeting
    attacker = Attacker(server.media_port)
    assert speaker.publish_pc is not None
    server_ufrag = ice_ufrag(speaker.publish_pc.remoteDescription.sdp)
    speaker_ufrag = ice_ufrag(speaker.publish_pc.localDescription.sdp)
    before = counted(server, DROPPED)
    try:
        # Every truncation of a well-formed request.
        whole = binding_request("nobody:attacker", "x" * 24)
        for length in range(1, len(whole)):
            attacker.send(whole[:length])
        # Well-formed STUN that is not a Binding request with a USERNAME.
        no_username = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        attacker.send(bytes(no_username))
        indication = stun.Message(stun.Method.BINDING, stun.Class.INDICATION)
        attacker.send(bytes(indication))
        allocate = stun.Message(stun.Method.ALLOCATE, stun.Class.REQUEST)
        allocate.attributes["USERNAME"] = f"{server_ufrag}:{speaker_ufrag}"
        attacker.send(bytes(allocate))
        # A valid-looking check for a ufrag the server never handed out, and
        # one for the speaker's transport signed with the wrong password.
        attacker.send(binding_request("nobody:attacker", "x" * 24))
        attacker.send(binding_request(f"{server_ufrag}:{speaker_ufrag}", "y" * 24))

        await risen(
            server,
            DROPPED,
            before,
            {
                "stun_malformed": len(whole) - 1 + 3,
                "stun_unknown_username": 1,
                "stun_bad_credentials": 1,
            },
        )
        await wait_for(lambda: attacker.replied(2), 10, "two STUN error responses")
        for reply in attacker.replies:
            response = stun.parse_message(reply)
            assert response.message_class == stun.Class.ERROR
            assert response.attributes["ERROR-CODE"] == (401, "Unauthorized")
        await keeps_decoding(viewer, speaker)
    finally:
        attacker.close()


# Attacks from a connected participant, through its own SRTP session.


class IdleTrack(MediaStreamTrack):
    """A track that never yields a frame, so its SSRC's numbers are ours to use."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self):
        await asyncio.get_running_loop().create_future()


def rtp_packet(
    ssrc: int,
    payload_type: int,
    sequence: int,
    payload: bytes = bytes(20),
    extension: bytes = b"",
    padding: bool = False,
) -> bytes:
    first = 0x80 | (0x10 if extension else 0) | (0x20 if padding else 0)
    header = struct.pack("!BBHII", first, payload_type, sequence, 0, ssrc)
    return header + extension + payload


def one_byte_extension(*elements: tuple[int, bytes], overrun: int = 0) -> bytes:
    """An RFC 8285 one-byte block; `overrun` makes the last element claim more."""
    body = bytearray()
    for ext_id, value in elements:
        body.append((ext_id << 4) | (len(value) - 1 + overrun))
        body += value
    body += bytes(-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


class Offender:
    """A joined participant publishing idle tracks, and its raw means to send."""

    def __init__(self, participant: Participant) -> None:
        self.participant = participant
        assert participant.publish_pc is not None
        transceivers = participant.publish_pc.getTransceivers()
        self.audio_ssrc = transceivers[0].sender._ssrc
        self.video_ssrc = transceivers[1].sender._ssrc
        self.rtx_ssrc = transceivers[1].sender._rtx_ssrc
        self.publish = transceivers[0].sender.transport
        answer = sdp.parse(participant.publish_pc.remoteDescription.sdp)
        audio, video = answer.media
        self.audio_pt = audio.codecs[0].payload_type
        self.video_pt = video.codecs[0].payload_type
        assert video.codecs[1].name == "rtx"
        self.rtx_pt = video.codecs[1].payload_type
        self.extension_ids = {e.uri.rsplit(":", 1)[-1]: e.id for e in audio.extensions}
        self._sequences = itertools.count(1)

    @classmethod
    async def join(cls, server) -> Offender:
        participant = Participant(server.ws_url, "offender")
        await participant.join()
        await participant.publish(
            [(IdleTrack("audio"), "microphone"), (IdleTrack("video"), "camera")]
        )
        offender = cls(participant)
        await wait_for(
            lambda: offender.publish.state == "connected", 10, "the offender's DTLS"
        )
        return offender

    def sequence(self) -> int:
        return next(self._sequences)

    @property
    def subscribe(self):
        """The DTLS transport of the offender's receiving connection."""
        pc = self.participant.subscribe_pc
        assert pc is not None
        return pc.getTransceivers()[0].receiver.transport

    async def send_srtp(self, transport, packet: bytes) -> None:
        """Protect with the offender's own keys and send (aiortc's private API)."""
        await transport._send_rtp(packet)

    def send_raw(self, data: bytes) -> None:
        """Send unprotected bytes from the offender's own address.

        Through a duplicate of aioice's socket: asyncio would not send an
        empty datagram.
        """
        pair = self.publish.transport._connection._nominated[1]
        bound = pair.protocol.transport.get_extra_info("socket")
        with socket.socket(fileno=os.dup(bound.fileno())) as raw:
            raw.sendto(data, pair.remote_addr)

    async def close(self) -> None:
        await self.participant.close()


@pytest.fixture
async def offender(server, meeting):
    joined = await Offender.join(server)
    yield joined
    await joined.close()


async def test_malformed_rtp_inside_valid_srtp_is_dropped_by_reason(
    server, meeting, offender
):
    speaker, viewer = meeting
    rng = random.Random(SEED)
    before = counted(server, DROPPED)
    send = offender.send_srtp
    publish = offender.publish
    audio, video, pt = offender.audio_ssrc, offender.video_ssrc, offender.audio_pt
    level_id = offender.extension_ids["ssrc-audio-level"]
    mid_id = offender.extension_ids["mid"]

    # SSRCs the offer never announced, with and without a mid to learn them by.
    for ssrc in (1, 0xFFFFFFFF, rng.getrandbits(32)):
        await send(publish, rtp_packet(ssrc, pt, 1))
    await send(
        publish, rtp_packet(5, pt, 1, extension=one_byte_extension((mid_id, b"zz")))
    )
    await send(
        publish,
        rtp_packet(6, pt, 1, extension=one_byte_extension((mid_id, b"0"), overrun=3)),
    )
    # Payload types the answer did not accept (64..95 would read as RTCP).
    wrong = [p for p in [*range(0, 64), *range(96, 128)] if p != pt]
    for payload_type in rng.sample(wrong, 10):
        await send(publish, rtp_packet(audio, payload_type, offender.sequence()))
    await send(publish, rtp_packet(video, offender.rtx_pt, offender.sequence()))
    # Padding that claims nothing, or more than the packet holds.
    for count in (0, 200):
        payload = bytes(10) + bytes([count])
        packet = rtp_packet(audio, pt, offender.sequence(), payload, padding=True)
        await send(publish, packet)
    # Header extension elements that overrun their block.
    broken = one_byte_extension((level_id, b"\x7f"), overrun=4)
    await send(publish, rtp_packet(audio, pt, offender.sequence(), extension=broken))
    video_pt = offender.video_pt
    packet = rtp_packet(video, video_pt, offender.sequence(), extension=broken)
    await send(publish, packet)
    # Retransmissions too short to hold the original sequence number.
    rtx, rtx_pt = offender.rtx_ssrc, offender.rtx_pt
    for payload in (b"", b"\x01"):
        await send(publish, rtp_packet(rtx, rtx_pt, offender.sequence(), payload))

    increase = await risen(
        server,
        DROPPED,
        before,
        {
            "rtp_unknown_ssrc": 5,
            "rtp_unexpected_payload_type": 11,
            "rtp_malformed": 2,
            "rtp_extension_malformed": 2,
            "rtx_malformed": 2,
        },
    )
    assert sum(increase.values()) == 22, increase
    await keeps_decoding(viewer, speaker)


def rtcp_header(packet_type: int, count: int, body: bytes, words: int | None = None):
    if words is None:
        words = len(body) // 4
    return struct.pack("!BBH", 0x80 | count, packet_type, words) + body


RECEIVER_REPORT = rtcp_header(201, 0, struct.pack("!I", 0x1234))
MALFORMED_RTCP = {
    "length past the datagram": rtcp_header(201, 0, bytes(4), words=9),
    "a truncated second header": RECEIVER_REPORT + b"\x81\xc9",
    "a second packet of version 1": RECEIVER_REPORT + b"\x40\xc9\x00\x01" + bytes(4),
    "padding longer than the packet": struct.pack("!BBHI", 0xA0, 201, 1, 0x00FF00FF),
    "an SR shorter than its count": rtcp_header(200, 2, bytes(24)),
    "an RR shorter than its count": rtcp_header(201, 1, bytes(8)),
    "an SDES chunk without end": rtcp_header(
        202, 1, struct.pack("!I", 1) + b"\x01\x08ab"
    ),
    "a BYE reason past the end": rtcp_header(203, 1, struct.pack("!I", 1) + b"\x09abc"),
    "a NACK without FCI": rtcp_header(205, 1, struct.pack("!II", 1, 2)),
    "a PLI without media SSRC": rtcp_header(206, 1, struct.pack("!I", 1)),
    "a FIR entry cut short": rtcp_header(206, 4, struct.pack("!III", 1, 0, 2)),
    "a REMB cut short": rtcp_header(206, 15, struct.pack("!II4s", 1, 0, b"REMB")),
    "a REMB with too few SSRCs": rtcp_header(
        206, 15, struct.pack("!II4sBBH", 1, 0, b"REMB", 3, 0, 0)
    ),
}
# Well-formed packets the server does not model or cannot use: ignored, not
# dropped (RFC 3550 §6.1 lets a receiver skip unknown packet types).
UNKNOWN_RTCP = [
    RECEIVER_REPORT + rtcp_header(204, 0, struct.pack("!I4s", 1, b"name")),
    RECEIVER_REPORT + rtcp_header(207, 0, struct.pack("!I", 1) + bytes(8)),
    RECEIVER_REPORT + rtcp_header(199, 3, bytes(8)),
    RECEIVER_REPORT + rtcp_header(205, 9, struct.pack("!II", 1, 2)),
    RECEIVER_REPORT + rtcp_header(206, 7, struct.pack("!II", 1, 2)),
    rtcp_header(206, 1, struct.pack("!II", 1, 0xDEAD)),
    rtcp_header(205, 1, struct.pack("!IIHH", 1, 0xDEAD, 1, 0xFFFF)),
]


@pytest.mark.parametrize("side", ["publish", "subscribe"])
async def test_malformed_rtcp_inside_valid_srtcp_is_dropped_and_unknown_ignored(
    server, meeting, offender, side
):
    speaker, viewer = meeting
    if side == "subscribe":
        await wait_for(
            lambda: (
                offender.participant.subscribe_pc is not None
                and offender.subscribe.state == "connected"
            ),
            10,
            "the offender's receiving connection",
        )
    transport = getattr(offender, side)
    before = counted(server, DROPPED)

    # Unknown packets first: once the one malformed packet after them is
    # counted, they have all arrived and none of them was.
    for packet in UNKNOWN_RTCP:
        await offender.send_srtp(transport, packet)
    await offender.send_srtp(transport, MALFORMED_RTCP["a NACK without FCI"])
    increase = await risen(server, DROPPED, before, {"rtcp_malformed": 1})
    assert increase == {"rtcp_malformed": 1}

    for packet in MALFORMED_RTCP.values():
        await offender.send_srtp(transport, packet)
    count = 1 + len(MALFORMED_RTCP)
    increase = await risen(server, DROPPED, before, {"rtcp_malformed": count})
    assert increase == {"rtcp_malformed": count}
    await keeps_decoding(viewer, speaker)


async def test_unprotected_garbage_from_a_connected_address_is_dropped_by_reason(
    server, meeting, offender
):
    speaker, viewer = meeting
    rng = random.Random(SEED)
    before = counted(server, DROPPED)

    for _ in range(10):
        offender.send_raw(
            b"\x80" + bytes([rng.choice([0, 96, 111])]) + rng.randbytes(60)
        )
        offender.send_raw(b"\x80\xc8" + rng.randbytes(60))
        offender.send_raw(garbage(rng, range(0, 4)))
        offender.send_raw(garbage(rng, OTHER_FIRST_BYTES))
    for length in range(1, 12):
        offender.send_raw(b"\x80" + rng.randbytes(length - 1))
    offender.send_raw(b"")
    # A replayed SRTP packet fails the replay check (RFC 3711 §3.3.2).
    protected = offender.publish._tx_srtp.protect(rtp_packet(9, 0, 1))
    offender.send_raw(protected)
    offender.send_raw(protected)

    increase = await risen(
        server,
        DROPPED,
        before,
        {
            "srtp_unprotect": 11,
            "srtcp_unprotect": 10,
            "stun_malformed": 10,
            "unknown_protocol": 10,
            "rtp_truncated": 11,
            "rtp_unknown_ssrc": 1,
            "empty": 1,
        },
    )
    assert sum(increase.values()) == 54, increase
    await keeps_decoding(viewer, speaker)


async def test_dtls_garbage_from_a_connected_address_is_dropped_as_malformed(
    server, meeting, offender
):
    speaker, viewer = meeting
    rng = random.Random(SEED)
    before = counted(server, DROPPED)

    for _ in range(10):
        offender.send_raw(garbage(rng, range(20, 64)))
    # A record header that claims more than the datagram holds.
    offender.send_raw(b"\x17\xfe\xfd" + bytes(8) + b"\x01\x00" + bytes(10))

    increase = await risen(server, DROPPED, before, {"dtls_malformed": 11})
    assert increase == {"dtls_malformed": 11}
    assert offender.publish.state == "connected"
    await keeps_decoding(viewer, speaker)


# The WebSocket.


class RawSession:
    """A WebSocket that speaks the protocol by hand, keeping what comes back."""

    def __init__(self) -> None:
        self.socket: websockets.ClientConnection | None = None
        self.messages: list[dict] = []
        self.close_code: int | None = None
        self._reader: asyncio.Task | None = None

    @classmethod
    async def connect(cls, server) -> RawSession:
        session = cls()
        session.socket = await websockets.connect(server.ws_url, max_size=2**20)
        session._reader = asyncio.create_task(session._read())
        return session

    async def send(self, data: str | bytes | dict) -> None:
        assert self.socket is not None
        if isinstance(data, dict):
            data = json.dumps(data)
        await self.socket.send(data)

    async def reply(self, data: str | bytes | dict, kind: str = "error") -> dict:
        """Send, and wait for the next message of that type."""
        seen = len(self.messages)
        await self.send(data)

        def arrived() -> bool:
            return any(m["type"] == kind for m in self.messages[seen:])

        await wait_for(arrived, 10, f"a {kind} message")
        return next(m for m in self.messages[seen:] if m["type"] == kind)

    async def join(self, room: str = "test", name: str = "raw") -> dict:
        return await self.reply({"type": "join", "room": room, "name": name}, "welcome")

    async def closed(self) -> int:
        await wait_for(lambda: self.close_code is not None, 10, "the session closing")
        assert self.close_code is not None
        return self.close_code

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._reader is not None:
            await self._reader

    async def _read(self) -> None:
        assert self.socket is not None
        try:
            async for text in self.socket:
                self.messages.append(json.loads(text))
        except websockets.ConnectionClosed:
            pass
        self.close_code = self.socket.close_code or 1006


INVALID_MESSAGES = {
    "not JSON": "{this is not json",
    "not an object": "[1, 2, 3]",
    "binary garbage": b"\xff\xfe\x00junk",
    "an unknown type": {"type": "dance", "room": "test"},
    "no type": {"room": "test", "name": "x"},
    "missing fields": {"type": "join"},
    "a number for a name": {"type": "join", "room": "test", "name": 42},
    "a list for the SDP": {"type": "publish", "sdp": ["v=0"]},
    "labels that are not text": {"type": "publish", "sdp": "v=0", "tracks": {"0": 1}},
    "an unknown extra field": {"type": "leave", "please": True},
}


async def test_invalid_messages_get_bad_message_errors_and_the_session_goes_on(
    server, meeting
):
    speaker, viewer = meeting
    session = await RawSession.connect(server)
    before = counted(server, SIGNALLING_ERRORS)
    try:
        for what, data in INVALID_MESSAGES.items():
            error = await session.reply(data)
            assert error["code"] == "bad_message", what
            assert error["message"].startswith("Invalid message"), what
        blank = await session.reply({"type": "join", "room": "test", "name": "   "})
        assert blank["code"] == "bad_request"
        assert "name" in blank["message"]

        # Still open, and a join now works and lists the honest participants.
        welcome = await session.join()
        ids = {p["id"] for p in welcome["participants"]}
        assert ids == {speaker.participant_id, viewer.participant_id}
        increase = await risen(
            server,
            SIGNALLING_ERRORS,
            before,
            {"bad_message": len(INVALID_MESSAGES), "bad_request": 1},
        )
        assert increase == {"bad_message": len(INVALID_MESSAGES), "bad_request": 1}
        await keeps_decoding(viewer, speaker)
    finally:
        await session.close()


@pytest.mark.parametrize(
    "message, joined, words",
    [
        ({"type": "publish", "sdp": "v=0"}, False, "join a room first"),
        ({"type": "answer", "sdp": "v=0"}, False, "join a room first"),
        ({"type": "join", "room": "test", "name": "again"}, True, "already joined"),
        (
            {"type": "join", "room": "test", "name": "x", "protocol": 99},
            False,
            "protocol 99",
        ),
    ],
    ids=["publish before join", "answer before join", "second join", "protocol 99"],
)
async def test_protocol_errors_get_an_error_and_close_the_session_with_4001(
    server, meeting, message, joined, words
):
    speaker, viewer = meeting
    session = await RawSession.connect(server)
    try:
        if joined:
            await session.join()
        before = counted(server, SIGNALLING_ERRORS)
        error = await session.reply(message)
        assert error["code"] == "protocol_error"
        assert words in error["message"]
        assert await session.closed() == 4001
        increase = await risen(server, SIGNALLING_ERRORS, before, {"protocol_error": 1})
        assert increase == {"protocol_error": 1}
        await keeps_decoding(viewer, speaker)
    finally:
        await session.close()


async def aiortc_offer() -> str:
    pc = RTCPeerConnection(NO_ICE_SERVERS)
    try:
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp
    finally:
        await pc.close()


def without(description: str, *prefixes: str) -> str:
    return "".join(
        line
        for line in description.splitlines(keepends=True)
        if not line.startswith(prefixes)
    )


async def test_bad_sdp_gets_bad_sdp_errors_and_the_room_keeps_everyone(server, meeting):
    speaker, viewer = meeting
    offer = await aiortc_offer()
    session = await RawSession.connect(server)
    lonely = await RawSession.connect(server)
    bad_offers = {
        "garbage text": "hello, I am an offer",
        "binary noise": bytes(range(1, 256)).decode("latin-1"),
        "no ICE credentials": without(offer, "a=ice-ufrag", "a=ice-pwd"),
        "no fingerprint": without(offer, "a=fingerprint"),
        "no media": offer.split("m=", 1)[0],
        "no rtcp-mux": without(offer, "a=rtcp-mux"),
        "a bad setup": offer.replace("a=setup:actpass", "a=setup:holdconn"),
    }
    reasons = {
        "no ICE credentials": "ICE credentials",
        "no fingerprint": "fingerprint",
        "no media": "no media",
        "no rtcp-mux": "rtcp-mux",
    }
    try:
        await session.join()
        await lonely.join(room="lonely", name="alone")
        before = counted(server, SIGNALLING_ERRORS)

        for what, text in bad_offers.items():
            error = await session.reply({"type": "publish", "sdp": text})
            assert error["code"] == "bad_sdp", what
            assert reasons.get(what, "") in error["message"], (what, error)
        # The raw session has an offer outstanding: a broken answer to it.
        garbled = await session.reply({"type": "answer", "sdp": "v=0\r\nm=audio"})
        assert garbled["code"] == "bad_sdp"
        # No offer is outstanding in a room with nothing to receive.
        stray = await lonely.reply({"type": "answer", "sdp": offer})
        assert stray["code"] == "bad_sdp"
        assert "no offer" in stray["message"]

        count = len(bad_offers) + 2
        increase = await risen(server, SIGNALLING_ERRORS, before, {"bad_sdp": count})
        assert increase == {"bad_sdp": count}
        assert session.close_code is None and lonely.close_code is None

        # The room still lists everyone, and media keeps flowing.
        watcher = await RawSession.connect(server)
        try:
            welcome = await watcher.join(name="watcher")
            ids = {p["id"] for p in welcome["participants"]}
            assert {speaker.participant_id, viewer.participant_id} <= ids
            assert len(ids) == 3
        finally:
            await watcher.close()
        await keeps_decoding(viewer, speaker)
    finally:
        await session.close()
        await lonely.close()


async def test_oversized_message_closes_the_session_with_1009(server, meeting):
    speaker, viewer = meeting
    session = await RawSession.connect(server)
    try:
        await session.join()
        before = counted(server, SIGNALLING_ERRORS)
        padding = "x" * (MAX_MESSAGE_BYTES + 1)
        await session.send({"type": "publish", "sdp": padding})
        assert await session.closed() == 1009
        increase = await risen(
            server, SIGNALLING_ERRORS, before, {"message_too_big": 1}
        )
        assert increase == {"message_too_big": 1}
        await keeps_decoding(viewer, speaker)
    finally:
        await session.close()


@pytest.mark.parametrize(
    "message, code",
    [("not json", "bad_message"), ({"type": "publish", "sdp": "v=0"}, "bad_sdp")],
    ids=["messages", "descriptions"],
)
async def test_a_flood_of_bad_messages_closes_the_session_with_1008(
    server, meeting, message, code
):
    speaker, viewer = meeting
    session = await RawSession.connect(server)
    try:
        await session.join()
        for _ in range(25):
            await session.send(message)
        assert await session.closed() == 1008
        errors = [m for m in session.messages if m["type"] == "error"]
        assert len(errors) == 21
        assert all(e["code"] == code for e in errors)
        await keeps_decoding(viewer, speaker)
    finally:
        await session.close()
