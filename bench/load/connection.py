"""One load peer's media path: a UDP socket with ICE, DTLS and SRTP on it.

The peer is a full, controlling ICE agent (RFC 8445) with host candidates
only: it checks the remote candidates, nominates the first that answers and
keeps refreshing consent (RFC 7675). It also answers the remote agent's own
checks, so a full-ICE server works as well as a lite one. DTLS reuses the
server's memory-BIO sessions in either role; SRTP keys come from them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

import pylibsrtp
from aioice import stun
from OpenSSL import SSL

from smeeton.sfu.certificate import Certificate
from smeeton.sfu.dtls import DtlsRole, DtlsSession, SrtpKeys, make_context
from smeeton.sfu.ice import IceCredentials

logger = logging.getLogger(__name__)

Address = tuple[str, int]

_SRTP_PROFILES = {
    b"SRTP_AEAD_AES_128_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
    b"SRTP_AES128_CM_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
}
# RFC 8445 §14.2 paces checks at 50 ms; loopback answers in well under that.
_CHECK_INTERVAL = 0.05
# RFC 7675 §5.1 wants a refresh every 5 s on average, well inside 30 s.
_CONSENT_INTERVAL = 5.0
# OpenSSL waits a second before it resends a lost first flight; libwebrtc
# starts at 50 ms. A server whose DTLS comes up a moment after its ICE
# drops our first ClientHello, so we resend it on a browser's schedule.
_HELLO_RESENDS = (0.05, 0.1, 0.2, 0.4)
# A subscriber takes a whole room's streams on one socket; with the kernel's
# default buffer a moment's stall of the load generator's loop would count
# as the server's loss. (The kernel caps this at net.core.rmem_max.)
_RECEIVE_BUFFER = 1 << 20
# RFC 8445 §5.1.2.1: peer-reflexive type preference, as browsers send.
_PRFLX_PRIORITY = (110 << 24) | (65535 << 8) | 255


def _ignore(data: bytes) -> None:
    pass


@dataclass(frozen=True)
class RemoteParameters:
    """What the remote description says of the transport."""

    ufrag: str
    pwd: str
    fingerprint: tuple[str, str]
    setup: str
    candidates: tuple[Address, ...]


@dataclass(frozen=True)
class DtlsIdentity:
    """A certificate and DTLS context, shared by every connection of a process."""

    certificate: Certificate
    context: SSL.Context

    @classmethod
    def generate(cls) -> DtlsIdentity:
        certificate = Certificate.generate()
        return cls(certificate, make_context(certificate))

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint


class MediaConnection(asyncio.DatagramProtocol):
    """ICE, DTLS and SRTP for one peer connection of a load peer."""

    def __init__(
        self,
        identity: DtlsIdentity,
        name: str = "",
        on_rtp: Callable[[bytes], None] = _ignore,
        on_rtcp: Callable[[bytes], None] = _ignore,
    ) -> None:
        self.identity = identity
        self.name = name
        self.local = IceCredentials.generate()
        self.on_rtp = on_rtp
        self.on_rtcp = on_rtcp
        self.address: Address | None = None
        self.srtp_errors = 0
        self.closed = False
        self._remote: RemoteParameters | None = None
        self._socket: asyncio.DatagramTransport | None = None
        self._dtls: DtlsSession | None = None
        self._checks: dict[bytes, Address] = {}
        self._tie_breaker = secrets.randbits(64)
        self._connected: asyncio.Future[None] | None = None
        self._consent: asyncio.Task[None] | None = None
        self._hello: asyncio.Task[None] | None = None
        # Our DTLS datagrams until the remote's first one arrives.
        self._first_flight: list[bytes] | None = []
        self._protect = self._protect_rtcp = _not_connected
        self._unprotect = self._unprotect_rtcp = _not_connected

    async def open(self, host: str = "127.0.0.1") -> Address:
        """Bind the socket; returns the host candidate to put in the SDP."""
        loop = asyncio.get_running_loop()
        self._socket, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, 0)
        )
        sock = self._socket.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        return self._socket.get_extra_info("sockname")[:2]

    async def connect(
        self, remote: RemoteParameters, role: DtlsRole, timeout: float = 10.0
    ) -> None:
        """Run ICE and the DTLS handshake; returns once SRTP keys are in place."""
        if self._socket is None:
            raise RuntimeError("open() the connection first")
        if not remote.candidates:
            raise ValueError("the remote description has no usable candidate")
        self._remote = remote
        self._connected = asyncio.get_running_loop().create_future()
        self._dtls = DtlsSession(
            self.identity.context,
            role,
            remote.fingerprint,
            send=self._send_dtls,
            on_connected=self._dtls_connected,
            on_closed=self._dtls_closed,
            name=self.name,
        )
        checking = asyncio.create_task(self._check_until_selected(remote))
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{self.name}: no ICE and DTLS within {timeout} s"
            ) from None
        finally:
            checking.cancel()
        self._consent = asyncio.create_task(self._refresh_consent())

    @property
    def connected(self) -> bool:
        return self._connected is not None and self._connected.done()

    def send_rtp(self, packet: bytes) -> None:
        """Protect and send one RTP packet; dropped unless connected."""
        try:
            protected = self._protect(packet)
        except pylibsrtp.Error:
            self.srtp_errors += 1
            return
        if self.address is not None and self._socket is not None:
            self._socket.sendto(protected, self.address)

    def send_rtcp(self, packet: bytes) -> None:
        try:
            protected = self._protect_rtcp(packet)
        except pylibsrtp.Error:
            self.srtp_errors += 1
            return
        if self.address is not None and self._socket is not None:
            self._socket.sendto(protected, self.address)

    def close(self) -> None:
        """Say goodbye over DTLS and close the socket; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for task in (self._consent, self._hello):
            if task is not None:
                task.cancel()
        if self._dtls is not None:
            self._dtls.close()
        if self._socket is not None:
            self._socket.close()
        if self._connected is not None and not self._connected.done():
            self._connected.cancel()

    # asyncio.DatagramProtocol

    def datagram_received(self, data: bytes, addr: Address) -> None:
        # RFC 7983 §7: the first byte tells STUN, DTLS and SRTP apart.
        first = data[0] if data else 0
        if 127 < first < 192:
            if 192 <= data[1] <= 223:
                try:
                    self.on_rtcp(self._unprotect_rtcp(data))
                except pylibsrtp.Error:
                    self.srtp_errors += 1
                return
            try:
                self.on_rtp(self._unprotect(data))
            except pylibsrtp.Error:
                self.srtp_errors += 1
        elif 19 < first < 64:
            if self._dtls is not None and addr == self.address:
                self._first_flight = None
                self._dtls.datagram_received(data)
        elif first < 4:
            self._stun_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.debug("%s: UDP error %s", self.name, exc)

    # ICE.

    async def _check_until_selected(self, remote: RemoteParameters) -> None:
        while self.address is None:
            for candidate in remote.candidates:
                self._send_check(candidate, nominate=True)
            await asyncio.sleep(_CHECK_INTERVAL)

    async def _refresh_consent(self) -> None:
        while self.address is not None:
            await asyncio.sleep(_CONSENT_INTERVAL)
            if self.address is not None:
                self._send_check(self.address, nominate=False)

    def _send_check(self, address: Address, nominate: bool) -> None:
        remote = self._remote
        if remote is None or self._socket is None:
            return
        request = stun.Message(
            message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST
        )
        request.attributes["USERNAME"] = f"{remote.ufrag}:{self.local.ufrag}"
        request.attributes["PRIORITY"] = _PRFLX_PRIORITY
        request.attributes["ICE-CONTROLLING"] = self._tie_breaker
        if nominate:
            request.attributes["USE-CANDIDATE"] = None
        request.add_message_integrity(remote.pwd.encode())
        request.add_fingerprint()
        self._checks[request.transaction_id] = address
        if len(self._checks) > 64:
            # Unanswered checks of the first moments are of no further use.
            self._checks.pop(next(iter(self._checks)))
        self._socket.sendto(bytes(request), address)

    def _stun_received(self, data: bytes, addr: Address) -> None:
        try:
            message = stun.parse_message(data)
        except (ValueError, struct.error, UnicodeError, KeyError, IndexError):
            return
        if message.message_method != stun.Method.BINDING:
            return
        if message.message_class == stun.Class.REQUEST:
            self._answer_check(message, addr)
        elif message.message_class == stun.Class.RESPONSE:
            self._check_succeeded(message, addr)

    def _check_succeeded(self, message: stun.Message, addr: Address) -> None:
        remote = self._remote
        sent_to = self._checks.pop(message.transaction_id, None)
        if remote is None or sent_to != addr:
            return
        if not message.check_message_integrity(remote.pwd.encode()):
            return
        if self.address is not None:
            return
        self.address = addr
        logger.debug("%s selected %s:%d", self.name, *addr)
        dtls = self._dtls
        if dtls is not None and dtls.role is DtlsRole.CLIENT:
            dtls.start()
            self._hello = asyncio.get_running_loop().create_task(self._resend_hello())

    async def _resend_hello(self) -> None:
        for delay in _HELLO_RESENDS:
            await asyncio.sleep(delay)
            flight = self._first_flight
            if not flight or self.address is None or self._socket is None:
                return
            for datagram in flight:
                self._socket.sendto(datagram, self.address)

    def _answer_check(self, request: stun.Message, addr: Address) -> None:
        # A full-ICE remote checks us too; a lite one never does.
        username = request.attributes.get("USERNAME", "")
        if not isinstance(username, str) or not username.startswith(
            self.local.ufrag + ":"
        ):
            return
        if not request.check_message_integrity(self.local.pwd.encode()):
            return
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        response.add_message_integrity(self.local.pwd.encode())
        response.add_fingerprint()
        if self._socket is not None:
            self._socket.sendto(bytes(response), addr)

    # DTLS and SRTP.

    def _send_dtls(self, data: bytes) -> None:
        if self._first_flight is not None:
            self._first_flight.append(data)
        if self.address is not None and self._socket is not None:
            self._socket.sendto(data, self.address)

    def _dtls_connected(self, keys: SrtpKeys) -> None:
        profile = _SRTP_PROFILES[keys.profile]
        inbound = pylibsrtp.Policy(
            key=keys.remote,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
            srtp_profile=profile,
        )
        inbound.window_size = 1024
        outbound = pylibsrtp.Policy(
            key=keys.local,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
            srtp_profile=profile,
        )
        inbound_session = pylibsrtp.Session(inbound)
        outbound_session = pylibsrtp.Session(outbound)
        self._unprotect = inbound_session.unprotect
        self._unprotect_rtcp = inbound_session.unprotect_rtcp
        self._protect = outbound_session.protect
        self._protect_rtcp = outbound_session.protect_rtcp
        if self._connected is not None and not self._connected.done():
            self._connected.set_result(None)

    def _dtls_closed(self) -> None:
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(
                ConnectionError(f"{self.name}: the DTLS handshake failed")
            )
        self._protect = self._protect_rtcp = _not_connected


def _not_connected(data: bytes) -> bytes:
    raise pylibsrtp.Error("no SRTP session yet")
