"""Live streaming to a real RTMP server on loopback (nginx with its RTMP
module): what arrives probes as H.264 and AAC, a server that goes away and
comes back gets the stream again, and a bad destination is refused clearly
while the meeting goes on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest

from tests import rtmp
from tests.integration.test_recording import SERVER_FLAGS
from tests.peers import Participant, PatternTrack, ToneTrack, wait_for
from tests.server import RunningServer, free_port
from tests.signalling import create_room

pytestmark = pytest.mark.skipif(
    not rtmp.available(), reason="needs nginx and libnginx-mod-rtmp"
)

KEY = "k3y-that-must-stay-secret"


@pytest.fixture
def server(tmp_path):
    running = RunningServer(
        tmp_path / "data", *SERVER_FLAGS, temporary_rooms=False
    ).start()
    yield running
    running.stop()
    assert "Traceback" not in running.log(), running.log()
    assert KEY not in running.log()


@pytest.fixture
def nginx(tmp_path):
    running = rtmp.RtmpServer(tmp_path / "nginx").start()
    yield running
    running.stop()


def probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def streams_of(participant: Participant) -> list[dict]:
    states = [m for m in participant.messages if m["type"] == "recording_state"]
    return states[-1]["streams"] if states else []


async def until_status(participant: Participant, status: str, timeout=15.0) -> dict:
    await wait_for(
        lambda: any(s["status"] == status for s in streams_of(participant)),
        timeout,
        f"a stream {status}",
    )
    return next(s for s in streams_of(participant) if s["status"] == status)


async def meeting(server) -> tuple[Participant, Participant]:
    """A moderator that receives, and a publisher of a tone and a pattern."""
    slug, key = create_room(server, "Streamed")
    host = Participant(server.ws_url, "Host", slug, join_fields={"moderator_key": key})
    speaker = Participant(server.ws_url, "Speaker", slug)
    await host.join()
    await speaker.join()
    await speaker.publish(
        [(ToneTrack(440), "microphone"), (PatternTrack(320, 180), "camera")]
    )
    await wait_for(
        lambda: len(host.frames()) == 2 and min(host.frames()) > 10,
        20,
        "the host receiving the speaker",
    )
    return host, speaker


async def test_stream_reaches_rtmp_server_and_resumes_after_it_restarts(server, nginx):
    host, speaker = await meeting(server)
    try:
        await host.send({"type": "start_stream", "url": nginx.url, "key": KEY})
        began = time.monotonic()
        connecting = await until_status(host, "starting", 5)
        assert connecting["target"] == nginx.url
        live = await until_status(host, "live")
        print("live after", round(time.monotonic() - began, 2), "s")
        assert all(KEY not in json.dumps(m) for m in host.messages)
        await asyncio.sleep(5)

        # The receiving server goes away for three seconds.
        nginx.stop()
        down = time.monotonic()
        await until_status(host, "reconnecting", 10)
        await asyncio.sleep(max(3 - (time.monotonic() - down), 0))
        nginx.start()
        up = time.monotonic()
        await until_status(host, "live", 20)
        print("live again", round(time.monotonic() - up, 2), "s after nginx was up")
        await asyncio.sleep(4)

        await host.send({"type": "stop_stream", "stream_id": live["id"]})
        await until_status(host, "stopped", 10)
        nginx.stop()

        # Two connections, two recorded files; both H.264 + AAC at the
        # composer's size, as long as each connection lasted.
        files = nginx.recorded()
        assert len(files) == 2, files
        durations = []
        for path in files:
            info = probe(path)
            codecs = sorted(s["codec_name"] for s in info["streams"])
            assert codecs == ["aac", "h264"], info
            video = next(s for s in info["streams"] if s["codec_type"] == "video")
            assert (video["width"], video["height"]) == (640, 360)
            durations.append(float(info["format"]["duration"]))
        print("received durations", durations)
        assert 4.0 < durations[0] < 7.5
        assert 3.0 < durations[1] < 6.0
    finally:
        await speaker.close()
        await host.close()


async def test_bad_stream_destination_is_refused_and_the_meeting_goes_on(server):
    host, speaker = await meeting(server)
    try:
        # Not RTMP, or no server named: refused at once with a reason.
        for url in ("rtmp://", "http://127.0.0.1/live", "rtmp://host:port/live"):
            refused = host.next_message("error")
            await host.send({"type": "start_stream", "url": url, "key": KEY})
            error = await refused
            assert error["code"] == "bad_request"
            assert "address" in error["message"] or "port" in error["message"]

        # Nobody listens there: the stream fails with a message.
        closed = f"rtmp://127.0.0.1:{free_port()}/live"
        await host.send({"type": "start_stream", "url": closed, "key": KEY})
        failed = await until_status(host, "failed", 15)
        assert "refused" in failed["error"]
        print("unreachable:", failed["error"])

        # And attendees may not stream at all.
        refused = speaker.next_message("error")
        await speaker.send({"type": "start_stream", "url": closed, "key": KEY})
        assert (await refused)["code"] == "permission_denied"

        # The meeting's media still flows.
        before = sum(host.frames())
        await asyncio.sleep(1.0)
        assert sum(host.frames()) - before > 30
    finally:
        await speaker.close()
        await host.close()
