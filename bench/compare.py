"""Our server and Janus's VideoRoom, loaded alike and measured side by side.

Each scenario runs against both servers in the same run, one server at a
time, each in a fresh process inside a network namespace of its own; the
load generator (this process) sits in a second namespace across a veth pair
(bench/netns.py). Per server it reports CPU per forwarded packet, forwarded
packets per second, subscriber loss, latency added by the server and the
time a late joiner waits for its first key frame. See docs/performance.md.

    python bench/compare.py --scenarios 1x30,10x10,25x25 --seconds 10 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    # Run as a script: the packages live at the repository root.
    sys.path.insert(0, str(ROOT))

from bench.forward import _machine_busy_seconds, _run_loop  # noqa: E402
from bench.janus_server import JanusServer, available  # noqa: E402
from bench.load import janus, smeeton  # noqa: E402
from bench.load.connection import DtlsIdentity  # noqa: E402
from bench.load.peers import LatencyHistogram, Totals  # noqa: E402
from bench.load.recording import Recording, cached  # noqa: E402
from bench.netns import VethPair  # noqa: E402
from bench.server import BenchServer  # noqa: E402

CACHE = ROOT / "build" / "bench"
JANUS_ROOM = 1234
JANUS_PORT = 8088
# A load generator past this share of its one core, or this far behind its
# send schedule, measures itself as much as the server.
_LOAD_BOUND_CPU = 85.0
_LOAD_BOUND_LATENESS = 0.1
_PROBE_INTERVAL = 0.005
# Both servers limit key frame requests per track (ours to one per 0.5 s):
# joiners spaced wider than that each get a PLI of their own.
_JOINER_SPACING = 1.0
_PROBE = struct.Struct("!d")


@dataclass(frozen=True)
class Scenario:
    """P publishers and S subscribers; with P == S each participant is both."""

    publishers: int
    subscribers: int
    seconds: float = 10.0
    warmup: float = 3.0
    joiners: int = 5
    recording_seconds: float = 10.0
    cache: Path = CACHE

    @property
    def name(self) -> str:
        return f"{self.publishers}x{self.subscribers}"

    @property
    def meeting(self) -> bool:
        return self.publishers == self.subscribers

    @property
    def streams_per_subscriber(self) -> int:
        return 2 * (self.publishers - 1 if self.meeting else self.publishers)


@dataclass(frozen=True)
class Layout:
    """Where the servers and the load peers live: loopback, or a veth pair."""

    server_host: str = "127.0.0.1"
    load_host: str = "127.0.0.1"
    server_prefix: tuple[str, ...] = ()
    # A copy of the `smeeton` package taken when the run began: others edit
    # the checkout meanwhile, and every window should run the same code.
    server_source: Path | None = None


@dataclass(frozen=True)
class Result:
    """One server under one scenario, one measured window."""

    server: str
    scenario: str
    seconds: float
    server_cpu_seconds: float
    server_cpu_percent: float
    # Forwarded = RTP packets the subscribers received, counted the same
    # way for both servers.
    forwarded_packets: int
    forwarded_per_second: float
    cpu_us_per_packet: float
    subscriber_loss_percent: float
    streams_received: int
    streams_expected: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    # The load generator's own hop (a UDP datagram between two of its
    # sockets), subtracted to give what the server added.
    direct_p50_ms: float | None
    direct_p95_ms: float | None
    added_p50_ms: float | None
    added_p95_ms: float | None
    join_to_keyframe_ms: float | None
    join_to_first_packet_ms: float | None
    load_cpu_percent: float
    publisher_max_lateness_ms: float
    load_bound: bool
    other_cpu_percent: float
    keyframes_requested: int
    # Datagrams the kernel dropped for a full socket buffer, per namespace
    # (on loopback both are the same machine-wide count).
    udp_drops_at_load: int
    udp_drops_at_server: int


class Target:
    """What a run needs from a server: start it, fill the room, measure, stop."""

    name = ""

    def __init__(self, scenario: Scenario, layout: Layout, data_dir: Path) -> None:
        self.scenario = scenario
        self.layout = layout
        self.data_dir = data_dir
        self.identity = DtlsIdentity.generate()
        self.latency = LatencyHistogram()
        self.publishers: list = []
        self.subscribers: list = []
        self.joiners: list = []

    def start_server(self) -> None:
        raise NotImplementedError

    def stop_server(self) -> None:
        raise NotImplementedError

    def cpu_seconds(self) -> float:
        raise NotImplementedError

    def server_pid(self) -> int:
        return self.server.process.pid

    async def fill(self, audio: Recording, video: Recording) -> None:
        raise NotImplementedError

    async def join_late(self, index: int) -> object:
        raise NotImplementedError

    async def close_peers(self) -> None:
        peers = [*self.publishers, *self.subscribers, *self.joiners]
        await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)

    async def wait_for_streams(self, timeout: float = 30.0) -> None:
        wanted = self.scenario.streams_per_subscriber
        deadline = time.monotonic() + timeout
        while any(len(s.counter.streams) < wanted for s in self.subscribers):
            if time.monotonic() > deadline:
                got = sorted(len(s.counter.streams) for s in self.subscribers)
                raise TimeoutError(f"{self.name}: streams {got}, not {wanted} each")
            await asyncio.sleep(0.05)


class SmeetonTarget(Target):
    name = "smeeton"

    def start_server(self) -> None:
        self.server = BenchServer(
            self.data_dir / "smeeton",
            self.layout.server_source,
            host=self.layout.server_host,
            prefix=self.layout.server_prefix,
        ).start()

    def stop_server(self) -> None:
        self.server.stop()

    def cpu_seconds(self) -> float:
        return self.server.cpu_seconds()

    async def fill(self, audio: Recording, video: Recording) -> None:
        s, host, url = self.scenario, self.layout.load_host, self.server.ws_url
        count = s.publishers if s.meeting else s.subscribers
        self.subscribers = [
            smeeton.Subscriber(
                url, "bench", f"participant{i}", self.identity, self.latency, host
            )
            for i in range(count)
        ]
        self.publishers = [
            smeeton.Publisher(
                url,
                "bench",
                f"publisher{i}",
                self.identity,
                audio,
                video,
                stamp=True,
                # In a meeting, one session publishes and subscribes.
                session=self.subscribers[i].session if s.meeting else None,
                host=host,
            )
            for i in range(s.publishers)
        ]
        if s.meeting:
            await asyncio.gather(*(p.start() for p in self.subscribers))
            await asyncio.gather(*(p.start() for p in self.publishers))
        else:
            # Publishers first: each subscriber then gets one offer with
            # every track rather than a renegotiation per publisher.
            await asyncio.gather(*(p.start() for p in self.publishers))
            await asyncio.gather(*(p.start() for p in self.subscribers))
        await asyncio.gather(*(p.connected(30.0) for p in self.subscribers))
        await self.wait_for_streams()

    async def join_late(self, index: int) -> object:
        joiner = smeeton.Subscriber(
            self.server.ws_url,
            "bench",
            f"joiner{index}",
            self.identity,
            LatencyHistogram(),
            self.layout.load_host,
        )
        self.joiners.append(joiner)
        await joiner.start()
        return joiner


class JanusTarget(Target):
    name = "janus"

    def start_server(self) -> None:
        self.server = JanusServer(
            CACHE / "janus",
            self.layout.server_host,
            JANUS_PORT,
            self.layout.server_prefix,
        ).start()
        self.api = janus.JanusApi(self.server.url)

    def stop_server(self) -> None:
        self.server.stop()

    def cpu_seconds(self) -> float:
        return sum(self.server.cpu_times())

    async def close_peers(self) -> None:
        await super().close_peers()
        await self.api.close()

    async def fill(self, audio: Recording, video: Recording) -> None:
        s, host, api = self.scenario, self.layout.load_host, self.api
        await janus.create_room(api, JANUS_ROOM, s.publishers + s.subscribers + 8)
        count = s.publishers if s.meeting else s.subscribers
        self.subscribers = [
            janus.Subscriber(
                api, JANUS_ROOM, f"participant{i}", self.identity, self.latency, host
            )
            for i in range(count)
        ]
        self.publishers = [
            janus.Publisher(
                api,
                JANUS_ROOM,
                f"publisher{i}",
                self.identity,
                audio,
                video,
                stamp=True,
                host=host,
                session=self.subscribers[i].session if s.meeting else None,
            )
            for i in range(s.publishers)
        ]
        # Janus knows a feed only after its webrtcup: publishers first.
        await asyncio.gather(*(p.start() for p in self.publishers))
        feeds = [p.feed for p in self.publishers]
        await asyncio.gather(
            *(
                sub.start(
                    [f for j, f in enumerate(feeds) if not (s.meeting and i == j)]
                )
                for i, sub in enumerate(self.subscribers)
            )
        )
        await asyncio.gather(*(p.connected(30.0) for p in self.subscribers))
        await self.wait_for_streams()

    async def join_late(self, index: int) -> object:
        joiner = janus.Subscriber(
            self.api,
            JANUS_ROOM,
            f"joiner{index}",
            self.identity,
            LatencyHistogram(),
            self.layout.load_host,
        )
        self.joiners.append(joiner)
        await joiner.start([p.feed for p in self.publishers])
        return joiner


class _LoopProbe(asyncio.DatagramProtocol):
    """A datagram between two of our own sockets: the load generator's hop."""

    def __init__(self) -> None:
        self.latency = LatencyHistogram()
        self.latency.enabled = True
        self._task: asyncio.Task[None] | None = None
        self._transports: list[asyncio.DatagramTransport] = []

    async def start(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        receiver, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, 0)
        )
        sender, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(host, 0)
        )
        self._transports = [receiver, sender]
        address = receiver.get_extra_info("sockname")[:2]
        self._task = asyncio.create_task(self._send(sender, address))

    async def _send(self, sender: asyncio.DatagramTransport, address) -> None:
        while True:
            sender.sendto(_PROBE.pack(time.monotonic()), address)
            await asyncio.sleep(_PROBE_INTERVAL)

    def datagram_received(self, data: bytes, addr) -> None:
        self.latency.add(time.monotonic() - _PROBE.unpack(data)[0])

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for transport in self._transports:
            transport.close()


async def run_one(
    target: Target, audio: Recording, video: Recording, probe_host: str
) -> Result:
    """Fill the room, measure one window, time the late joiners, tear down."""
    scenario = target.scenario
    await asyncio.to_thread(target.start_server)
    probe = _LoopProbe()
    try:
        await target.fill(audio, video)
        await asyncio.sleep(scenario.warmup)
        await probe.start(probe_host)
        before = _snapshot(target)
        target.latency.enabled = True
        await asyncio.sleep(scenario.seconds)
        target.latency.enabled = False
        after = _snapshot(target)
        probe.close()
        firsts = await _time_joiners(target)
    finally:
        probe.close()
        await target.close_peers()
        await asyncio.to_thread(target.stop_server)
    return _result(target, before, after, probe.latency, firsts)


async def _time_joiners(target: Target) -> list[tuple[float | None, float | None]]:
    # One at a time, so that each joins a room in its steady state.
    firsts = []
    for index in range(target.scenario.joiners):
        await asyncio.sleep(_JOINER_SPACING)
        began = time.monotonic()
        try:
            joiner = await asyncio.wait_for(target.join_late(index), 10.0)
            deadline = time.monotonic() + 5.0
            while joiner.counter.first.keyframe is None:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.005)
        except (TimeoutError, OSError, RuntimeError):
            firsts.append((None, None))
            continue
        first = joiner.counter.first
        firsts.append(
            (
                first.keyframe - began if first.keyframe else None,
                first.video - began if first.video else None,
            )
        )
    return firsts


@dataclass(frozen=True)
class _Snapshot:
    wall: float
    server_cpu: float
    load_cpu: float
    machine_cpu: float
    received: Totals
    load_drops: int
    server_drops: int


def _snapshot(target: Target) -> _Snapshot:
    return _Snapshot(
        load_drops=_udp_drops("self"),
        server_drops=_udp_drops(str(target.server_pid())),
        wall=time.monotonic(),
        server_cpu=target.cpu_seconds(),
        load_cpu=time.process_time(),
        machine_cpu=_machine_busy_seconds(),
        received=sum((s.counter.totals() for s in target.subscribers), Totals()),
    )


def _udp_drops(pid: str) -> int:
    """RcvbufErrors in the network namespace of a process (/proc/PID/net)."""
    try:
        with open(f"/proc/{pid}/net/snmp") as snmp:
            rows = [line.split() for line in snmp if line.startswith("Udp:")]
    except OSError:
        return 0
    return int(rows[1][rows[0].index("RcvbufErrors")])


def _result(
    target: Target,
    before: _Snapshot,
    after: _Snapshot,
    direct: LatencyHistogram,
    firsts: list[tuple[float | None, float | None]],
) -> Result:
    s = target.scenario
    wall = after.wall - before.wall
    cpu = after.server_cpu - before.server_cpu
    load = after.load_cpu - before.load_cpu
    machine = after.machine_cpu - before.machine_cpu
    received = after.received - before.received
    loss = 100.0 * received.lost / received.expected if received.expected else 0.0
    lateness = max(
        (p.replay.stats.max_lateness for p in target.publishers), default=0.0
    )
    load_percent = 100.0 * load / wall
    p50, p95 = target.latency.quantile(0.5), target.latency.quantile(0.95)
    d50, d95 = direct.quantile(0.5), direct.quantile(0.95)
    keyframes = [k for k, _ in firsts if k is not None]
    packets = [p for _, p in firsts if p is not None]
    return Result(
        server=target.name,
        scenario=s.name,
        seconds=round(wall, 3),
        server_cpu_seconds=round(cpu, 3),
        server_cpu_percent=round(100.0 * cpu / wall, 1),
        forwarded_packets=received.packets,
        forwarded_per_second=round(received.packets / wall, 1),
        cpu_us_per_packet=round(1e6 * cpu / received.packets, 2)
        if received.packets
        else 0.0,
        subscriber_loss_percent=round(loss, 3),
        streams_received=after.received.streams,
        streams_expected=s.streams_per_subscriber * len(target.subscribers),
        latency_p50_ms=_ms(p50),
        latency_p95_ms=_ms(p95),
        direct_p50_ms=_ms(d50),
        direct_p95_ms=_ms(d95),
        added_p50_ms=_ms(p50 - d50) if p50 is not None and d50 is not None else None,
        added_p95_ms=_ms(p95 - d95) if p95 is not None and d95 is not None else None,
        join_to_keyframe_ms=_ms(statistics.median(keyframes)) if keyframes else None,
        join_to_first_packet_ms=_ms(statistics.median(packets)) if packets else None,
        load_cpu_percent=round(load_percent, 1),
        publisher_max_lateness_ms=round(lateness * 1000, 1),
        load_bound=load_percent > _LOAD_BOUND_CPU or lateness > _LOAD_BOUND_LATENESS,
        other_cpu_percent=round(100.0 * max(machine - cpu - load, 0.0) / wall, 1),
        udp_drops_at_load=after.load_drops - before.load_drops,
        udp_drops_at_server=after.server_drops - before.server_drops,
        keyframes_requested=sum(
            p.replay.keyframes_requested for p in target.publishers
        ),
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


async def run_all(
    scenarios: list[Scenario], servers: list[str], runs: int, layout: Layout, data: Path
) -> list[Result]:
    """Every scenario against every server, `runs` times, alternating order."""
    targets = {"smeeton": SmeetonTarget, "janus": JanusTarget}
    results = []
    for run in range(runs):
        for scenario in scenarios:
            audio, video = cached(scenario.cache, scenario.recording_seconds)
            # Alternate which server goes first, so that neither always
            # inherits the other's leftovers (page cache, a busy neighbour).
            order = servers if run % 2 == 0 else servers[::-1]
            for name in order:
                target = targets[name](scenario, layout, data / f"{name}-{run}")
                result = await run_one(target, audio, video, layout.load_host)
                print(_line(result, run), file=sys.stderr, flush=True)
                results.append(result)
    return results


def medians(results: list[Result]) -> list[dict]:
    """One row per (scenario, server): the median of each figure over runs."""
    rows = []
    keys = sorted({(r.scenario, r.server) for r in results}, key=_order)
    for scenario, server in keys:
        group = [r for r in results if (r.scenario, r.server) == (scenario, server)]
        row: dict = {"scenario": scenario, "server": server, "runs": len(group)}
        for field, value in asdict(group[0]).items():
            if isinstance(value, bool):
                # The verdict of most runs, as a median is for numbers.
                row[field] = 2 * sum(getattr(r, field) for r in group) > len(group)
            elif isinstance(value, (int, float)) or value is None:
                values = [getattr(r, field) for r in group]
                present = [v for v in values if v is not None]
                row[field] = round(statistics.median(present), 3) if present else None
        rows.append(row)
    return rows


def _order(key: tuple[str, str]) -> tuple[int, int, int]:
    publishers, subscribers = (int(n) for n in key[0].split("x"))
    return (publishers * subscribers, publishers, 0 if key[1] == "smeeton" else 1)


_COLUMNS = [
    ("CPU µs/pkt", "cpu_us_per_packet", "{:.1f}"),
    ("fwd pkt/s", "forwarded_per_second", "{:.0f}"),
    ("loss %", "subscriber_loss_percent", "{:.3f}"),
    ("added p50 ms", "added_p50_ms", "{:.2f}"),
    ("added p95 ms", "added_p95_ms", "{:.2f}"),
    ("join→key ms", "join_to_keyframe_ms", "{:.0f}"),
    ("server CPU %", "server_cpu_percent", "{:.0f}"),
    ("load CPU %", "load_cpu_percent", "{:.0f}"),
]
_RATIOS = {
    "cpu_us_per_packet",
    "forwarded_per_second",
    "added_p50_ms",
    "added_p95_ms",
    "join_to_keyframe_ms",
}


def table(rows: list[dict]) -> str:
    """The median rows as a Markdown table, with ours / Janus per scenario."""
    header = ["scenario", "server", *(title for title, _, _ in _COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario in dict.fromkeys(r["scenario"] for r in rows):
        group = {r["server"]: r for r in rows if r["scenario"] == scenario}
        for row in group.values():
            server = row["server"] + (" (load-bound)" if row["load_bound"] else "")
            cells = [_cell(fmt, row.get(key)) for _, key, fmt in _COLUMNS]
            lines.append("| " + " | ".join([scenario, server, *cells]) + " |")
        if "smeeton" in group and "janus" in group:
            # A load-bound row measures the machine: no ratio to speak of.
            bound = group["smeeton"]["load_bound"] or group["janus"]["load_bound"]
            ours, theirs = group["smeeton"], group["janus"]
            cells = [
                ("–" if bound else _ratio(ours.get(key), theirs.get(key)))
                if key in _RATIOS
                else ""
                for _, key, _ in _COLUMNS
            ]
            lines.append("| " + " | ".join([scenario, "ours / Janus", *cells]) + " |")
    return "\n".join(lines)


def _cell(fmt: str, value) -> str:
    return "–" if value is None else fmt.format(value)


def _ratio(ours, theirs) -> str:
    if ours is None or theirs is None or theirs <= 0 or ours < 0:
        return "–"
    return f"{ours / theirs:.2f}"


def _line(result: Result, run: int) -> str:
    r = result
    return (
        f"run {run} {r.scenario} {r.server}: {r.cpu_us_per_packet} µs/pkt,"
        f" {r.forwarded_per_second:.0f} pkt/s, loss {r.subscriber_loss_percent} %,"
        f" added {r.added_p50_ms}/{r.added_p95_ms} ms,"
        f" join {r.join_to_keyframe_ms} ms, load {r.load_cpu_percent} %,"
        f" lateness {r.publisher_max_lateness_ms} ms,"
        f" streams {r.streams_received}/{r.streams_expected},"
        f" UDP drops {r.udp_drops_at_load} here, {r.udp_drops_at_server} there"
    )


def parse_scenarios(text: str, **options) -> list[Scenario]:
    scenarios = []
    for item in text.split(","):
        publishers, subscribers = (int(n) for n in item.lower().split("x"))
        scenarios.append(replace(Scenario(publishers, subscribers), **options))
    return scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="1x30,10x10,25x25")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--joiners", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write every run and the medians")
    parser.add_argument(
        "--servers", default="smeeton,janus", help="comma-separated: smeeton,janus"
    )
    parser.add_argument(
        "--loopback",
        action="store_true",
        help="no namespaces: our server only, on 127.0.0.1",
    )
    args = parser.parse_args(argv)
    scenarios = parse_scenarios(
        args.scenarios, seconds=args.seconds, warmup=args.warmup, joiners=args.joiners
    )
    servers = args.servers.split(",")
    if args.loopback:
        # Janus refuses loopback-only ICE (docs/performance.md).
        servers = [s for s in servers if s != "janus"]
    elif "janus" in servers and not available():
        print("janus is not installed: apt-get install -y janus", file=sys.stderr)
        return 2

    pair = None if args.loopback else VethPair.for_this_run()
    with tempfile.TemporaryDirectory(prefix="smeeton-compare-") as data:
        source = snapshot_server(Path(data) / "source")
        try:
            if pair is None:
                layout = Layout(server_source=source)
            else:
                pair.create()
                pair.enter_load_namespace()
                layout = Layout(
                    pair.server_address,
                    pair.load_address,
                    tuple(pair.server_prefix()),
                    source,
                )
            results = _run_loop(
                run_all(scenarios, servers, args.runs, layout, Path(data))
            )
        finally:
            if pair is not None:
                pair.remove()

    rows = medians(results)
    print(table(rows))
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "machine": _machine(),
                    "runs": [asdict(r) for r in results],
                    "medians": rows,
                },
                indent=2,
            )
        )
    return 0


def snapshot_server(folder: Path, attempts: int = 10) -> Path:
    """Copy the checkout's `smeeton` package once it imports cleanly."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(
            ROOT / "smeeton",
            folder / "smeeton",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        check = subprocess.run(
            [sys.executable, "-c", "import smeeton.cli, smeeton.http.app"],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(folder)},
            capture_output=True,
        )
        if check.returncode == 0:
            return folder
        # Someone is halfway through an edit: try again in a moment.
        time.sleep(3)
    raise RuntimeError("the smeeton package does not import:\n" + check.stderr.decode())


def _machine() -> dict:
    return {
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    sys.exit(main())
