"""The forwarding benchmark runs end to end on a tiny scenario."""

from __future__ import annotations

from bench.forward import Scenario, run


async def test_run_one_publisher_two_subscribers_forwards_media(tmp_path):
    # A one-second recording keeps the encoding before the run short.
    scenario = Scenario(
        publishers=1,
        subscribers=2,
        seconds=2.0,
        warmup=0.5,
        recording_seconds=1.0,
        cache=tmp_path / "recordings",
    )

    result = await run(scenario, tmp_path / "data")

    # Opus and VP8 from the one publisher, at each of the two subscribers.
    assert result.streams_received == 4
    assert result.received_packets > 0
    assert result.forwarded_packets > 0
    assert result.published_per_second > 0
    assert result.server_tracebacks == 0
