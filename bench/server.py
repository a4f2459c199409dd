"""The server under test in its own process, so that its CPU time is its own.

Much like tests/server.py, but it can run a `smeeton` package from another
tree (an exported commit, for before-and-after runs), and it asks that
tree's command line which flags it has instead of assuming the newest ones.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests import processes
from tests.processes import free_port

# Load peers join a room by name; a server with meeting rooms must allow it.
_TEMPORARY_ROOMS = "--meetings-temporary-rooms"


class BenchServer:
    """`smeeton serve` on loopback with its log in the data directory."""

    def __init__(
        self,
        data_dir: Path,
        source: Path | None = None,
        extra: tuple[str, ...] = (),
        host: str = "127.0.0.1",
        prefix: tuple[str, ...] = (),
    ) -> None:
        # `host` and `prefix` put the server elsewhere, such as on a veth
        # address inside a network namespace (bench/netns.py).
        self.host = host
        self.prefix = prefix
        self.http_port = free_port()
        self.media_port = free_port(socket.SOCK_DGRAM)
        self.data_dir = data_dir
        self.log_path = data_dir / "server.log"
        self.source = source.resolve() if source is not None else None
        self.extra = extra
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.http_port}/ws"

    def start(self, timeout: float = 20.0) -> BenchServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        flags = self._flags()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*self.prefix, *self._command(), "serve", *flags],
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._where(),
            )
        processes.wait_until_up(
            self.process, self.url + "/healthz", self.log, timeout=timeout
        )
        return self

    def stop(self) -> None:
        processes.stop(self.process)

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> dict[str, float]:
        """The /metrics page as {name{labels}: value}."""
        return processes.read_metrics(self.url + "/metrics")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        return sum(self.cpu_times())

    def cpu_times(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the server process, from /proc."""
        assert self.process is not None
        return processes.cpu_times(self.process.pid)

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "smeeton"]

    def _where(self) -> dict:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.source is None:
            return {"env": env}
        # `python -m` looks in its directory first, so run from the tree.
        env["PYTHONPATH"] = str(self.source)
        return {"env": env, "cwd": str(self.source)}

    def _flags(self) -> list[str]:
        flags = [
            "--server-port",
            str(self.http_port),
            "--media-port",
            str(self.media_port),
            "--media-bind",
            self.host,
            "--media-announce",
            self.host,
            "--data-dir",
            str(self.data_dir),
        ]
        usage = subprocess.run(
            [*self._command(), "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=30,
            **self._where(),
        ).stdout
        if "--server-host" in usage:
            flags += ["--server-host", self.host]
        if _TEMPORARY_ROOMS in usage:
            flags += [_TEMPORARY_ROOMS, "true"]
        return [*flags, *self.extra]
