"""Two Chromium pages see and hear each other through the server."""

from __future__ import annotations

import asyncio
import time

# For every remote video: its size and frames decoded so far; for every
# remote audio: whether its track is live.
REMOTE_MEDIA = """() => [...document.querySelectorAll('#tiles video, #tiles audio')]
  .map(e => ({
    kind: e.tagName.toLowerCase(),
    label: e.dataset.label,
    width: e.videoWidth || 0,
    frames: e.getVideoPlaybackQuality ?
      e.getVideoPlaybackQuality().totalVideoFrames : 0,
    live: e.srcObject.getTracks()[0].readyState === 'live',
  }))"""


async def remote(page) -> list[dict]:
    return await page.evaluate(REMOTE_MEDIA)


async def until(page, predicate, what: str, timeout: float = 20.0) -> list[dict]:
    state: list[dict] = []

    async def poll() -> bool:
        nonlocal state
        state = await remote(page)
        return predicate(state)

    deadline = time.monotonic() + timeout
    while not await poll():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {state}")
        await asyncio.sleep(0.2)
    return state


def videos(state, label=None):
    return [m for m in state if m["kind"] == "video" and label in (None, m["label"])]


async def test_two_pages_see_and_hear_each_other_and_a_screen_share(server, new_page):
    alice = await new_page(server.url + "/test")
    bob = await new_page(server.url + "/test")
    await alice.evaluate("smeeton.join('browser-room', 'Alice')")
    await bob.evaluate("smeeton.join('browser-room', 'Bob')")

    for page in (alice, bob):
        state = await until(
            page,
            lambda s: (
                any(v["width"] > 0 and v["frames"] > 0 for v in videos(s))
                and any(a["kind"] == "audio" and a["live"] for a in s)
            ),
            "remote camera and microphone",
        )
        assert videos(state, "camera")[0]["width"] == 640
        first = videos(state, "camera")[0]["frames"]
        await until(
            page,
            lambda s, first=first: videos(s, "camera")[0]["frames"] > first + 10,
            "remote frames rising",
        )

    await alice.evaluate("smeeton.shareCanvas()")
    state = await until(
        bob,
        lambda s: any(v["width"] > 0 and v["frames"] > 5 for v in videos(s, "screen")),
        "the shared screen at Bob",
    )
    assert videos(state, "screen")[0]["width"] == 640
    assert len(videos(state)) == 2
    assert server.metrics()["smeeton_track_packets_forwarded_total"] > 0
