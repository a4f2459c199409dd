"""Packets lost upstream come back by NACK, and a subscriber's PLI brings a key frame.

The publisher is an aiortc peer whose media crosses a lossy relay; the
subscriber is an aiortc peer connected directly. What the subscriber is
handed is observed at its RTP receiver, before depacketizing, so that
sequence holes, retransmissions and VP8 key frames can be counted there.
"""

from __future__ import annotations

import asyncio
import logging
import time

import av
import numpy

from smeeton.sfu.rtp import is_vp8_keyframe
from tests.peers import Participant, PatternTrack, ToneTrack, wait_for
from tests.relay import LossyRelay

logger = logging.getLogger(__name__)

LOSS = 0.05


class NoisyTrack(PatternTrack):
    """Colour bars over a band of noise, so each frame fills several packets.

    Plain bars compress to about one packet a frame; noise keeps the encoder
    at its bitrate, giving loss enough packets to hit within seconds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.random = numpy.random.default_rng(7)

    async def recv(self) -> av.VideoFrame:
        frame = await super().recv()
        image = frame.to_ndarray(format="rgb24")
        band = image[: self.height // 4]
        band[:] = self.random.integers(0, 256, band.shape, numpy.uint8)
        noisy = av.VideoFrame.from_ndarray(image, format="rgb24")
        noisy.pts, noisy.time_base = frame.pts, frame.time_base
        return noisy


class RtpLog:
    """The RTP packets one aiortc receiver is handed, with RTX unwrapped."""

    def __init__(self, transceiver) -> None:
        self.rtx_types = {
            codec.payloadType
            for codec in transceiver._codecs
            if codec.mimeType.lower().endswith("/rtx")
        }
        self.started = time.monotonic()
        self.media_ssrc: int | None = None
        self.first: int | None = None
        self.highest = 0
        self.sequences: set[int] = set()
        self.packets = 0
        self.rtx = 0
        self.late = 0
        self.keyframes: dict[int, float] = {}
        receiver = transceiver.receiver
        self.receiver = receiver
        handle = receiver._handle_rtp_packet

        async def observe(packet, arrival_time_ms: int) -> None:
            self._note(packet)
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = observe

    def _note(self, packet) -> None:
        self.packets += 1
        sequence, payload = packet.sequence_number, packet.payload

        # Unwrap retransmission (RFC 4588 §4: the original sequence first).
        if packet.payload_type in self.rtx_types:
            if len(payload) < 2:
                return
            self.rtx += 1
            sequence = int.from_bytes(payload[:2], "big")
            payload = payload[2:]
        else:
            self.media_ssrc = packet.ssrc

        # Extend the sequence number over wraps, relative to the highest.
        extended = self._extend(sequence)
        if extended < self.highest and extended not in self.sequences:
            self.late += 1
        self.sequences.add(extended)
        self.highest = max(self.highest, extended)

        # A key frame counts once, on its first packet to arrive.
        if is_vp8_keyframe(payload, 0, len(payload)):
            self.keyframes.setdefault(packet.timestamp, time.monotonic())

    def _extend(self, sequence: int) -> int:
        if self.first is None:
            self.first = self.highest = sequence + 0x10000
            return self.highest
        delta = (sequence - self.highest) & 0xFFFF
        return (
            self.highest + delta if delta < 0x8000 else self.highest + delta - 0x10000
        )

    def holes(self, up_to: int) -> int:
        """Sequence numbers never received between the first one and `up_to`."""
        assert self.first is not None
        return sum(1 for s in range(self.first, up_to + 1) if s not in self.sequences)

    def last_keyframe(self) -> float:
        return max(self.keyframes.values(), default=self.started)


async def joined(server, name: str) -> Participant:
    participant = Participant(server.ws_url, name)
    await participant.join()
    return participant


async def watch_video(subscriber: Participant) -> RtpLog:
    """Wait for the subscriber to decode video, then observe its receiver."""

    def decoding() -> bool:
        return any(f >= 5 for f in subscriber.frames("video"))

    await wait_for(decoding, 20, f"{subscriber.name} decoding video")
    assert subscriber.subscribe_pc is not None
    mid = next(m for m, r in subscriber.received.items() if r.info["kind"] == "video")
    transceiver = next(
        t for t in subscriber.subscribe_pc.getTransceivers() if t.mid == mid
    )
    log = RtpLog(transceiver)
    await wait_for(lambda: log.media_ssrc is not None, 5, "a video packet")
    return log


def metric(server, name: str) -> float:
    return server.metrics()[f"smeeton_track_{name}_total"]


async def test_five_percent_upstream_loss_is_recovered_by_nack_retransmission(
    server,
):
    subscriber = await joined(server, "viewer")
    publisher = await joined(server, "speaker")
    relay = await LossyRelay(("127.0.0.1", server.media_port), LOSS).start()
    try:
        await publisher.publish(
            [(ToneTrack(), "microphone"), (NoisyTrack(), "camera")],
            answer_filter=relay.answer_filter,
        )
        log = await watch_video(subscriber)

        # Let loss and recovery run for a while, then give the packets up to
        # `highest` a second to be recovered before counting the holes.
        frames_before = sum(subscriber.frames("video"))
        await wait_for(lambda: relay.rtp_dropped >= 40, 20, "40 packets dropped")
        await asyncio.sleep(2.0)
        highest, first = log.highest, log.first
        await asyncio.sleep(1.0)
        holes = log.holes(highest)
        span = highest - first + 1
        frames_after = sum(subscriber.frames("video"))
        values = server.metrics()

        def value(name: str) -> float:
            return values[f"smeeton_track_{name}_total"]

        logger.info(
            "relay dropped %d of %d RTP packets; server: %d NACKs sent, %d "
            "retransmissions received, %d lost; subscriber: %d packets, %d RTX, "
            "%d late, %d holes in %d; frames %d -> %d",
            relay.rtp_dropped,
            relay.rtp_dropped + relay.rtp_forwarded,
            value("nacks_sent"),
            value("retransmissions_received"),
            value("packets_lost_upstream"),
            log.packets,
            log.rtx,
            log.late,
            holes,
            span,
            frames_before,
            frames_after,
        )

        # The relay really lost packets, and at about the rate asked for.
        dropped = relay.rtp_dropped
        total = dropped + relay.rtp_forwarded
        assert dropped >= 40
        assert 0.02 < dropped / total < 0.10

        # The server asked for them and got them back: a dropped packet is
        # either an original, recovered once, or a retransmission, asked
        # again. What stays lost is a small part of what was dropped.
        assert value("nacks_sent") > 0
        assert value("retransmissions_received") >= 0.7 * dropped
        assert value("packets_lost_upstream") <= 0.1 * dropped

        # The subscriber got the recovered packets, out of order: its
        # sequence has almost none of the 5 % holes it would have otherwise.
        assert log.late > 0
        assert holes <= 0.01 * span

        # And it keeps decoding video throughout.
        assert frames_after > frames_before + 30
        before = sum(subscriber.frames("video"))
        await asyncio.sleep(1.0)
        assert sum(subscriber.frames("video")) > before + 10
    finally:
        for participant in (publisher, subscriber):
            await participant.close()
        relay.close()


async def test_pli_from_a_subscriber_makes_a_key_frame_arrive(server):
    # aiortc's VP8 encoder makes key frames only when asked or when it is
    # recreated (its kf_max_dist is 3000 frames, 100 s at 30 fps). Early on
    # both happen: the server asks for one when a subscriber starts, and a
    # REMB that moves the bitrate by over 10 % recreates the encoder (the
    # server's first REMB usually comes before the first frame). So the test
    # first waits for `quiet` seconds without any key frame, which shows the
    # stream brings none by itself in such a window. One PLI must then bring
    # one within `arrival` seconds, a shorter window: the key frame is the
    # PLI's doing, not the encoder's own timing.
    quiet, arrival = 3.0, 2.0
    subscriber = await joined(server, "viewer")
    publisher = await joined(server, "speaker")
    try:
        await publisher.publish([(PatternTrack(), "camera")])
        log = await watch_video(subscriber)

        # Steady: no key frame for a whole quiet window.
        def steady() -> bool:
            return time.monotonic() - log.last_keyframe() > quiet

        await wait_for(steady, 20, f"{quiet} s without a key frame")
        keyframes = len(log.keyframes)
        requested = metric(server, "keyframes_requested")
        frames = sum(subscriber.frames("video"))

        # One PLI (RFC 4585 §6.3.1) for the track, as the subscriber sees it.
        assert log.media_ssrc is not None
        sent = time.monotonic()
        await log.receiver._send_rtcp_pli(log.media_ssrc)
        await wait_for(
            lambda: len(log.keyframes) > keyframes, arrival, "a key frame after PLI"
        )
        latency = max(log.keyframes.values()) - sent
        logger.info(
            "key frame arrived %.0f ms after the PLI, sent %.1f s into watching "
            "with %d key frames seen before it",
            latency * 1000,
            sent - log.started,
            keyframes,
        )

        assert metric(server, "keyframes_requested") > requested
        await wait_for(
            lambda: sum(subscriber.frames("video")) > frames + 10,
            5,
            "decoding past the key frame",
        )
    finally:
        for participant in (publisher, subscriber):
            await participant.close()
