"""A participant's publishing peer connection: the peer offers, we answer.

It routes each incoming RTP packet by SSRC to its track, reads the sender
reports, and keeps the publisher informed: receiver reports for its loss
statistics, REMB for the bitrate it may use, NACKs for lost packets and PLIs
when a subscriber needs a key frame.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from smeeton.sfu import negotiation, rtcp, rtp, sdp
from smeeton.sfu.negotiation import NegotiationError, PublishedSection
from smeeton.sfu.server import MediaServer
from smeeton.sfu.track import Source, Track

logger = logging.getLogger(__name__)

_SSRC = struct.Struct("!I")
_TICK = 0.05
_REPORT_INTERVAL = 1.0
# RFC 4585 §3.5.3 leaves the rate to us: at most five PLIs a second, and
# one more only if the key frame asked for has not come within a second.
KEYFRAME_INTERVAL = 0.2
KEYFRAME_RETRY = 1.0


@dataclass
class PublishResult:
    """The answer to send back and how the set of tracks changed."""

    answer: str
    added: list[Track] = field(default_factory=list)
    removed: list[Track] = field(default_factory=list)


class _Reception:
    """Receive statistics of one source, for RTCP receiver reports."""

    __slots__ = ("cycles", "last_seq", "received", "lost", "sr_middle", "sr_arrival")

    def __init__(self) -> None:
        self.cycles = 0
        self.last_seq = -1
        self.received = 0
        self.lost = 0
        self.sr_middle = 0
        self.sr_arrival = 0.0


class Publisher:
    """The server end of one participant's publishing peer connection."""

    def __init__(self, server: MediaServer, name: str) -> None:
        self.name = name
        self.server = server
        self.transport = server.create_transport(name + "/publish")
        self.transport.on_rtp = self._rtp_received
        self.transport.on_rtcp = self._rtcp_received
        self.tracks: dict[str, Track] = {}
        self.closed = False
        self.on_closed: Callable[[], None] = lambda: None
        self.transport.on_closed = self._transport_closed
        self._ssrc = secrets.randbits(32) or 1
        self._routes: dict[int, Callable[[bytes, float], None]] = {}
        self._by_mid: dict[str, Track] = {}
        self._mid_extension: int | None = None
        self._reception: dict[int, _Reception] = {}
        self._keyframe_sent: dict[int, float] = {}
        self._keyframe_timers: dict[int, asyncio.TimerHandle] = {}
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._keep_informed())

    def handle_offer(self, text: str, labels: dict[str, str]) -> PublishResult:
        """Answer an offer or re-offer; tracks appear and disappear by section."""
        offer = negotiation.parse(text)
        remote = negotiation.remote_transport(offer, is_answer=False)
        transport = self.transport
        if transport.remote is not None and transport.remote != remote.credentials:
            raise NegotiationError("an ICE restart is not supported")
        transport.configure(remote.credentials, remote.fingerprint, remote.role)
        role = transport.dtls_role or remote.role
        answer, sections = negotiation.answer_publish(offer, self._local(), role)
        result = PublishResult(sdp.serialize(answer))
        self._reconcile(sections, labels, result)
        self._mid_extension = next(
            (s.extension_ids.get(negotiation.MID) for s in sections), None
        )
        return result

    def close(self) -> list[Track]:
        """Close the connection and every track; returns the tracks removed."""
        if self.closed:
            return []
        self.closed = True
        self._task.cancel()
        for timer in self._keyframe_timers.values():
            timer.cancel()
        self._keyframe_timers.clear()
        removed = list(self.tracks.values())
        for track in removed:
            track.close()
            self.server.retire(track.stats)
        self.tracks.clear()
        self._routes.clear()
        self.transport.close()
        return removed

    # Offer handling.

    def _local(self) -> negotiation.TransportParameters:
        return negotiation.TransportParameters(
            self.transport.local,
            self.server.certificate.fingerprint,
            self.server.candidates(),
        )

    def _reconcile(
        self,
        sections: list[PublishedSection],
        labels: dict[str, str],
        result: PublishResult,
    ) -> None:
        wanted = {s.mid: s for s in sections}
        for mid, track in list(self.tracks.items()):
            section = wanted.get(mid)
            if section is None or section.codec != track.codec:
                track.close()
                self.server.retire(track.stats)
                del self.tracks[mid]
                result.removed.append(track)
        for section in sections:
            track = self.tracks.get(section.mid)
            if track is None:
                track = Track(
                    "t" + secrets.token_hex(6),
                    section.kind,
                    section.codec,
                    labels.get(section.mid, section.kind),
                    self.name,
                )
                track.on_drop = self._drop
                self.tracks[section.mid] = track
                result.added.append(track)
            self._attach(track, section)
        self._rebuild_routes()

    def _attach(self, track: Track, section: PublishedSection) -> None:
        extension_map = {}
        sent = negotiation.SENT_EXTENSIONS[section.kind]
        for uri, their_id in section.extension_ids.items():
            if uri in sent:
                extension_map[their_id] = sent[uri]
        source = track.source
        if source is not None and source.ssrc == section.ssrc:
            return
        ssrc = section.ssrc
        track.attach(
            Source(
                ssrc,
                section.payload_type,
                section.rtx_ssrc,
                section.rtx_payload_type,
                extension_map,
                section.extension_ids.get(negotiation.AUDIO_LEVEL),
            ),
            request_keyframe=lambda: self._request_keyframe(track),
            send_nack=self._send_nack,
        )

    def _rebuild_routes(self) -> None:
        routes: dict[int, Callable[[bytes, float], None]] = {}
        self._by_mid = {}
        for mid, track in self.tracks.items():
            self._by_mid[mid] = track
            source = track.source
            if source is None:
                continue
            if source.ssrc is not None:
                routes[source.ssrc] = track.receive
            if source.rtx_ssrc is not None:
                routes[source.rtx_ssrc] = track.receive_rtx
        self._routes = routes

    # Packets from the publisher.

    def _rtp_received(self, packet: bytes) -> None:
        route = self._routes.get(_SSRC.unpack_from(packet, 8)[0])
        if route is None:
            route = self._route_by_mid(packet)
            if route is None:
                self._drop("rtp_unknown_ssrc")
                return
        route(packet, self._loop.time())

    def _route_by_mid(self, packet: bytes) -> Callable[[bytes, float], None] | None:
        """An SSRC the SDP did not announce: learn it from the mid extension."""
        if self._mid_extension is None:
            return None
        try:
            elements = rtp.extensions(packet)
        except ValueError:
            return None
        for ext_id, offset, length in elements:
            if ext_id != self._mid_extension:
                continue
            mid = bytes(packet[offset : offset + length]).decode("ascii", "replace")
            track = self._by_mid.get(mid)
            if track is None or track.source is None:
                return None
            ssrc = _SSRC.unpack_from(packet, 8)[0]
            payload_type = packet[1] & 0x7F
            if payload_type == track.source.rtx_payload_type:
                track.source.rtx_ssrc = ssrc
                self._routes[ssrc] = track.receive_rtx
            else:
                track.source.ssrc = ssrc
                self._routes[ssrc] = track.receive
            logger.debug("%s learned SSRC %d for mid %s", self.name, ssrc, mid)
            return self._routes[ssrc]
        return None

    def _rtcp_received(self, packet: bytes) -> None:
        try:
            packets = rtcp.parse_compound(packet)
        except ValueError:
            self._drop("rtcp_malformed")
            return
        now = self._loop.time()
        for report in packets:
            if isinstance(report, rtcp.SenderReport):
                self._sender_report(report, now)

    def _sender_report(self, report: rtcp.SenderReport, now: float) -> None:
        route = self._routes.get(report.ssrc)
        track = getattr(route, "__self__", None)
        if isinstance(track, Track):
            track.sender_report(report.ntp_timestamp, report.rtp_timestamp, now)
        reception = self._reception.setdefault(report.ssrc, _Reception())
        reception.sr_middle = rtcp.middle_32(report.ntp_timestamp)
        reception.sr_arrival = now

    # Feedback to the publisher.

    def _request_keyframe(self, track: Track) -> None:
        """Send a PLI for the track unless one is on its way or was just sent.

        A key frame asked for and not yet arrived serves every subscriber
        that wants one meanwhile; otherwise PLIs are spaced by
        KEYFRAME_INTERVAL so that a crowd joining at once costs the
        publisher one key frame, not one each.
        """
        source = track.source
        if source is None or source.ssrc is None:
            return
        ssrc = source.ssrc
        now = self._loop.time()
        sent = self._keyframe_sent.get(ssrc, -KEYFRAME_RETRY)
        if track.keyframe_pending and now - sent < KEYFRAME_RETRY:
            return
        wait = sent + KEYFRAME_INTERVAL
        if now < wait:
            if ssrc not in self._keyframe_timers:
                self._keyframe_timers[ssrc] = self._loop.call_at(
                    wait, self._delayed_keyframe, track, ssrc
                )
            return
        self._keyframe_sent[ssrc] = now
        track.keyframe_pending = track.detects_keyframes
        self.transport.send_rtcp(rtcp.pack(rtcp.Pli(self._ssrc, ssrc)))

    def _delayed_keyframe(self, track: Track, ssrc: int) -> None:
        self._keyframe_timers.pop(ssrc, None)
        if not self.closed:
            self._request_keyframe(track)

    def _send_nack(self, ssrc: int, sequences: list[int]) -> None:
        self.transport.send_rtcp(rtcp.pack(rtcp.Nack(self._ssrc, ssrc, sequences)))

    async def _keep_informed(self) -> None:
        next_report = 0.0
        while True:
            await asyncio.sleep(_TICK)
            now = self._loop.time()
            for track in self.tracks.values():
                track.resend_missing(now)
            if now >= next_report:
                next_report = now + _REPORT_INTERVAL
                self._send_reports(now)

    def _send_reports(self, now: float) -> None:
        """RFC 3550 §6.4.2 receiver reports, with REMB for the video."""
        blocks = []
        video_ssrcs = []
        for track in self.tracks.values():
            source = track.source
            if source is None or source.ssrc is None:
                continue
            blocks.append(self._report_block(track, source.ssrc, now))
            if track.kind == "video":
                video_ssrcs.append(source.ssrc)
        if not blocks:
            return
        packets: list[object] = [rtcp.ReceiverReport(self._ssrc, blocks[:31])]
        if video_ssrcs:
            bitrate = self.server.config.max_video_bitrate
            packets.append(rtcp.Remb(self._ssrc, bitrate, video_ssrcs))
        self.transport.send_rtcp(rtcp.pack_compound(packets))

    def _report_block(self, track: Track, ssrc: int, now: float) -> rtcp.ReportBlock:
        reception = self._reception.setdefault(ssrc, _Reception())
        stats = track.stats
        highest = (track.highest_sequence) & 0xFFFF
        if reception.last_seq >= 0 and highest < reception.last_seq - 0x8000:
            reception.cycles += 1
        reception.last_seq = highest
        received = stats.packets_received - reception.received
        lost = max(stats.packets_lost_upstream, 0)
        lost_now = max(lost - reception.lost, 0)
        reception.received = stats.packets_received
        reception.lost = lost
        expected = received + lost_now
        fraction = (lost_now * 256 // expected) if expected else 0
        delay = 0
        if reception.sr_arrival:
            delay = int((now - reception.sr_arrival) * 65536)
        return rtcp.ReportBlock(
            ssrc=ssrc,
            fraction_lost=min(fraction, 255),
            packets_lost=min(lost, 0x7FFFFF),
            highest_sequence=(reception.cycles << 16) | highest,
            jitter=0,
            last_sr=reception.sr_middle,
            delay_since_last_sr=delay,
        )

    def _drop(self, reason: str) -> None:
        self.server.drop(reason, self.transport)

    def _transport_closed(self) -> None:
        if not self.closed:
            self.on_closed()
