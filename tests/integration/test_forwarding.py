"""Media crosses the server between real aiortc peers."""

from __future__ import annotations

import asyncio

from tests.peers import Participant, PatternTrack, ToneTrack, wait_for


async def joined(server, name: str) -> Participant:
    participant = Participant(server.ws_url, name)
    await participant.join()
    return participant


def decoding(participant: Participant, count: int, minimum: int = 5):
    """All `count` live tracks have decoded at least `minimum` frames."""

    def check() -> bool:
        frames = participant.frames()
        return len(frames) == count and all(f >= minimum for f in frames)

    return check


async def test_one_publisher_reaches_three_subscribers_that_decode_frames(server):
    subscribers = [await joined(server, f"viewer {i}") for i in range(3)]
    publisher = await joined(server, "speaker")
    try:
        await publisher.publish(
            [(ToneTrack(), "microphone"), (PatternTrack(), "camera")]
        )

        for subscriber in subscribers:
            await wait_for(decoding(subscriber, 2), 20, f"{subscriber.name} decoding")
        for subscriber in subscribers:
            video = [r for r in subscriber.live() if r.info["kind"] == "video"]
            assert video[0].width == 640
            assert video[0].info["participant_id"] == publisher.participant_id
            assert video[0].info["label"] == "camera"
        before = [sum(s.frames("video")) for s in subscribers]
        await asyncio.sleep(1.0)
        after = [sum(s.frames("video")) for s in subscribers]
        assert all(b > a + 5 for a, b in zip(before, after, strict=True))
    finally:
        for participant in [publisher, *subscribers]:
            await participant.close()


async def test_late_publisher_reaches_existing_subscribers_and_leaving_removes_it(
    server,
):
    first = await joined(server, "first")
    viewer = await joined(server, "viewer")
    late = await joined(server, "late")
    try:
        await first.publish([(ToneTrack(), "microphone"), (PatternTrack(), "camera")])
        await wait_for(decoding(viewer, 2), 20, "the viewer decoding the first")
        offers_before = viewer.offers

        # A publisher joining later reaches the viewer by renegotiation.
        await late.publish([(ToneTrack(660), "microphone"), (PatternTrack(), "camera")])
        await wait_for(decoding(viewer, 4), 20, "the viewer decoding both")
        assert viewer.offers > offers_before
        owners = {r.info["participant_id"] for r in viewer.live()}
        assert owners == {first.participant_id, late.participant_id}
        await wait_for(decoding(first, 2), 20, "the first decoding the late one")

        # Leaving removes its tracks from everyone, the others keep flowing.
        await late.close()
        await wait_for(lambda: len(viewer.live()) == 2, 10, "the late tracks ending")
        assert {r.info["participant_id"] for r in viewer.live()} == {
            first.participant_id
        }
        left = [m for m in viewer.messages if m["type"] == "participant_left"]
        assert left and left[-1]["participant_id"] == late.participant_id
        before = sum(viewer.frames("video"))
        await asyncio.sleep(1.0)
        assert sum(viewer.frames("video")) > before + 5
        assert len(first.live()) == 0
    finally:
        for participant in [first, viewer, late]:
            await participant.close()
