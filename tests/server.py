"""The real server in a subprocess on free ports, for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests import processes
from tests.processes import free_port


class RunningServer:
    """`smeeton serve` on loopback, with its output kept for failures."""

    def __init__(self, data_dir: Path, *extra: str, temporary_rooms: bool = True):
        # Media tests join rooms by any name; meeting tests create real rooms.
        if temporary_rooms:
            extra = ("--meetings-temporary-rooms", "true", *extra)
        self.http_port = free_port()
        self.media_port = free_port(socket.SOCK_DGRAM)
        self.data_dir = data_dir
        self.log_path = data_dir / "server.log"
        self.extra = extra
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.http_port}/ws"

    def start(self) -> RunningServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._spawn(log)
        assert self.process is not None
        processes.wait_until_up(self.process, self.url + "/healthz", self.log)
        return self

    def _spawn(self, log) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smeeton",
                "serve",
                "--server-port",
                str(self.http_port),
                "--media-port",
                str(self.media_port),
                "--media-bind",
                "127.0.0.1",
                "--media-announce",
                "127.0.0.1",
                "--data-dir",
                str(self.data_dir),
                *self.extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def restart(self) -> RunningServer:
        """Stop the server and start it again on the same ports and data."""
        self.stop()
        return self.start()

    def run_cli(self, *args: str, input: str | None = None) -> str:
        """`python -m smeeton ARGS` on this server's data and address; its
        standard output. Raises CalledProcessError when the exit code is not 0."""
        done = self.cli(*args, input=input)
        done.check_returncode()
        return done.stdout

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """`python -m smeeton ARGS` with the flags that point it at this server."""
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "smeeton",
                *args,
                "--data-dir",
                str(self.data_dir),
                "--server-port",
                str(self.http_port),
            ],
            input=input,
            # Never a terminal: a prompt would wait for ever.
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def stop(self) -> None:
        processes.stop(self.process)

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def metrics(self) -> dict[str, float]:
        """The /metrics page as {name{labels}: value}."""
        return processes.read_metrics(self.url + "/metrics")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return sum(processes.cpu_times(self.process.pid))
