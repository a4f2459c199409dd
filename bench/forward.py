"""How many packets the server forwards per CPU-second, with replaying peers.

The server runs alone in its own process on loopback; every publisher and
subscriber runs in this process on one event loop. After a warm-up, the
benchmark measures over a steady window the server's CPU time (from /proc),
the packets it forwarded (from /metrics) and what the subscribers got.

    python bench/forward.py --publishers 4 --subscribers 10 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    # Run as a script: the packages live at the repository root.
    sys.path.insert(0, str(ROOT))

from bench.load.connection import DtlsIdentity  # noqa: E402
from bench.load.peers import Totals  # noqa: E402
from bench.load.recording import cached  # noqa: E402
from bench.load.smeeton import Publisher, Subscriber  # noqa: E402
from bench.server import BenchServer  # noqa: E402

CACHE = ROOT / "build" / "bench"
FORWARDED = "smeeton_track_packets_forwarded_total"
RECEIVED = "smeeton_track_packets_received_total"
LOST_UPSTREAM = "smeeton_track_packets_lost_upstream_total"


@dataclass(frozen=True)
class Scenario:
    publishers: int = 4
    subscribers: int = 10
    seconds: float = 10.0
    warmup: float = 3.0
    recording_seconds: float = 10.0
    cache: Path = CACHE
    # Another tree holding a `smeeton` package (an exported commit, say) to
    # run as the server, for before-and-after comparisons.
    server_source: Path | None = None
    server_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    """One measured window; rates are per second of wall-clock time."""

    publishers: int
    subscribers: int
    seconds: float
    server_cpu_seconds: float
    server_cpu_percent: float
    # On loopback the kernel share includes the receivers' side of each send.
    server_system_cpu_percent: float
    load_cpu_percent: float
    # Busy CPU of everything else on the machine: a noisy neighbour shows here.
    other_cpu_percent: float
    published_per_second: float
    forwarded_packets: int
    forwarded_per_second: float
    forwarded_per_cpu_second: float
    received_packets: int
    received_per_second: float
    received_mbit_per_second: float
    subscriber_loss_percent: float
    # Loss between the publishers and the server, as the server counts it.
    upstream_lost_packets: int
    # Machine-wide: datagrams the kernel dropped for a full receive buffer.
    udp_receive_buffer_errors: int
    subscriber_srtp_errors: int
    streams_received: int
    publisher_max_lateness_ms: float
    server_tracebacks: int


@dataclass(frozen=True)
class _Snapshot:
    wall: float
    load_cpu: float
    machine_cpu: float
    server_cpu: float
    server_system_cpu: float
    forwarded: float
    published: float
    lost_upstream: float
    receive_buffer_errors: int
    srtp_errors: int
    received: Totals


async def run(scenario: Scenario, data_dir: Path) -> Result:
    """Start a server, load it as the scenario says, and measure one window."""
    audio, video = cached(scenario.cache, scenario.recording_seconds)
    # Started before any peer exists, so blocking the loop here costs nothing.
    server = BenchServer(data_dir, scenario.server_source, scenario.server_args).start()
    identity = DtlsIdentity.generate()
    publishers = [
        Publisher(server.ws_url, "bench", f"publisher{i}", identity, audio, video)
        for i in range(scenario.publishers)
    ]
    subscribers = [
        Subscriber(server.ws_url, "bench", f"subscriber{i}", identity)
        for i in range(scenario.subscribers)
    ]
    try:
        await _connect(publishers, subscribers)
        await asyncio.sleep(scenario.warmup)
        before = await _snapshot(server, subscribers)
        await asyncio.sleep(scenario.seconds)
        after = await _snapshot(server, subscribers)
    finally:
        await asyncio.gather(
            *(peer.close() for peer in [*publishers, *subscribers]),
            return_exceptions=True,
        )
        server.stop()
    lateness = max((p.replay.stats.max_lateness for p in publishers), default=0.0)
    tracebacks = server.log().count("Traceback")
    return _result(scenario, before, after, lateness, tracebacks)


async def _connect(publishers: list[Publisher], subscribers: list[Subscriber]) -> None:
    # Publishers first, so that each subscriber gets one offer with every
    # track rather than a renegotiation per publisher.
    await asyncio.gather(*(p.start() for p in publishers))
    await asyncio.gather(*(s.start() for s in subscribers))
    await asyncio.gather(*(s.connected(20.0) for s in subscribers))
    wanted = 2 * len(publishers)
    deadline = time.monotonic() + 20.0
    while any(len(s.counter.streams) < wanted for s in subscribers):
        if time.monotonic() > deadline:
            got = [len(s.counter.streams) for s in subscribers]
            raise TimeoutError(f"subscribers got {got} streams, not {wanted} each")
        await asyncio.sleep(0.05)


async def _snapshot(server: BenchServer, subscribers: list[Subscriber]) -> _Snapshot:
    metrics = await asyncio.to_thread(server.metrics)
    received = sum((s.counter.totals() for s in subscribers), Totals())
    cpu_times = server.cpu_times()
    return _Snapshot(
        wall=time.monotonic(),
        load_cpu=time.process_time(),
        machine_cpu=_machine_busy_seconds(),
        server_cpu=sum(cpu_times),
        server_system_cpu=cpu_times[1],
        forwarded=metrics.get(FORWARDED, 0.0),
        published=metrics.get(RECEIVED, 0.0),
        lost_upstream=metrics.get(LOST_UPSTREAM, 0.0),
        receive_buffer_errors=_udp_receive_buffer_errors(),
        srtp_errors=sum(s.connection.srtp_errors for s in subscribers),
        received=received,
    )


def _machine_busy_seconds() -> float:
    """CPU time spent on anything but idle and I/O wait, over every core."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _udp_receive_buffer_errors() -> int:
    try:
        with open("/proc/net/snmp") as snmp:
            rows = [line.split() for line in snmp if line.startswith("Udp:")]
    except OSError:
        return 0
    names, values = rows[0], rows[1]
    return int(values[names.index("RcvbufErrors")])


def _result(
    scenario: Scenario,
    before: _Snapshot,
    after: _Snapshot,
    lateness: float,
    tracebacks: int,
) -> Result:
    wall = after.wall - before.wall
    cpu = after.server_cpu - before.server_cpu
    load = after.load_cpu - before.load_cpu
    machine = after.machine_cpu - before.machine_cpu
    forwarded = int(after.forwarded - before.forwarded)
    received = after.received - before.received
    loss = 100.0 * received.lost / received.expected if received.expected else 0.0
    return Result(
        publishers=scenario.publishers,
        subscribers=scenario.subscribers,
        seconds=round(wall, 3),
        server_cpu_seconds=round(cpu, 3),
        server_cpu_percent=round(100.0 * cpu / wall, 1),
        server_system_cpu_percent=round(
            100.0 * (after.server_system_cpu - before.server_system_cpu) / wall, 1
        ),
        load_cpu_percent=round(100.0 * load / wall, 1),
        other_cpu_percent=round(100.0 * max(machine - cpu - load, 0.0) / wall, 1),
        published_per_second=round((after.published - before.published) / wall, 1),
        forwarded_packets=forwarded,
        forwarded_per_second=round(forwarded / wall, 1),
        forwarded_per_cpu_second=round(forwarded / cpu, 1) if cpu else 0.0,
        received_packets=received.packets,
        received_per_second=round(received.packets / wall, 1),
        received_mbit_per_second=round(received.bytes * 8 / wall / 1e6, 2),
        subscriber_loss_percent=round(loss, 3),
        upstream_lost_packets=int(after.lost_upstream - before.lost_upstream),
        udp_receive_buffer_errors=(
            after.receive_buffer_errors - before.receive_buffer_errors
        ),
        subscriber_srtp_errors=after.srtp_errors - before.srtp_errors,
        streams_received=after.received.streams,
        publisher_max_lateness_ms=round(lateness * 1000, 1),
        server_tracebacks=tracebacks,
    )


def _report(result: Result) -> str:
    return "\n".join(
        [
            f"{result.publishers} publishers x {result.subscribers} subscribers, "
            f"{result.seconds:.1f} s measured",
            f"  server CPU            {result.server_cpu_percent:8.1f} % of a core"
            f" ({result.server_system_cpu_percent:.1f} % in the kernel)",
            f"  published             {result.published_per_second:8.0f} packets/s",
            f"  forwarded             {result.forwarded_per_second:8.0f} packets/s",
            f"  forwarded per CPU-s   {result.forwarded_per_cpu_second:8.0f} packets",
            f"  subscribers received  {result.received_per_second:8.0f} packets/s"
            f" ({result.received_mbit_per_second:.1f} Mbit/s,"
            f" {result.streams_received} streams)",
            f"  subscriber loss       {result.subscriber_loss_percent:8.3f} %"
            f" (upstream lost {result.upstream_lost_packets},"
            f" UDP buffer drops {result.udp_receive_buffer_errors},"
            f" SRTP errors {result.subscriber_srtp_errors})",
            f"  load generator CPU    {result.load_cpu_percent:8.1f} % of a core"
            f" (max lateness {result.publisher_max_lateness_ms:.0f} ms)",
            f"  everything else       {result.other_cpu_percent:8.1f} % of a core",
            *(
                [f"  the server log has {result.server_tracebacks} tracebacks"]
                if result.server_tracebacks
                else []
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument(
        "--server-source",
        type=Path,
        help="a directory with the smeeton package to benchmark instead",
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="one more argument for `smeeton serve`; repeat for several",
    )
    args = parser.parse_args(argv)
    scenario = Scenario(
        args.publishers,
        args.subscribers,
        args.seconds,
        args.warmup,
        server_source=args.server_source,
        server_args=tuple(args.server_arg),
    )
    with tempfile.TemporaryDirectory(prefix="smeeton-bench-") as data:
        result = _run_loop(run(scenario, Path(data)))
    print(json.dumps(asdict(result)) if args.json else _report(result))
    return 0


def _run_loop(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    sys.exit(main())
