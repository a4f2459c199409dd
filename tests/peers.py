"""Real WebRTC peers for tests: aiortc participants that speak our protocol.

Each participant publishes synthetic audio and video through its own peer
connection and answers the server's offers on a second one, decoding every
track it receives and counting the frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aioice.ice
import av
import numpy
import websockets
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

# aioice leaves loopback out of its host candidates; in a loopback-only
# namespace that would leave none at all.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

NO_ICE_SERVERS = RTCConfiguration(iceServers=[])


async def wait_for(
    condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll until the condition holds; fail with a message naming it."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


class PatternTrack(MediaStreamTrack):
    """Moving colour bars at 640x360, 30 frames a second."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 360, fps: int = 30) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self._index / self.fps
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        image = numpy.zeros((self.height, self.width, 3), numpy.uint8)
        shift = (self._index * 8) % self.width
        for bar in range(8):
            x = (bar * self.width // 8 + shift) % self.width
            image[:, x : x + self.width // 16] = (bar * 32, 255 - bar * 32, 128)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._index * (90000 // self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self._index += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine tone, 20 ms Opus-sized frames at 48 kHz."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0) -> None:
        super().__init__()
        self.frequency = frequency
        self._samples = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        rate, count = 48000, 960
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._samples / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (numpy.arange(count) + self._samples) / rate
        wave = (numpy.sin(2 * math.pi * self.frequency * t) * 8000).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(
            wave.reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, rate)
        self._samples += count
        return frame


@dataclass
class Received:
    """What arrived on one received track."""

    info: dict
    track: MediaStreamTrack
    frames: int = 0
    width: int = 0
    ended: bool = False
    task: asyncio.Task | None = None


@dataclass
class Participant:
    """One aiortc participant connected to the server."""

    url: str
    name: str
    room: str = "test"
    socket: websockets.ClientConnection | None = None
    publish_pc: RTCPeerConnection | None = None
    subscribe_pc: RTCPeerConnection | None = None
    participant_id: str = ""
    resume_token: str = ""
    received: dict[str, Received] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    offers: int = 0
    on_offer: Callable[[str], Awaitable[str]] | None = None
    # More fields of the join message: access_code, moderator_key, resume.
    join_fields: dict = field(default_factory=dict)
    _reader: asyncio.Task | None = None
    _waiters: list[tuple[str, asyncio.Future]] = field(default_factory=list)

    async def join(self) -> dict:
        self.socket = await websockets.connect(self.url, max_size=2**20)
        self._reader = asyncio.create_task(self._read())
        welcome = self.next_message("welcome")
        await self.send(
            {"type": "join", "room": self.room, "name": self.name, **self.join_fields}
        )
        message = await welcome
        self.participant_id = message["participant_id"]
        self.resume_token = message.get("resume_token", "")
        return message

    async def drop_socket(self) -> None:
        """Cut the WebSocket without leaving, as a broken network would."""
        assert self.socket is not None and self._reader is not None
        self.socket.transport.abort()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def rejoin(self) -> dict:
        """A new WebSocket that takes the same participant back."""
        self.join_fields = {**self.join_fields, "resume": self.resume_token}
        return await self.join()

    async def send(self, message: dict) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(message))

    def next_message(self, kind: str, timeout: float = 10.0) -> Awaitable[dict]:
        """The next message of a kind, counted from this call on."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiters.append((kind, future))
        return asyncio.wait_for(future, timeout)

    async def publish(
        self,
        tracks: list[tuple[MediaStreamTrack, str]],
        answer_filter: Callable[[str], str] | None = None,
    ) -> None:
        """Publish tracks under labels in one offer.

        `answer_filter` may rewrite the server's answer before it is applied,
        for instance to route the media through a relay.
        """
        if self.publish_pc is None:
            self.publish_pc = RTCPeerConnection(NO_ICE_SERVERS)
        pc = self.publish_pc
        transceivers = [
            (pc.addTransceiver(track, direction="sendonly"), label)
            for track, label in tracks
        ]
        await pc.setLocalDescription(await pc.createOffer())
        labels = {t.mid: label for t, label in transceivers}
        answer = self.next_message("publish_answer")
        await self.send(
            {"type": "publish", "sdp": pc.localDescription.sdp, "tracks": labels}
        )
        text = (await answer)["sdp"]
        if answer_filter is not None:
            text = answer_filter(text)
        await pc.setRemoteDescription(RTCSessionDescription(text, "answer"))

    def frames(self, kind: str | None = None) -> list[int]:
        return [
            r.frames
            for r in self.received.values()
            if not r.ended and (kind is None or r.info["kind"] == kind)
        ]

    def live(self) -> list[Received]:
        return [r for r in self.received.values() if not r.ended]

    async def close(self) -> None:
        """Leave the room as a client would, then close everything."""
        if self.socket is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.send({"type": "leave"})
        for received in self.received.values():
            if received.task is not None:
                received.task.cancel()
        for pc in (self.publish_pc, self.subscribe_pc):
            if pc is not None:
                await pc.close()
        if self.socket is not None:
            await self.socket.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        assert self.socket is not None
        try:
            async for text in self.socket:
                message = json.loads(text)
                self.messages.append(message)
                if message["type"] == "offer":
                    await self._answer(message)
                for waiter in list(self._waiters):
                    kind, future = waiter
                    if kind == message["type"] and not future.done():
                        future.set_result(message)
                        self._waiters.remove(waiter)
                        break
        except websockets.ConnectionClosed:
            pass

    async def _answer(self, message: dict) -> None:
        self.offers += 1
        if self.subscribe_pc is None:
            self.subscribe_pc = RTCPeerConnection(NO_ICE_SERVERS)
        pc = self.subscribe_pc
        infos = {t["mid"]: t for t in message["tracks"]}
        for mid, received in list(self.received.items()):
            info = infos.get(mid)
            if info is None or info["track_id"] != received.info["track_id"]:
                received.ended = True
                if received.task is not None:
                    received.task.cancel()
        await pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send({"type": "answer", "sdp": pc.localDescription.sdp})
        for transceiver in pc.getTransceivers():
            info = infos.get(transceiver.mid)
            current = self.received.get(transceiver.mid)
            if info is None or (current and not current.ended):
                continue
            received = Received(info, transceiver.receiver.track)
            received.task = asyncio.create_task(self._consume(received))
            self.received[transceiver.mid] = received

    async def _consume(self, received: Received) -> None:
        try:
            while True:
                frame = await received.track.recv()
                received.frames += 1
                if isinstance(frame, av.VideoFrame):
                    received.width = frame.width
        except MediaStreamError:
            received.ended = True
