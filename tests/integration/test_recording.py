"""Recording a meeting with real aiortc publishers, checked by ffprobe and FFT.

Each publisher sends its own tone and a moving pattern. Mid-way one leaves
and another joins; the MP4 must hold every tone where its publisher was
present and a picture on every tick of the clock.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import av
import httpx
import numpy
import pytest

from tests.peers import Participant, PatternTrack, ToneTrack, wait_for
from tests.server import RunningServer
from tests.signalling import Client, create_room

FPS = 30
# Small media: two shared cores run the server, the peers and the encoder.
SERVER_FLAGS = (
    "--recording-width", "640", "--recording-height", "360",
    "--recording-fps", str(FPS), "--recording-preset", "ultrafast",
    "--recording-video-bitrate", "800000",
)  # fmt: skip


@pytest.fixture
def server(tmp_path):
    running = RunningServer(
        tmp_path / "data", *SERVER_FLAGS, temporary_rooms=False
    ).start()
    yield running
    running.stop()
    assert "Traceback" not in running.log(), running.log()


def probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def audio_of(path) -> numpy.ndarray:
    """The recording's audio as mono float samples at 48 kHz."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    return numpy.concatenate(chunks)


def video_times(path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


def tone_levels(samples: numpy.ndarray, frequencies) -> dict[int, float]:
    """Each frequency's peak in the spectrum, in dB below the strongest."""
    window = samples * numpy.hanning(len(samples))
    spectrum = numpy.abs(numpy.fft.rfft(window))
    freqs = numpy.fft.rfftfreq(len(samples), 1 / 48000)
    top = spectrum.max()
    levels = {}
    for frequency in frequencies:
        band = (freqs > frequency - 5) & (freqs < frequency + 5)
        levels[frequency] = round(20 * numpy.log10(spectrum[band].max() / top), 1)
    return levels


def publisher(server, slug: str, name: str) -> Participant:
    return Participant(server.ws_url, name, slug)


async def publish(participant: Participant, frequency: float) -> None:
    await participant.join()
    await participant.publish(
        [
            (ToneTrack(frequency), "microphone"),
            (PatternTrack(320, 180), "camera"),
        ]
    )


async def recording_state(client: Client, recording: bool) -> dict:
    while True:
        state = await client.next("recording_state", timeout=15)
        if state["recording"] is recording:
            return state


async def test_recording_holds_every_publisher_tone_without_gaps_and_downloads(
    server, tmp_path
):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    slug, key = create_room(server, "Recorded", "--owner", "alice")
    host = Client(server)
    await host.join(slug, "Host", moderator_key=key)
    first = await host.next("recording_state")
    assert first == {
        "type": "recording_state", "recording": False, "started": 0.0, "streams": []
    }  # fmt: skip
    a = publisher(server, slug, "Ana")
    b = publisher(server, slug, "Budi")
    c = publisher(server, slug, "Citra")
    try:
        await publish(a, 440)
        await publish(b, 660)
        await wait_for(
            lambda: min(a.frames() or [0]) > 10 and min(b.frames() or [0]) > 10,
            20,
            "the publishers receiving each other",
        )

        # An attendee may not start the recording.
        refused = a.next_message("error")
        await a.send({"type": "start_recording"})
        assert (await refused)["code"] == "permission_denied"

        # The moderator starts it; everyone is told.
        told = a.next_message("recording_state")
        await host.send({"type": "start_recording"})
        state = await recording_state(host, True)
        started = time.monotonic()
        assert state["started"] > 0
        assert (await told)["recording"] is True
        await asyncio.sleep(4)

        # Ana leaves and Citra joins.
        await a.close()
        left = time.monotonic() - started
        await publish(c, 880)
        joined = time.monotonic() - started
        await asyncio.sleep(5)

        await host.send({"type": "stop_recording"})
        await recording_state(host, False)
        stopped = time.monotonic()
        recorded = stopped - started

        # Listed and downloadable within seconds of the stop.
        api = httpx.AsyncClient(base_url=server.url, timeout=10)
        login = await api.post(
            "/api/v1/session", json={"name": "alice", "password": "s3cret"}
        )
        assert login.status_code == 200

        async def listed() -> list[dict]:
            answer = await api.get(f"/api/v1/rooms/{slug}/recordings")
            assert answer.status_code == 200, answer.text
            return answer.json()["recordings"]

        deadline = time.monotonic() + 5
        while (await listed())[0]["status"] != "complete":
            assert time.monotonic() < deadline, await listed()
            await asyncio.sleep(0.1)
        ready_after = time.monotonic() - stopped
        (entry,) = await listed()
        download = await api.get(entry["url"])
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        path = tmp_path / "recording.mp4"
        path.write_bytes(download.content)
        assert entry["size"] == len(download.content)
        ranged = await api.get(entry["url"], headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206 and len(ranged.content) == 100

        # A valid MP4 of H.264 and AAC, as long as the recording lasted.
        info = probe(path)
        codecs = sorted(s["codec_name"] for s in info["streams"])
        assert codecs == ["aac", "h264"]
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"]) == (640, 360)
        duration = float(info["format"]["duration"])
        assert abs(duration - recorded) < 0.1 * recorded, (duration, recorded)
        assert abs(entry["duration"] - duration) < 0.5

        # A picture on every tick: no gap when Ana left or Citra joined.
        times = video_times(path)
        steps = numpy.diff(times)
        assert steps.max() < 1.5 / FPS, steps.max()
        assert len(times) > 0.9 * duration * FPS

        # Each tone where its publisher was there, and Ana's not after.
        samples = audio_of(path)

        def part(start: float, end: float) -> numpy.ndarray:
            return samples[int(start * 48000) : int(end * 48000)]

        before = part(0.5, left - 0.5)
        after = part(joined + 1.0, duration - 0.5)
        tones = (440, 660, 880)
        levels = {
            "before": tone_levels(before, tones),
            "after": tone_levels(after, tones),
        }
        print("recorded", recorded, "duration", duration, "ready", ready_after)
        print("tone levels (dB below the loudest)", levels)
        # Present: within 6 dB of the loudest; absent: 40 dB or more below.
        assert levels["before"][440] > -6 and levels["before"][660] > -6
        assert levels["before"][880] < -40
        assert levels["after"][660] > -6 and levels["after"][880] > -6
        assert levels["after"][440] < -40

        # Deleted, it is gone.
        deleted = await api.delete(entry["url"])
        assert deleted.status_code == 204
        assert await listed() == []
        await api.aclose()
    finally:
        for participant in (a, b, c):
            await participant.close()
        await host.close()


async def test_room_created_with_auto_record_records_from_first_arrival(
    server, tmp_path
):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    slug, key = create_room(server, "Lecture", "--owner", "alice", "--auto-record")
    a = publisher(server, slug, "Ana")
    host = Client(server)
    budi = Client(server)
    try:
        # Ana arrives first, as an attendee: recording starts without anyone
        # asking, and she is told.
        await publish(a, 440)
        await wait_for(
            lambda: any(
                m["type"] == "recording_state" and m["recording"] for m in a.messages
            ),
            15,
            "the automatic recording",
        )
        await asyncio.sleep(3)

        # She leaves; the meeting is over, and its recording finished.
        await a.close()
        api = httpx.AsyncClient(base_url=server.url, timeout=10)
        login = await api.post(
            "/api/v1/session", json={"name": "alice", "password": "s3cret"}
        )
        assert login.status_code == 200

        async def listed() -> list[dict]:
            answer = await api.get(f"/api/v1/rooms/{slug}/recordings")
            assert answer.status_code == 200, answer.text
            return answer.json()["recordings"]

        deadline = time.monotonic() + 10
        while [r["status"] for r in await listed()] != ["complete"]:
            assert time.monotonic() < deadline, await listed()
            await asyncio.sleep(0.1)
        (entry,) = await listed()
        download = await api.get(entry["url"])
        assert download.status_code == 200
        path = tmp_path / "auto.mp4"
        path.write_bytes(download.content)
        info = probe(path)
        assert sorted(s["codec_name"] for s in info["streams"]) == ["aac", "h264"]
        assert float(info["format"]["duration"]) > 2.5
        assert entry["duration"] > 2.5 and entry["size"] == len(download.content)

        # The next meeting records again; a moderator who stops it stops it
        # for the rest of that meeting, however many more arrive.
        a = publisher(server, slug, "Ana")
        await a.join()
        await host.join(slug, "Host", moderator_key=key)
        await recording_state(host, True)
        await host.send({"type": "stop_recording"})
        await recording_state(host, False)
        await budi.join(slug, "Budi")
        assert (await budi.next("recording_state"))["recording"] is False
        await asyncio.sleep(0.5)
        states = [m["recording"] for m in host.of_type("recording_state")]
        assert not any(states[states.index(False) :]), states
        await api.aclose()
    finally:
        await a.close()
        await host.close()
        await budi.close()
