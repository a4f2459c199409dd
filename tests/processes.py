"""Servers in processes of their own: started, waited for, measured, stopped.

Shared by the test suite's server and the benchmarks' servers, ours and
Janus, so that each is started and measured the same way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(
    process: subprocess.Popen,
    url: str,
    log: Callable[[], str],
    what: str = "the server",
    timeout: float = 20.0,
) -> None:
    """Poll `url` until it answers; RuntimeError with the log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited:\n" + log())
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start:\n" + log())


def stop(process: subprocess.Popen | None) -> None:
    """Terminate, then kill what does not end within ten seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process and all its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def read_metrics(url: str) -> dict[str, float]:
    """A Prometheus text page as {name{labels}: value}."""
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values
