"""A real RTMP server on loopback for streaming tests: Debian's nginx with
its RTMP module, in its own configuration, pid and log files, recording
every stream it receives as FLV."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.server import free_port

MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")

CONFIG = """\
load_module {module};
{user}
daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen 127.0.0.1:{port};
        application live {{
            live on;
            record all;
            record_path {records};
            record_unique on;
        }}
    }}
}}
"""


def available() -> bool:
    return shutil.which("nginx") is not None and MODULE.exists()


class RtmpServer:
    """nginx on a free loopback port; `start`, `stop` and `start` again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.records = root / "records"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live"

    def start(self) -> RtmpServer:
        self.records.mkdir(parents=True, exist_ok=True)
        # As root the workers would be www-data, which may not write here.
        user = "user root;" if os.geteuid() == 0 else ""
        config = self.root / "nginx.conf"
        config.write_text(
            CONFIG.format(
                module=MODULE,
                user=user,
                root=self.root,
                port=self.port,
                records=self.records,
            )
        )
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.root), "-c", str(config),
             "-e", str(self.root / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start:\n" + self.log())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGTERM is nginx's fast shutdown: connections drop at once.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def recorded(self) -> list[Path]:
        return sorted(self.records.glob("*.flv"), key=lambda p: p.stat().st_mtime)

    def log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""
