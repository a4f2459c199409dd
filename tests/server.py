"""The real server in a subprocess on free ports, for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError("the server exited:\n" + self.log())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start:\n" + self.log())

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
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def metrics(self) -> dict[str, float]:
        """The /metrics page as {name{labels}: value}."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as response:
            text = response.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def cpu_seconds(self) -> float:
        assert self.process is not None
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
