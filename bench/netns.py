"""Two network namespaces joined by a veth pair, made for one benchmark run.

The servers run in one namespace and the load generator in the other, so
media crosses a real interface (Janus refuses loopback-only ICE) and no
packet can leave the machine: the addresses exist only inside the pair.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from dataclasses import dataclass

_CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class VethPair:
    """Names and addresses of one run's namespaces; `create`, then `remove`."""

    server_ns: str
    load_ns: str
    server_address: str = "10.99.0.1"
    load_address: str = "10.99.0.2"

    @classmethod
    def for_this_run(cls) -> VethPair:
        tag = os.getpid() % 100000
        return cls(f"smeeton-bench-srv-{tag}", f"smeeton-bench-load-{tag}")

    def create(self) -> None:
        """Make both namespaces, the veth pair between them, and bring all up."""
        self.remove()
        server_if, load_if = "smbs0", "smbl0"
        for namespace in (self.server_ns, self.load_ns):
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
        # Created inside the server namespace, so the root namespace never
        # holds either end, even for a moment.
        _ip(
            "-n", self.server_ns, "link", "add", server_if,
            "type", "veth", "peer", "name", load_if, "netns", self.load_ns,
        )  # fmt: skip
        for namespace, interface, address in (
            (self.server_ns, server_if, self.server_address),
            (self.load_ns, load_if, self.load_address),
        ):
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", interface)
            _ip("-n", namespace, "link", "set", interface, "up")

    def remove(self) -> None:
        """Delete both namespaces (the veth pair goes with them); idempotent."""
        for namespace in (self.server_ns, self.load_ns):
            subprocess.run(
                ["ip", "netns", "delete", namespace],
                capture_output=True,
                check=False,
            )

    def server_prefix(self) -> list[str]:
        """A command prefix that runs a program inside the server namespace."""
        return ["ip", "netns", "exec", self.server_ns]

    def enter_load_namespace(self) -> None:
        """Move this (still single-threaded) process into the load namespace.

        Threads started later inherit it, so call this before the event
        loop or any thread pool exists.
        """
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{self.load_ns}") as handle:
            if libc.setns(handle.fileno(), _CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, f"setns: {os.strerror(errno)}")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)
