"""A ring of recently forwarded packets, so NACKs are answered without the publisher."""

from __future__ import annotations

# About two seconds of 1 Mbit/s video, or ten of Opus; RFC 4585 NACKs
# come within a few round trips, so older packets are useless anyway.
DEFAULT_SIZE = 512


class PacketCache:
    """Packets by their 16-bit sequence number, overwritten as they come round."""

    __slots__ = ("_packets", "_sequences", "_mask")

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size & (size - 1):
            raise ValueError("the cache size must be a power of two")
        self._packets: list[bytes | None] = [None] * size
        self._sequences: list[int] = [-1] * size
        self._mask = size - 1

    def put(self, sequence: int, packet: bytes) -> None:
        index = sequence & self._mask
        self._packets[index] = packet
        self._sequences[index] = sequence

    def get(self, sequence: int) -> bytes | None:
        index = sequence & self._mask
        if self._sequences[index] != sequence:
            return None
        return self._packets[index]

    def clear(self) -> None:
        size = self._mask + 1
        self._packets = [None] * size
        self._sequences = [-1] * size
