"""Smeeton's signalling for the load peers: join, publish, answer offers.

A participant session is one WebSocket to `/ws` (docs/protocol.md). A load
publisher joins, offers its two sections and replays once connected. A load
subscriber joins and answers every offer the server sends, receive-only;
its connection starts with the first answer and is kept across the later
ones, since the server renegotiates on the same transport.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

import websockets

from bench.load import sdp
from bench.load.connection import DtlsIdentity, MediaConnection
from bench.load.peers import (
    LatencyHistogram,
    ReplayingPublisher,
    Stream,
    TimingSubscriber,
    extension_block,
)
from bench.load.recording import Recording

logger = logging.getLogger(__name__)


# Section mid -> what the server should call the track.
LABELS = {"0": "microphone", "1": "camera"}
# RFC 6464: voice activity set, level -30 dBov.
AUDIO_LEVEL = bytes([0x80 | 30])


class SignallingError(RuntimeError):
    """The server refused or did not answer a message."""


class Session:
    """One participant session: a WebSocket and the messages on it."""

    def __init__(self, url: str, room: str, name: str) -> None:
        self.url = url
        self.room = room
        self.name = name
        self.participant_id = ""
        # Called for each offer, in order; it sends the answer itself.
        self.on_offer: Callable[[dict], Awaitable[None]] | None = None
        self._socket: websockets.ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[dict]] = {}

    async def join(self, timeout: float = 10.0) -> dict:
        if self.participant_id:
            # A participant that publishes and subscribes joins once.
            return {"participant_id": self.participant_id}
        self._socket = await websockets.connect(self.url, max_size=2**20)
        self._reader = asyncio.create_task(self._read())
        welcome = self._expect("welcome")
        await self._send({"type": "join", "room": self.room, "name": self.name})
        message = await asyncio.wait_for(welcome, timeout)
        self.participant_id = message["participant_id"]
        return message

    async def publish(
        self, offer: str, tracks: dict[str, str], timeout: float = 10.0
    ) -> str:
        """Send a publish offer; returns the server's answer SDP."""
        answer = self._expect("publish_answer")
        await self._send({"type": "publish", "sdp": offer, "tracks": tracks})
        return (await asyncio.wait_for(answer, timeout))["sdp"]

    async def answer(self, sdp_text: str) -> None:
        await self._send({"type": "answer", "sdp": sdp_text})

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
        for waiter in self._waiters.values():
            waiter.cancel()

    def _expect(self, kind: str) -> asyncio.Future[dict]:
        future = asyncio.get_running_loop().create_future()
        self._waiters[kind] = future
        return future

    async def _send(self, message: dict) -> None:
        assert self._socket is not None
        await self._socket.send(json.dumps(message))

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for text in self._socket:
                await self._dispatch(json.loads(text))
        except websockets.ConnectionClosed:
            pass
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(SignallingError(f"{self.name}: session closed"))

    async def _dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "error":
            logger.warning("%s: the server says %s", self.name, message)
            for waiter in self._waiters.values():
                if not waiter.done():
                    waiter.set_exception(SignallingError(message.get("message")))
            return
        if kind == "offer" and self.on_offer is not None:
            await self.on_offer(message)
        waiter = self._waiters.pop(kind, None) if isinstance(kind, str) else None
        if waiter is not None and not waiter.done():
            waiter.set_result(message)


class Publisher:
    """A load publisher in a Smeeton room: Opus and VP8 replayed from disk."""

    def __init__(
        self,
        url: str,
        room: str,
        name: str,
        identity: DtlsIdentity,
        audio: Recording,
        video: Recording,
        stamp: bool = False,
        session: Session | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        # Alone it never answers the offers it gets: an answered offer would
        # start the server's consent clock on a receiving connection nobody
        # opens, while an unanswered one costs the server nothing. Given a
        # subscriber's session, that subscriber answers them.
        self.session = session or Session(url, room, name)
        self.connection = MediaConnection(identity, name + "/publish")
        self.streams = sdp.PublishedStreams.generate()
        audio_ext = [(sdp.AUDIO_LEVEL_ID, AUDIO_LEVEL), (sdp.MID_ID, b"0")]
        self.replay = ReplayingPublisher(
            self.connection,
            [
                Stream(
                    audio,
                    self.streams.audio_ssrc,
                    sdp.OPUS_PT,
                    extension_block(audio_ext),
                ),
                Stream(
                    video,
                    self.streams.video_ssrc,
                    sdp.VP8_PT,
                    extension_block([(sdp.MID_ID, b"1")]),
                ),
            ],
            stamp,
        )
        self.connection.on_rtcp = self.replay.rtcp_received

    async def start(self, timeout: float = 10.0) -> None:
        """Join, publish, connect, then start replaying."""
        await self.session.join(timeout)
        candidate = await self.connection.open(self.host)
        local = _local(self.connection, candidate)
        offer = sdp.publish_offer(local, self.streams)
        answer = sdp.parse(await self.session.publish(offer, LABELS, timeout))
        remote = sdp.remote_parameters(answer)
        await self.connection.connect(remote, sdp.dtls_role(remote.setup), timeout)
        self.replay.start()

    async def close(self) -> None:
        self.replay.close()
        self.connection.close()
        await self.session.close()


class Subscriber:
    """A load subscriber in a Smeeton room: answers offers, counts packets."""

    def __init__(
        self,
        url: str,
        room: str,
        name: str,
        identity: DtlsIdentity,
        latency: LatencyHistogram | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.session = Session(url, room, name)
        self.counter = TimingSubscriber(latency or LatencyHistogram())
        self.connection = MediaConnection(
            identity,
            name + "/subscribe",
            on_rtp=self.counter.rtp_received,
            on_rtcp=self.counter.rtcp_received,
        )
        self.offers = 0
        self.tracks: list[dict] = []
        self._candidate: tuple[str, int] | None = None
        self._connecting: asyncio.Task[None] | None = None
        self.session.on_offer = self._offer_received

    async def start(self, timeout: float = 10.0) -> None:
        """Join; the connection follows the first offer."""
        self._candidate = await self.connection.open(self.host)
        await self.session.join(timeout)

    async def connected(self, timeout: float = 10.0) -> None:
        """Wait until the first offer is answered and media can flow."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._connecting is None:
            if loop.time() > deadline:
                raise TimeoutError(f"{self.session.name}: no offer arrived")
            await asyncio.sleep(0.05)
        await asyncio.wait_for(
            asyncio.shield(self._connecting), max(deadline - loop.time(), 0.1)
        )

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        self.connection.close()
        await self.session.close()

    async def _offer_received(self, message: dict) -> None:
        assert self._candidate is not None
        self.offers += 1
        self.tracks = list(message.get("tracks", []))
        offer = sdp.parse(message["sdp"])
        self.counter.first.video_payload_types.update(sdp.vp8_payload_types(offer))
        local = _local(self.connection, self._candidate)
        await self.session.answer(sdp.receive_answer(offer, local))
        # The server may see our first DTLS flight before the answer that
        # configures DTLS; OpenSSL then resends it after a second.
        if self._connecting is None:
            remote = sdp.remote_parameters(offer)
            self._connecting = asyncio.create_task(
                self.connection.connect(remote, sdp.dtls_role(remote.setup))
            )


def _local(
    connection: MediaConnection, candidate: tuple[str, int]
) -> sdp.LocalParameters:
    return sdp.LocalParameters(
        connection.local.ufrag,
        connection.local.pwd,
        connection.identity.fingerprint,
        candidate,
    )
