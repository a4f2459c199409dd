"""A participant's receiving peer connection: we offer, the peer answers.

One section per track, in the order tracks arrived. A track that goes away
leaves its section inactive; only one offer is outstanding at a time, and
changes made meanwhile go into the next one. The subscriber's NACKs are
answered from the track's cache, its PLIs and FIRs go to the publisher, and
sender reports keep its audio and video in step.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from smeeton.sfu import negotiation, rtcp, rtp, sdp
from smeeton.sfu.negotiation import NegotiationError, OfferedTrack
from smeeton.sfu.server import MediaServer
from smeeton.sfu.track import Track

logger = logging.getLogger(__name__)

_REPORT_INTERVAL = 1.0


@dataclass
class Subscription:
    """One track as one subscriber receives it."""

    track: Track
    mid: str
    rtx: bool = False
    rtx_sequence: int = field(default_factory=lambda: secrets.randbelow(0x8000))
    active: bool = False
    packets_lost: int = 0
    round_trip: float | None = None


class Subscriber:
    """The server end of one participant's receiving peer connection."""

    def __init__(self, server: MediaServer, name: str, stream_id: str) -> None:
        self.name = name
        self.stream_id = stream_id
        self.server = server
        self.transport = server.create_transport(name + "/subscribe")
        self.transport.on_rtcp = self._rtcp_received
        self.transport.on_connected = self._activate
        self.transport.on_closed = self._transport_closed
        self.on_closed: Callable[[], None] = lambda: None
        self.closed = False
        self.bandwidth: int | None = None
        self._slots: list[OfferedTrack] = []
        self._subscriptions: dict[str, Subscription] = {}
        self._by_ssrc: dict[int, Subscription] = {}
        self._wanted: dict[str, Track] = {}
        self._offered: list[OfferedTrack] | None = None
        self._version = 0
        self._ssrc = secrets.randbits(32) or 1
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._report())

    @property
    def tracks(self) -> list[Track]:
        """The tracks currently being received."""
        return [s.track for s in self._subscriptions.values() if s.active]

    def offered_tracks(self) -> list[tuple[str, Track]]:
        """(mid, track) of every sending section in the latest offer."""
        slots = self._offered if self._offered is not None else self._slots
        return [
            (slot.mid, self._wanted[slot.track_id])
            for slot in slots
            if slot.ssrc is not None and slot.track_id in self._wanted
        ]

    @property
    def awaiting_answer(self) -> bool:
        return self._offered is not None

    def set_tracks(self, tracks: list[Track]) -> None:
        """The tracks this subscriber should receive; takes effect with an offer."""
        self._wanted = {t.id: t for t in tracks if not t.closed}
        for slot in self._slots:
            if slot.ssrc is not None and slot.track_id not in self._wanted:
                self._stop(slot.mid)

    def needs_offer(self) -> bool:
        """Whether the offered sections differ from the wanted tracks."""
        current = {s.track_id for s in self._slots if s.ssrc is not None}
        return current != set(self._wanted)

    def create_offer(self) -> str | None:
        """The next offer, or None while one is outstanding or nothing changed."""
        if self._offered is not None or self.closed or not self.needs_offer():
            return None
        slots = [self._unwanted_inactive(slot) for slot in self._slots]
        present = {s.track_id for s in slots if s.ssrc is not None}
        for track in self._wanted.values():
            if track.id not in present:
                slots.append(self._slot_for(track, str(len(slots))))
        self._version += 1
        local = negotiation.TransportParameters(
            self.transport.local,
            self.server.certificate.fingerprint,
            self.server.candidates(),
        )
        offer = negotiation.offer_subscribe(slots, local, self._version)
        self._offered = slots
        return sdp.serialize(offer)

    def handle_answer(self, text: str) -> None:
        """Apply the subscriber's answer to our outstanding offer."""
        if self._offered is None:
            raise NegotiationError("no offer is waiting for an answer")
        answer = negotiation.parse(text)
        remote = negotiation.remote_transport(answer, is_answer=True)
        accepted = negotiation.read_subscribe_answer(answer, self._offered)
        transport = self.transport
        if transport.remote is not None and transport.remote != remote.credentials:
            raise NegotiationError("an ICE restart is not supported")
        transport.configure(remote.credentials, remote.fingerprint, remote.role)
        self._slots, self._offered = self._offered, None
        for slot, outcome in zip(self._slots, accepted, strict=True):
            self._apply(slot, outcome)

    def cancel_offer(self) -> None:
        """Forget an outstanding offer the peer will never answer (it reconnects)."""
        self._offered = None

    def close(self) -> None:
        """Stop receiving every track and close the connection; safe twice."""
        if self.closed:
            return
        self.closed = True
        self._task.cancel()
        for mid in list(self._subscriptions):
            self._stop(mid)
        self.transport.close()

    # Sections.

    def _slot_for(self, track: Track, mid: str) -> OfferedTrack:
        return OfferedTrack(
            mid=mid,
            kind=track.kind,
            codec=track.codec,
            ssrc=track.ssrc,
            rtx_ssrc=track.rtx_ssrc,
            cname=track.cname,
            stream_id=track.stream_id,
            track_id=track.id,
        )

    def _unwanted_inactive(self, slot: OfferedTrack) -> OfferedTrack:
        if slot.ssrc is None or slot.track_id in self._wanted:
            return slot
        return OfferedTrack(slot.mid, slot.kind, slot.codec)

    def _apply(self, slot: OfferedTrack, outcome: negotiation.AcceptedTrack) -> None:
        current = self._subscriptions.get(slot.mid)
        track = self._wanted.get(slot.track_id) if slot.ssrc is not None else None
        if current is not None and (track is None or current.track is not track):
            self._stop(slot.mid)
            current = None
        if track is None or not outcome.receiving:
            return
        if current is None:
            current = Subscription(track, slot.mid)
            self._subscriptions[slot.mid] = current
            self._by_ssrc[track.ssrc] = current
        current.rtx = outcome.rtx
        if self.transport.state.value == "connected":
            self._start(current)

    def _activate(self) -> None:
        for subscription in self._subscriptions.values():
            self._start(subscription)

    def _start(self, subscription: Subscription) -> None:
        if subscription.active or subscription.track.closed:
            return
        subscription.active = True
        subscription.track.add_output(self, self.transport.send_rtp)

    def _stop(self, mid: str) -> None:
        subscription = self._subscriptions.pop(mid, None)
        if subscription is None:
            return
        subscription.track.remove_output(self)
        self._by_ssrc.pop(subscription.track.ssrc, None)
        subscription.active = False

    # Feedback from the subscriber.

    def _rtcp_received(self, packet: bytes) -> None:
        try:
            packets = rtcp.parse_compound(packet)
        except ValueError:
            self.server.drop("rtcp_malformed", self.transport)
            return
        for feedback in packets:
            if isinstance(feedback, rtcp.Nack):
                self._nack(feedback)
            elif isinstance(feedback, rtcp.Pli):
                self._keyframe_wanted(feedback.media_ssrc)
            elif isinstance(feedback, rtcp.Fir):
                for ssrc, _ in feedback.entries:
                    self._keyframe_wanted(ssrc)
            elif isinstance(feedback, rtcp.ReceiverReport | rtcp.SenderReport):
                self._receiver_report(feedback.reports)
            elif isinstance(feedback, rtcp.Remb):
                self.bandwidth = feedback.bitrate

    def _nack(self, nack: rtcp.Nack) -> None:
        subscription = self._by_ssrc.get(nack.media_ssrc)
        if subscription is None or not subscription.active:
            return
        track = subscription.track
        track.stats.nacks_received += 1
        for sequence in nack.lost:
            packet = track.cache.get(sequence)
            if packet is None:
                continue
            if subscription.rtx and track.rtx_ssrc is not None:
                packet = self._wrap_rtx(subscription, packet)
            track.stats.retransmissions_sent += 1
            self.transport.send_rtp(packet)

    def _wrap_rtx(self, subscription: Subscription, packet: bytes) -> bytes:
        track = subscription.track
        subscription.rtx_sequence = (subscription.rtx_sequence + 1) & 0xFFFF
        offset = rtp.parse_header(packet)[5]
        assert track.codec.rtx_payload_type is not None and track.rtx_ssrc
        return rtp.wrap_rtx(
            packet,
            offset,
            track.codec.rtx_payload_type,
            track.rtx_ssrc,
            subscription.rtx_sequence,
        )

    def _keyframe_wanted(self, ssrc: int) -> None:
        subscription = self._by_ssrc.get(ssrc)
        if subscription is not None and subscription.active:
            subscription.track.keyframe_wanted()

    def _receiver_report(self, blocks: list[rtcp.ReportBlock]) -> None:
        now_middle = rtcp.middle_32(rtcp.ntp_now())
        for block in blocks:
            subscription = self._by_ssrc.get(block.ssrc)
            if subscription is None:
                continue
            subscription.packets_lost = block.packets_lost
            if block.last_sr:
                # RFC 3550 §6.4.1: round trip = A - LSR - DLSR, in 1/65536 s.
                units = now_middle - block.last_sr - block.delay_since_last_sr
                subscription.round_trip = (units & 0xFFFFFFFF) / 65536

    # Sender reports.

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(_REPORT_INTERVAL)
            self._send_sender_reports()

    def _send_sender_reports(self) -> None:
        """RFC 3550 §6.4.1 sender reports for every active track, with CNAMEs."""
        now = self._loop.time()
        reports: list[object] = []
        chunks = []
        for subscription in self._subscriptions.values():
            track = subscription.track
            if not subscription.active or track.sr_mapping is None:
                continue
            ntp, rtp_time, arrival = track.sr_mapping
            elapsed = max(now - arrival, 0.0)
            reports.append(
                rtcp.SenderReport(
                    ssrc=track.ssrc,
                    ntp_timestamp=ntp + int(elapsed * (1 << 32)),
                    rtp_timestamp=(rtp_time + int(elapsed * track.codec.clock_rate))
                    & 0xFFFFFFFF,
                    packet_count=track.stats.packets_received & 0xFFFFFFFF,
                    octet_count=track.stats.bytes_received & 0xFFFFFFFF,
                    reports=[],
                )
            )
            chunks.append((track.ssrc, [(1, track.cname.encode())]))
        if reports:
            reports.append(rtcp.Sdes(chunks[:31]))
            self.transport.send_rtcp(rtcp.pack_compound(reports))

    def _transport_closed(self) -> None:
        if not self.closed:
            self.on_closed()
