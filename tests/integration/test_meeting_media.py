"""Meeting rules that act on media, seen by real aiortc peers."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.peers import Participant, PatternTrack, ToneTrack, wait_for
from tests.server import RunningServer
from tests.signalling import create_room


@pytest.fixture
def server(tmp_path):
    running = RunningServer(tmp_path / "data", temporary_rooms=False).start()
    yield running
    running.stop()
    assert "Traceback" not in running.log(), running.log()


async def frames_over(participant: Participant, kind: str, seconds: float) -> int:
    """How many frames of a kind arrive at the participant in that time."""
    before = sum(participant.frames(kind))
    await asyncio.sleep(seconds)
    return sum(participant.frames(kind)) - before


async def test_moderator_mute_stops_forwarding_the_microphone_until_unmuted(server):
    slug, key = create_room(server, "Quiet please")
    host = Participant(server.ws_url, "Host", slug, join_fields={"moderator_key": key})
    speaker = Participant(server.ws_url, "Speaker", slug)
    await host.join()
    await speaker.join()
    try:
        await speaker.publish([(ToneTrack(), "microphone"), (PatternTrack(), "camera")])
        await wait_for(
            lambda: len(host.frames()) == 2 and min(host.frames()) > 10,
            20,
            "the host decoding the speaker",
        )

        muted = speaker.next_message("muted")
        await host.send({"type": "mute", "participant_id": speaker.participant_id})
        assert (await muted) == {"type": "muted", "kind": "microphone", "by": "Host"}

        # The server forwards no more audio, though the speaker still sends
        # it; the camera goes on.
        await asyncio.sleep(0.5)
        assert await frames_over(host, "audio", 1.0) == 0
        assert await frames_over(host, "video", 1.0) > 5
        updated = [
            m["participant"]
            for m in host.messages
            if m["type"] == "participant_updated"
            and m["participant"]["id"] == speaker.participant_id
        ]
        assert updated[-1]["microphone"] is False

        # Turning the microphone back on is the speaker's own choice.
        await speaker.send({"type": "media_state", "microphone": True, "camera": True})
        await wait_for(lambda: sum(host.frames("audio")) > 0, 5, "audio after unmuting")
        assert await frames_over(host, "audio", 1.0) > 10
    finally:
        await speaker.close()
        await host.close()


async def test_websocket_cut_participant_is_back_with_its_media_within_ten_seconds(
    server,
):
    slug, key = create_room(server, "Unsteady")
    viewer = Participant(
        server.ws_url, "Viewer", slug, join_fields={"moderator_key": key}
    )
    flaky = Participant(server.ws_url, "Flaky", slug)
    await viewer.join()
    await flaky.join()
    try:
        await flaky.publish([(ToneTrack(), "microphone"), (PatternTrack(), "camera")])
        await wait_for(
            lambda: len(viewer.frames()) == 2 and min(viewer.frames()) > 10,
            20,
            "the viewer decoding the flaky participant",
        )
        identity = flaky.participant_id

        cut = time.monotonic()
        await flaky.drop_socket()
        welcome = await flaky.rejoin()
        back = time.monotonic() - cut
        assert welcome["resumed"] is True
        assert welcome["participant_id"] == identity
        assert back < 10

        # The others saw it away and back, never leaving; its media flows.
        def presence() -> list[bool]:
            return [
                m["participant"]["away"]
                for m in viewer.messages
                if m["type"] == "participant_updated"
                and m["participant"]["id"] == identity
            ]

        await wait_for(lambda: presence()[-2:] == [True, False], 10, "away, back")
        assert not [m for m in viewer.messages if m["type"] == "participant_left"]
        assert await frames_over(viewer, "video", 1.0) > 5
        assert await frames_over(viewer, "audio", 1.0) > 10
        assert viewer.live()[0].info["participant_id"] == identity

        # And it still receives what others publish.
        await viewer.publish([(PatternTrack(), "camera")])
        await wait_for(
            lambda: any(f > 5 for f in flaky.frames("video")),
            20,
            "the resumed participant decoding a new track",
        )
    finally:
        await flaky.close()
        await viewer.close()
