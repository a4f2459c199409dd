"""DTLS handshakes that yield SRTP keys (RFC 5764), on memory buffers.

The UDP socket is shared by every transport, so OpenSSL never sees it: each
datagram is written into the session's memory BIO and whatever OpenSSL wants to
send is read back out and handed to the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from OpenSSL import SSL

from smeeton.sfu.certificate import Certificate, fingerprint_matches

logger = logging.getLogger(__name__)

# RFC 5764 §4.2 and RFC 7714 §14.2: (key length, salt length) per profile.
SRTP_PROFILES = {
    b"SRTP_AEAD_AES_128_GCM": (16, 12),
    b"SRTP_AES128_CM_SHA1_80": (16, 14),
}
# Every datagram must fit a path MTU with room for IP and UDP headers.
DTLS_MTU = 1200
# A handshake that has not finished by then will not finish.
HANDSHAKE_TIMEOUT = 30.0
# RFC 6347 §4.1: content type, version, epoch, sequence number, length.
_RECORD_HEADER_SIZE = 13
# RFC 6347 §4.1 and RFC 9146 §4: change_cipher_spec (20) to tls12_cid (25).
_CONTENT_TYPES = range(20, 26)


class DtlsRole(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class DtlsState(enum.Enum):
    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"
    FAILED = "failed"


@dataclass(frozen=True)
class SrtpKeys:
    """Keying material for one direction each, as libsrtp wants it: key then salt."""

    profile: bytes
    local: bytes
    remote: bytes


def is_record_datagram(data: bytes) -> bool:
    """Whether a datagram is a run of whole DTLS 1.0 or 1.2 records.

    OpenSSL discards anything else without a word; checking first lets the
    server count it. LIMITATION: DTLS 1.3 ciphertext records (RFC 9147 §4,
    unified header) would fail this check; OpenSSL's DTLS_METHOD does not
    negotiate 1.3 here.
    """
    size = len(data)
    pos = 0
    while pos < size:
        if pos + _RECORD_HEADER_SIZE > size:
            return False
        # The major version byte is 0xFE for DTLS 1.0 (FEFF) and 1.2 (FEFD).
        if data[pos] not in _CONTENT_TYPES or data[pos + 1] != 0xFE:
            return False
        length = (data[pos + 11] << 8) | data[pos + 12]
        pos += _RECORD_HEADER_SIZE + length
    return pos == size


def make_context(certificate: Certificate) -> SSL.Context:
    """An OpenSSL context for DTLS-SRTP, shared by every session of the server."""
    context = SSL.Context(SSL.DTLS_METHOD)
    # The peer's certificate is self-signed; it is checked against the SDP
    # fingerprint once the handshake is done (RFC 8122 §5).
    context.set_verify(
        SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: True
    )
    context.use_certificate(certificate.certificate)
    context.use_privatekey(certificate.private_key)
    # Broad suites: some WHIP clients present RSA certificates.
    context.set_cipher_list(b"HIGH:!aNULL:!MD5:!RC4:!CAMELLIA")
    context.set_options(SSL.OP_NO_QUERY_MTU)
    context.set_tlsext_use_srtp(b":".join(SRTP_PROFILES))
    return context


class DtlsSession:
    """One DTLS association over one ICE-selected address."""

    def __init__(
        self,
        context: SSL.Context,
        role: DtlsRole,
        remote_fingerprint: tuple[str, str],
        send: Callable[[bytes], None],
        on_connected: Callable[[SrtpKeys], None],
        on_closed: Callable[[], None],
        name: str = "",
    ) -> None:
        self.role = role
        self.state = DtlsState.NEW
        self._remote_fingerprint = remote_fingerprint
        self._send = send
        self._on_connected = on_connected
        self._on_closed = on_closed
        self._name = name
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._ssl = SSL.Connection(context, None)
        self._ssl.set_ciphertext_mtu(DTLS_MTU)
        if role is DtlsRole.CLIENT:
            self._ssl.set_connect_state()
        else:
            self._ssl.set_accept_state()

    def start(self) -> None:
        """Begin the handshake; as client this sends the ClientHello."""
        if self.state is not DtlsState.NEW:
            return
        self.state = DtlsState.CONNECTING
        self._deadline = asyncio.get_running_loop().time() + HANDSHAKE_TIMEOUT
        self._handshake()

    def datagram_received(self, data: bytes) -> None:
        """Feed one DTLS record datagram from the peer."""
        if self.state is DtlsState.NEW and self.role is DtlsRole.SERVER:
            self.start()
        if self.state not in (DtlsState.CONNECTING, DtlsState.CONNECTED):
            return
        try:
            self._ssl.bio_write(data)
        except SSL.Error:
            return
        if self.state is DtlsState.CONNECTING:
            self._handshake()
        else:
            self._read_after_handshake()

    def close(self) -> None:
        """Say goodbye to the peer if connected; safe to call twice."""
        if self.state in (DtlsState.CLOSED, DtlsState.FAILED):
            return
        was_connected = self.state is DtlsState.CONNECTED
        self.state = DtlsState.CLOSED
        self._cancel_timer()
        if was_connected:
            with contextlib.suppress(SSL.Error):
                self._ssl.shutdown()
            self._flush()

    def _handshake(self) -> None:
        try:
            self._ssl.do_handshake()
        except SSL.WantReadError:
            self._flush()
            self._schedule_retransmission()
            return
        except SSL.Error as exc:
            self._fail("handshake failed: %s", exc)
            return
        self._flush()
        self._cancel_timer()
        self._finish_handshake()

    def _finish_handshake(self) -> None:
        certificate = self._ssl.get_peer_certificate(as_cryptography=True)
        algorithm, expected = self._remote_fingerprint
        if certificate is None or not fingerprint_matches(
            certificate, algorithm, expected
        ):
            self._fail("the peer's certificate does not match its SDP fingerprint")
            return
        profile = self._ssl.get_selected_srtp_profile()
        if profile not in SRTP_PROFILES:
            self._fail("no SRTP protection profile was agreed")
            return
        self.state = DtlsState.CONNECTED
        logger.debug("%s DTLS connected as %s", self._name, self.role.value)
        self._on_connected(self._srtp_keys(profile))

    def _srtp_keys(self, profile: bytes) -> SrtpKeys:
        # RFC 5764 §4.2: client key, server key, client salt, server salt.
        key_length, salt_length = SRTP_PROFILES[profile]
        material = self._ssl.export_keying_material(
            b"EXTRACTOR-dtls_srtp", 2 * (key_length + salt_length)
        )
        client_key = material[:key_length]
        server_key = material[key_length : 2 * key_length]
        salts = material[2 * key_length :]
        client = client_key + salts[:salt_length]
        server = server_key + salts[salt_length:]
        if self.role is DtlsRole.CLIENT:
            return SrtpKeys(profile, local=client, remote=server)
        return SrtpKeys(profile, local=server, remote=client)

    def _read_after_handshake(self) -> None:
        # No application data is carried; reading lets OpenSSL answer a
        # retransmitted final flight and notice a close_notify.
        try:
            self._ssl.recv(1500)
        except SSL.WantReadError:
            pass
        except SSL.ZeroReturnError:
            logger.debug("%s DTLS closed by the peer", self._name)
            self.state = DtlsState.CLOSED
            self._on_closed()
            return
        except SSL.Error:
            pass
        self._flush()

    def _flush(self) -> None:
        while True:
            try:
                data = self._ssl.bio_read(DTLS_MTU * 2)
            except SSL.WantReadError:
                return
            if not data:
                return
            self._send(data)

    def _schedule_retransmission(self) -> None:
        self._cancel_timer()
        timeout = self._ssl.DTLSv1_get_timeout()
        if timeout is None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(timeout, self._retransmit)

    def _retransmit(self) -> None:
        self._timer = None
        if self.state is not DtlsState.CONNECTING:
            return
        if asyncio.get_running_loop().time() > self._deadline:
            self._fail("handshake timed out")
            return
        try:
            self._ssl.DTLSv1_handle_timeout()
        except SSL.Error as exc:
            self._fail("handshake failed on retransmission: %s", exc)
            return
        self._flush()
        self._schedule_retransmission()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fail(self, message: str, *args: object) -> None:
        logger.warning("%s DTLS " + message, self._name, *args)
        self.state = DtlsState.FAILED
        self._cancel_timer()
        self._on_closed()
