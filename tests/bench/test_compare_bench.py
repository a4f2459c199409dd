"""The side-by-side benchmark's Smeeton path runs end to end on a tiny scenario.

Janus and network namespaces are left out: the suite must run without them.
"""

from __future__ import annotations

from bench.compare import Layout, Scenario, SmeetonTarget, run_one
from bench.load.recording import cached


async def test_run_one_against_smeeton_times_latency_and_a_late_joiner(tmp_path):
    # A one-second recording keeps the encoding before the run short.
    scenario = Scenario(
        publishers=1,
        subscribers=2,
        seconds=1.5,
        warmup=0.5,
        joiners=1,
        recording_seconds=1.0,
        cache=tmp_path / "recordings",
    )
    audio, video = cached(scenario.cache, scenario.recording_seconds)
    target = SmeetonTarget(scenario, Layout(), tmp_path / "data")

    result = await run_one(target, audio, video, "127.0.0.1")

    # Opus and VP8 from the one publisher, at each of the two subscribers.
    assert result.streams_received == result.streams_expected == 4
    assert result.forwarded_packets > 0
    assert result.latency_p50_ms is not None
    assert result.join_to_keyframe_ms is not None
