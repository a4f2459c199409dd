"""A lossy UDP relay on loopback that stands between one peer and the server.

The peer is told (through its SDP) that the relay is the server. Datagrams
are forwarded both ways; a seeded fraction of the peer's RTP, and only its
RTP, is dropped on the way to the server. STUN, DTLS and RTCP always pass,
so ICE, the handshake and feedback behave as on a clean link.
"""

from __future__ import annotations

import asyncio
import random
import re

Address = tuple[str, int]


def is_rtp(data: bytes) -> bool:
    """RTP, not RTCP, by RFC 7983 §7 (first byte) and RFC 5761 §4 (second)."""
    return len(data) >= 12 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 223


class _Upstream(asyncio.DatagramProtocol):
    """The relay's socket towards the server; replies go back to the peer."""

    def __init__(self, relay: LossyRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay._from_server(data)


class _Downstream(asyncio.DatagramProtocol):
    """The relay's socket the peer sends to, believing it is the server."""

    def __init__(self, relay: LossyRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay._from_peer(data, addr)


class LossyRelay:
    """Forward one peer's datagrams to `server`, dropping `loss` of its RTP."""

    def __init__(self, server: Address, loss: float, seed: int = 1) -> None:
        self.server = server
        self.loss = loss
        self.random = random.Random(seed)
        self.address: Address = ("127.0.0.1", 0)
        self.peer: Address | None = None
        self.rtp_forwarded = 0
        self.rtp_dropped = 0
        self.other_forwarded = 0
        self.to_peer = 0
        self._down: asyncio.DatagramTransport | None = None
        self._up: asyncio.DatagramTransport | None = None

    async def start(self) -> LossyRelay:
        loop = asyncio.get_running_loop()
        self._down, _ = await loop.create_datagram_endpoint(
            lambda: _Downstream(self), local_addr=("127.0.0.1", 0)
        )
        self._up, _ = await loop.create_datagram_endpoint(
            lambda: _Upstream(self), local_addr=("127.0.0.1", 0)
        )
        self.address = self._down.get_extra_info("sockname")[:2]
        return self

    def close(self) -> None:
        """Close both sockets; safe to call twice."""
        for transport in (self._down, self._up):
            if transport is not None:
                transport.close()
        self._down = self._up = None

    def answer_filter(self, sdp: str) -> str:
        """The server's answer with every candidate and port pointing here."""
        host, port = self.address
        sdp = re.sub(
            r"^(a=candidate:\S+ \d+ \S+ \d+ )\S+ \d+",
            rf"\g<1>{host} {port}",
            sdp,
            flags=re.MULTILINE,
        )
        sdp = re.sub(r"^(c=IN IP4 )\S+", rf"\g<1>{host}", sdp, flags=re.MULTILINE)
        return re.sub(r"^(m=\S+ )\d+", rf"\g<1>{port}", sdp, flags=re.MULTILINE)

    def _from_peer(self, data: bytes, addr: Address) -> None:
        if self._up is None:
            return
        self.peer = addr
        if is_rtp(data):
            if self.random.random() < self.loss:
                self.rtp_dropped += 1
                return
            self.rtp_forwarded += 1
        else:
            self.other_forwarded += 1
        self._up.sendto(data, self.server)

    def _from_server(self, data: bytes) -> None:
        if self._down is None or self.peer is None:
            return
        self.to_peer += 1
        self._down.sendto(data, self.peer)
