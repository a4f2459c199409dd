"""One peer connection's path over the shared port: ICE-lite, DTLS, then SRTP.

A transport is created before the peer knows our address; it learns its
remote address from the first authenticated STUN request, runs the DTLS
handshake over it, and from then on protects and unprotects RTP and RTCP.
The owner (a publisher or a subscriber) sets `on_rtp` and `on_rtcp`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import pylibsrtp

from smeeton.sfu.dtls import DtlsRole, DtlsSession, DtlsState, SrtpKeys
from smeeton.sfu.ice import IceCredentials

if TYPE_CHECKING:
    from smeeton.sfu.server import MediaServer

logger = logging.getLogger(__name__)

Address = tuple[str, int]

_SRTP_PROFILES = {
    b"SRTP_AEAD_AES_128_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
    b"SRTP_AES128_CM_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
}
# DTLS datagrams kept when they arrive before the peer's description.
_EARLY_DTLS = 4
# Room in the replay window for late retransmissions (RFC 3711 §3.3.2).
_REPLAY_WINDOW = 1024


class TransportState(enum.Enum):
    NEW = "new"
    CHECKING = "checking"
    CONNECTED = "connected"
    CLOSED = "closed"
    FAILED = "failed"


def _ignore(data: bytes) -> None:
    pass


class Transport:
    """ICE-lite, DTLS and SRTP for one peer connection on the shared UDP port."""

    def __init__(self, server: MediaServer, name: str) -> None:
        self.name = name
        self.local = IceCredentials.generate()
        self.remote: IceCredentials | None = None
        self.state = TransportState.NEW
        self.address: Address | None = None
        self.last_check = 0.0
        self.on_rtp: Callable[[bytes], None] = _ignore
        self.on_rtcp: Callable[[bytes], None] = _ignore
        self.on_connected: Callable[[], None] = lambda: None
        self.on_closed: Callable[[], None] = lambda: None
        self._server = server
        self._dtls: DtlsSession | None = None
        self._protect = self._protect_rtcp = _not_connected
        self._unprotect = self._unprotect_rtcp = _not_connected
        self.srtp_failures = 0
        self._early_dtls: list[bytes] = []

    def configure(
        self,
        remote: IceCredentials,
        fingerprint: tuple[str, str],
        role: DtlsRole,
    ) -> None:
        """Take the peer's ICE credentials and DTLS fingerprint from its SDP."""
        if self._dtls is not None:
            # A renegotiation keeps the transport; RFC 8843 bundles every
            # section onto it and a changed fingerprint would need ICE restart.
            return
        self.remote = remote
        self._dtls = DtlsSession(
            self._server.dtls_context,
            role,
            fingerprint,
            send=self._send_dtls,
            on_connected=self._dtls_connected,
            on_closed=self._dtls_closed,
            name=self.name,
        )
        self.state = TransportState.CHECKING
        if self.address is not None and role is DtlsRole.CLIENT:
            self._dtls.start()
        early, self._early_dtls = self._early_dtls, []
        for data in early:
            self._dtls.datagram_received(data)

    @property
    def dtls_role(self) -> DtlsRole | None:
        return None if self._dtls is None else self._dtls.role

    # Receiving, called by the server's demultiplexer.

    def binding_request(self, address: Address, use_candidate: bool, now: float):
        """An authenticated check arrived from `address`; maybe select it."""
        self.last_check = now
        if self.address is None or use_candidate:
            if address != self.address:
                logger.debug("%s selected %s:%d", self.name, *address)
            self.address = address
        dtls = self._dtls
        if dtls is not None and dtls.role is DtlsRole.CLIENT:
            dtls.start()

    def dtls_received(self, data: bytes) -> None:
        if self._dtls is not None:
            self._dtls.datagram_received(data)
        elif len(self._early_dtls) < _EARLY_DTLS:
            # The peer's handshake can overtake its answer on the WebSocket;
            # kept, it saves the peer a retransmission timeout of a second.
            self._early_dtls.append(data)

    def srtp_received(self, data: bytes) -> None:
        """An SRTP or SRTCP datagram (RFC 5761 §4 tells them apart)."""
        if 192 <= data[1] <= 223:
            try:
                plain = self._unprotect_rtcp(data)
            except pylibsrtp.Error:
                self._server.drop("srtcp_unprotect", self)
                return
            self.on_rtcp(plain)
            return
        try:
            plain = self._unprotect(data)
        except pylibsrtp.Error:
            self._server.drop("srtp_unprotect", self)
            return
        self.on_rtp(plain)

    # Sending.

    def send_rtp(self, packet: bytes) -> None:
        """Protect and send one RTP packet; dropped until DTLS is done."""
        address = self.address
        if address is None:
            return
        try:
            self._server.sendto(self._protect(packet), address)
        except pylibsrtp.Error:
            self._server.drop("srtp_protect", self)

    def send_rtcp(self, packet: bytes) -> None:
        """Protect and send RTCP; before DTLS is done there is nothing to say."""
        address = self.address
        if address is None or self.state is not TransportState.CONNECTED:
            return
        try:
            self._server.sendto(self._protect_rtcp(packet), address)
        except pylibsrtp.Error:
            self._server.drop("srtcp_protect", self)

    def sender(self) -> Callable[[bytes], None]:
        """A fast callable that protects and sends RTP, for the forwarding loop."""
        return self.send_rtp

    def close(self) -> None:
        """Close DTLS and leave the shared port; safe to call twice."""
        if self.state in (TransportState.CLOSED, TransportState.FAILED):
            return
        self.state = TransportState.CLOSED
        if self._dtls is not None:
            self._dtls.close()
        self._server.forget(self)
        self._protect = self._protect_rtcp = _not_connected
        self.on_closed()

    def fail(self, reason: str) -> None:
        """The path is gone (consent expired, DTLS failed): close and tell the owner."""
        if self.state in (TransportState.CLOSED, TransportState.FAILED):
            return
        logger.info("%s transport failed: %s", self.name, reason)
        self.close()
        self.state = TransportState.FAILED

    def _send_dtls(self, data: bytes) -> None:
        if self.address is not None:
            self._server.sendto(data, self.address)

    def _dtls_connected(self, keys: SrtpKeys) -> None:
        profile = _SRTP_PROFILES[keys.profile]
        inbound = pylibsrtp.Policy(
            key=keys.remote,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
            srtp_profile=profile,
        )
        inbound.window_size = _REPLAY_WINDOW
        outbound = pylibsrtp.Policy(
            key=keys.local,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
            srtp_profile=profile,
        )
        # A NACK without RTX is answered with the very same packet again.
        outbound.allow_repeat_tx = True
        inbound_session = pylibsrtp.Session(inbound)
        outbound_session = pylibsrtp.Session(outbound)
        self._unprotect = inbound_session.unprotect
        self._unprotect_rtcp = inbound_session.unprotect_rtcp
        self._protect = outbound_session.protect
        self._protect_rtcp = outbound_session.protect_rtcp
        self.state = TransportState.CONNECTED
        logger.debug("%s connected", self.name)
        self.on_connected()

    def _dtls_closed(self) -> None:
        if self._dtls is not None and self._dtls.state is DtlsState.FAILED:
            self.fail("DTLS failed")
        else:
            logger.debug("%s closed by the peer", self.name)
            self.close()


def _not_connected(data: bytes) -> bytes:
    raise pylibsrtp.Error("no SRTP session yet")
