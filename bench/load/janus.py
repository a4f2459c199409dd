"""Janus VideoRoom signalling for the load peers, over Janus's HTTP API.

Requests are POSTed; synchronous ones answer in the response, asynchronous
ones answer "ack" there and the result arrives on the session's long poll
with the same transaction id. A publisher joins, sends our offer with
`publish` and gets Janus's answer; a subscriber joins as `subscriber` to a
list of feeds (after their `webrtcup`, or Janus says "No such feed"), gets
Janus's offer and answers it with `start`. The media halves are the same
replaying publisher and timing subscriber that load our own server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import httpx

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

VIDEOROOM = "janus.plugin.videoroom"
# Janus drops a session after 60 s without a request; long polls count, and
# a keepalive covers the moments when none is outstanding.
_KEEPALIVE_INTERVAL = 20.0
# RFC 6464: voice activity set, level -30 dBov, as for our own server.
_AUDIO_LEVEL = bytes([0x80 | 30])


class JanusError(RuntimeError):
    """Janus, or its VideoRoom plugin, refused a request."""


class JanusApi:
    """One HTTP client for a Janus server, shared by every load peer."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        # Each session holds a long poll open; leave room for all of them.
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        self.client = httpx.AsyncClient(timeout=60.0, limits=limits)

    async def post(self, path: str, message: dict) -> dict:
        message = {**message, "transaction": message.get("transaction") or _tid()}
        response = await self.client.post(self.url + path, json=message)
        response.raise_for_status()
        return response.json()

    async def close(self) -> None:
        await self.client.aclose()


class JanusSession:
    """A Janus session: handles, their requests, and the long poll of events."""

    def __init__(self, api: JanusApi, name: str) -> None:
        self.api = api
        self.name = name
        self.id = 0
        self.webrtcup: dict[int, asyncio.Future[None]] = {}
        self._waiters: dict[str, asyncio.Future[dict]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def create(self) -> None:
        reply = await self.api.post("/janus", {"janus": "create"})
        self.id = _success(reply)["id"]
        self._tasks.append(asyncio.create_task(self._poll()))
        self._tasks.append(asyncio.create_task(self._keepalive()))

    async def attach(self) -> int:
        reply = await self.api.post(
            f"/janus/{self.id}", {"janus": "attach", "plugin": VIDEOROOM}
        )
        handle = _success(reply)["id"]
        self.webrtcup[handle] = asyncio.get_running_loop().create_future()
        return handle

    async def message(
        self, handle: int, body: dict, jsep: dict | None = None, timeout: float = 10.0
    ) -> tuple[dict, dict | None]:
        """Send a plugin request; returns the plugin's data and any JSEP."""
        transaction = _tid()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[transaction] = waiter
        message = {"janus": "message", "transaction": transaction, "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        try:
            reply = await self.api.post(f"/janus/{self.id}/{handle}", message)
            if reply.get("janus") != "ack":
                # Synchronous requests (create, list) answer in the response.
                return _plugin_data(reply), reply.get("jsep")
            event = await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiters.pop(transaction, None)
        return _plugin_data(event), event.get("jsep")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.id:
            with contextlib.suppress(httpx.HTTPError, OSError):
                await self.api.post(f"/janus/{self.id}", {"janus": "destroy"})
            self.id = 0

    async def _poll(self) -> None:
        while True:
            try:
                response = await self.api.client.get(
                    f"{self.api.url}/janus/{self.id}", params={"maxev": 16}
                )
                events = response.json()
            except (httpx.HTTPError, ValueError) as error:
                logger.warning("%s: the long poll failed: %s", self.name, error)
                await asyncio.sleep(0.5)
                continue
            for event in events if isinstance(events, list) else [events]:
                self._dispatch(event)

    def _dispatch(self, event: dict) -> None:
        kind = event.get("janus")
        if kind == "webrtcup":
            waiter = self.webrtcup.get(event.get("sender", 0))
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        waiter = self._waiters.get(event.get("transaction", ""))
        if waiter is not None and not waiter.done() and kind in ("event", "error"):
            waiter.set_result(event)

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(_KEEPALIVE_INTERVAL)
            try:
                await self.api.post(f"/janus/{self.id}", {"janus": "keepalive"})
            except httpx.HTTPError as error:
                logger.warning("%s: keepalive failed: %s", self.name, error)


async def create_room(api: JanusApi, room: int, publishers: int) -> None:
    """A VideoRoom for the run, with its publisher limit raised."""
    session = JanusSession(api, "room")
    await session.create()
    try:
        handle = await session.attach()
        data, _ = await session.message(
            handle,
            {
                "request": "create",
                "room": room,
                "publishers": publishers,
                "audiocodec": "opus",
                "videocodec": "vp8",
                # No REMB cap and no periodic PLI: the load is fixed anyway.
                "bitrate": 0,
                "fir_freq": 0,
                "notify_joining": False,
            },
        )
        if data.get("videoroom") != "created":
            raise JanusError(f"room {room} not created: {data}")
    finally:
        await session.close()


class Publisher:
    """A load publisher in a Janus VideoRoom: Opus and VP8 replayed from disk."""

    def __init__(
        self,
        api: JanusApi,
        room: int,
        name: str,
        identity: DtlsIdentity,
        audio: Recording,
        video: Recording,
        stamp: bool = False,
        host: str = "127.0.0.1",
        session: JanusSession | None = None,
    ) -> None:
        self.room = room
        self.name = name
        self.host = host
        self.session = session or JanusSession(api, name)
        self.feed = 0
        self.connection = MediaConnection(identity, name + "/publish")
        self.streams = sdp.PublishedStreams.generate()
        audio_ext = [(sdp.AUDIO_LEVEL_ID, _AUDIO_LEVEL), (sdp.MID_ID, b"0")]
        video_ext = [(sdp.MID_ID, b"1")]
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
                    extension_block(video_ext),
                ),
            ],
            stamp,
        )
        self.connection.on_rtcp = self.replay.rtcp_received

    async def start(self, timeout: float = 10.0) -> None:
        """Join, publish, connect, wait for Janus's webrtcup, then replay."""
        if not self.session.id:
            await self.session.create()
        handle = await self.session.attach()
        joined, _ = await self.session.message(
            handle,
            {"request": "join", "ptype": "publisher", "room": self.room},
            timeout=timeout,
        )
        _check(joined, "joined", self.name)
        self.feed = joined["id"]
        candidate = await self.connection.open(self.host)
        offer = sdp.publish_offer(_local(self.connection, candidate), self.streams)
        configured, jsep = await self.session.message(
            handle,
            {"request": "publish", "audio": True, "video": True},
            {"type": "offer", "sdp": offer},
            timeout,
        )
        if jsep is None:
            raise JanusError(f"{self.name}: no answer to the publish offer")
        remote = sdp.remote_parameters(sdp.parse(jsep["sdp"]))
        await self.connection.connect(remote, sdp.dtls_role(remote.setup), timeout)
        await asyncio.wait_for(asyncio.shield(self.session.webrtcup[handle]), timeout)
        self.replay.start()

    async def close(self) -> None:
        self.replay.close()
        self.connection.close()
        await self.session.close()


class Subscriber:
    """A load subscriber in a Janus VideoRoom: one handle for many feeds."""

    def __init__(
        self,
        api: JanusApi,
        room: int,
        name: str,
        identity: DtlsIdentity,
        latency: LatencyHistogram | None = None,
        host: str = "127.0.0.1",
        session: JanusSession | None = None,
    ) -> None:
        self.room = room
        self.name = name
        self.host = host
        self.session = session or JanusSession(api, name)
        self.counter = TimingSubscriber(latency or LatencyHistogram())
        self.connection = MediaConnection(
            identity,
            name + "/subscribe",
            on_rtp=self.counter.rtp_received,
            on_rtcp=self.counter.rtcp_received,
        )
        self._connecting: asyncio.Task[None] | None = None

    async def start(self, feeds: list[int], timeout: float = 10.0) -> None:
        """Subscribe to the feeds and answer Janus's offer; media follows."""
        if not self.session.id:
            await self.session.create()
        handle = await self.session.attach()
        candidate = await self.connection.open(self.host)
        attached, jsep = await self.session.message(
            handle,
            {
                "request": "join",
                "ptype": "subscriber",
                "room": self.room,
                "streams": [{"feed": feed} for feed in feeds],
            },
            timeout=timeout,
        )
        _check(attached, "attached", self.name)
        if jsep is None:
            raise JanusError(f"{self.name}: Janus sent no offer")
        offer = sdp.parse(jsep["sdp"])
        self.counter.first.video_payload_types.update(sdp.vp8_payload_types(offer))
        answer = sdp.receive_answer(offer, _local(self.connection, candidate))
        remote = sdp.remote_parameters(offer)
        started, _ = await self.session.message(
            handle, {"request": "start"}, {"type": "answer", "sdp": answer}, timeout
        )
        _check(started, "event", self.name)
        # Only now does Janus know our credentials: checks and a DTLS hello
        # sent earlier would be dropped, and OpenSSL resends after a second.
        self._connecting = asyncio.create_task(
            self.connection.connect(remote, sdp.dtls_role(remote.setup), timeout)
        )

    async def connected(self, timeout: float = 10.0) -> None:
        if self._connecting is None:
            raise RuntimeError(f"{self.name}: start() first")
        await asyncio.wait_for(asyncio.shield(self._connecting), timeout)

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        self.connection.close()
        await self.session.close()


def _check(data: dict, expected: str, name: str) -> None:
    if "error" in data or data.get("videoroom") != expected:
        raise JanusError(f"{name}: expected {expected}, got {data}")


def _success(reply: dict) -> dict:
    if reply.get("janus") != "success":
        raise JanusError(f"expected success, got {reply}")
    return reply["data"]


def _plugin_data(reply: dict) -> dict:
    if reply.get("janus") == "error":
        raise JanusError(str(reply.get("error")))
    return reply.get("plugindata", {}).get("data", {})


def _tid() -> str:
    return secrets.token_hex(6)


def _local(
    connection: MediaConnection, candidate: tuple[str, int]
) -> sdp.LocalParameters:
    return sdp.LocalParameters(
        connection.local.ufrag,
        connection.local.pwd,
        connection.identity.fingerprint,
        candidate,
    )
