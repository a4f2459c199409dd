"""The shared UDP port: every datagram of every participant arrives here.

Datagrams are told apart by their first byte (RFC 7983 §7): 0-3 STUN,
20-63 DTLS, 128-191 RTP and RTCP. A known address goes straight to its
transport; an unknown one is accepted only through an authenticated STUN
Binding request whose USERNAME names a transport.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import Iterable

from smeeton.config import MediaConfig
from smeeton.sfu.certificate import Certificate
from smeeton.sfu.dtls import is_record_datagram, make_context
from smeeton.sfu.ice import binding_error, binding_success, parse_binding_request
from smeeton.sfu.transport import Address, Transport, TransportState

logger = logging.getLogger(__name__)

# RFC 7675 §5.1: consent expires 30 s after the last authenticated check.
CONSENT_TIMEOUT = 30.0
_CONSENT_SWEEP = 5.0
_SOCKET_BUFFER = 4 * 1024 * 1024
# Past this much waiting in user space, sending stops until it drains.
_WRITE_BUFFER_HIGH = 256 * 1024
# Drops that healthy networks cause: counted, but no sign of a bad peer.
_ORDINARY_DROPS = frozenset({"rtp_duplicate"})
# A flood of bad packets is counted in full but logged only this many times.
_LOGGED_DROPS = 64


class MediaServer(asyncio.DatagramProtocol):
    """Owns the UDP socket, the DTLS certificate and every transport on them."""

    def __init__(self, config: MediaConfig) -> None:
        self.config = config
        self.certificate = Certificate.generate()
        self.dtls_context = make_context(self.certificate)
        self.dropped: Counter[str] = Counter()
        self.received_datagrams = 0
        # Counters of closed tracks, so that totals never go backwards.
        self.retired_track_stats: Counter[str] = Counter()
        self._by_ufrag: dict[str, Transport] = {}
        self._by_address: dict[Address, Transport] = {}
        self._socket: asyncio.DatagramTransport | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._logged_drops = 0
        self.port = config.port
        self.sendto = self._send_nowhere

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._socket, _ = await loop.create_datagram_endpoint(
            lambda: self, sock=_media_socket(self.config.bind, self.config.port)
        )
        self.port = self._socket.get_extra_info("sockname")[1]
        self._socket.set_write_buffer_limits(high=_WRITE_BUFFER_HIGH)
        self.sendto = self._socket.sendto
        self._sweeper = asyncio.create_task(self._sweep_consent())
        logger.info("Media port open on UDP %s:%d.", self.config.bind, self.port)

    def close(self) -> None:
        """Close every transport and the socket; safe to call twice."""
        for transport in list(self._by_ufrag.values()):
            transport.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self.sendto = self._send_nowhere

    def create_transport(self, name: str) -> Transport:
        transport = Transport(self, name)
        self._by_ufrag[transport.local.ufrag] = transport
        return transport

    def forget(self, transport: Transport) -> None:
        """Called by a closing transport: no datagram reaches it any more."""
        self._by_ufrag.pop(transport.local.ufrag, None)
        for address in [a for a, t in self._by_address.items() if t is transport]:
            del self._by_address[address]

    def retire(self, stats: object) -> None:
        """Keep a closed track's counters in the server's totals."""
        for name, value in vars(stats).items():
            self.retired_track_stats[name] += value

    def candidates(self) -> list[tuple[str, int]]:
        """The host candidates to announce: configured, else every local address."""
        addresses = self.config.announce or local_addresses(self.config.bind)
        return [(address, self.port) for address in addresses]

    @property
    def transport_count(self) -> int:
        return len(self._by_ufrag)

    # asyncio.DatagramProtocol

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.received_datagrams += 1
        transport = self._by_address.get(addr)
        if not data:
            self.drop("empty", transport, addr)
            return
        first = data[0]
        if 127 < first < 192:
            if transport is None:
                self.drop("rtp_unknown_address", None, addr)
            elif len(data) < 12:
                self.drop("rtp_truncated", transport, addr)
            else:
                transport.srtp_received(data)
        elif first < 4:
            self._stun_received(data, addr)
        elif 19 < first < 64:
            if transport is None:
                self.drop("dtls_unknown_address", None, addr)
            elif not is_record_datagram(data):
                self.drop("dtls_malformed", transport, addr)
            else:
                transport.dtls_received(data)
        else:
            self.drop("unknown_protocol", transport, addr)

    def pause_writing(self) -> None:
        """The kernel's send buffer is full and ours is filling: shed load.

        Queueing more only adds delay to live media; until the buffer
        drains, packets are dropped and counted, and NACKs recover some.
        """
        logger.warning("The media socket cannot send fast enough; dropping.")
        self.sendto = self._send_dropped

    def resume_writing(self) -> None:
        if self._socket is not None:
            self.sendto = self._socket.sendto

    def _send_dropped(self, data: bytes, addr: Address) -> None:
        self.dropped["send_buffer_full"] += 1

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a peer that went away; consent expiry
        # cleans up, so this is only worth a debug line.
        logger.debug("UDP error: %s", exc)

    def drop(
        self, reason: str, transport: Transport | None, addr: Address | None = None
    ) -> None:
        """Count a dropped datagram under its reason; log the first few."""
        self.dropped[reason] += 1
        if reason in _ORDINARY_DROPS:
            return
        if self._logged_drops < _LOGGED_DROPS and self.dropped[reason] == 1:
            self._logged_drops += 1
            who = transport.name if transport is not None else addr
            logger.warning("Dropped a datagram from %s: %s.", who, reason)

    def _stun_received(self, data: bytes, addr: Address) -> None:
        try:
            request = parse_binding_request(data)
        except ValueError:
            self.drop("stun_malformed", self._by_address.get(addr), addr)
            return
        transport = self._by_ufrag.get(request.local_ufrag)
        if transport is None:
            self.drop("stun_unknown_username", None, addr)
            self.sendto(binding_error(request, 401, "Unauthorized"), addr)
            return
        # The peer may check before its answer reaches us; knowing our
        # password is proof enough, its ufrag is checked once we know it.
        remote = transport.remote
        known = remote is None or request.remote_ufrag == remote.ufrag
        if not known or not request.verify(transport.local.pwd):
            self.drop("stun_bad_credentials", transport, addr)
            self.sendto(binding_error(request, 401, "Unauthorized"), addr)
            return
        self.sendto(binding_success(request, addr, transport.local.pwd), addr)
        self._by_address[addr] = transport
        now = asyncio.get_running_loop().time()
        transport.binding_request(addr, request.use_candidate, now)

    async def _sweep_consent(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(_CONSENT_SWEEP)
            now = loop.time()
            for transport in list(self._by_ufrag.values()):
                checked = transport.state is not TransportState.NEW
                if checked and transport.last_check == 0.0:
                    transport.last_check = now
                elif checked and now - transport.last_check > CONSENT_TIMEOUT:
                    transport.fail("consent expired")

    @staticmethod
    def _send_nowhere(data: bytes, addr: Address) -> None:
        pass


def _media_socket(bind: str, port: int) -> socket.socket:
    """The shared UDP socket, with buffers for bursts of many streams.

    A key frame from several publishers at once is hundreds of datagrams;
    the kernel's default buffer of about 200 KB drops some before we read.
    The kernel caps the request at net.core.rmem_max / wmem_max.
    """
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, _SOCKET_BUFFER)
        sock.bind((bind, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def local_addresses(bind: str) -> list[str]:
    """The addresses a peer could reach us on when nothing is configured."""
    if bind not in ("0.0.0.0", "::", ""):
        return [bind]
    found: list[str] = []
    for address in _interface_addresses():
        if address not in found:
            found.append(address)
    return found or ["127.0.0.1"]


def _interface_addresses() -> Iterable[str]:
    # The address of the default route, found without sending anything.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        yield probe.getsockname()[0]
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            yield str(info[4][0])
    except OSError:
        pass
    yield "127.0.0.1"
