"""People in Chromium use the meeting page at /r/<slug> as a person would:
they join from the pre-join page, see and hear each other, chat, raise hands,
moderate, wait in the lobby, and come back after their connection drops."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

from playwright.async_api import Page, expect

# For each other participant's tile: its video's size and frames so far.
REMOTE_TILES = """() => Object.fromEntries(
  [...document.querySelectorAll('#tiles .tile:not(.self)')].map(tile => {
    const video = tile.querySelector('video');
    return [tile.dataset.participantId, {
      width: video.videoWidth || 0,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
      audio: Boolean(tile.querySelector('audio').srcObject),
    }];
  }))"""

# Notes when the connection says it is back after a cut.
RECONNECTED = """() => { window.back = false;
  smeeton.connection.addEventListener('reconnected',
    () => { window.back = true; }, { once: true }); }"""


def create_room(server, name: str, *flags: str) -> tuple[str, str]:
    """A room made with the CLI: its invite and moderator URLs on this server."""
    output = server.run_cli("rooms", "create", name, *flags)
    links = dict(re.findall(r"^(Invite|Moderator) link:\s+(\S+)$", output, re.M))
    invite, moderator = (urlsplit(links[k]) for k in ("Invite", "Moderator"))
    return (
        f"{server.url}{invite.path}",
        f"{server.url}{moderator.path}?{moderator.query}",
    )


async def until(what: str, check, timeout: float = 15.0):
    """Poll an async check until it returns something true, or fail saying what."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


async def join(page: Page, name: str) -> None:
    await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Join meeting").click()


async def joined(page: Page) -> str:
    """Wait until the page is in the meeting; its participant id."""
    await expect(page.locator("#meeting")).to_be_visible(timeout=15000)
    return await until(
        "a participant id",
        lambda: page.evaluate(
            "smeeton.state().state === 'joined' && smeeton.state().participantId"
        ),
    )


async def sees_video_of(page: Page, ids: set[str], timeout: float = 25) -> None:
    """The page shows every one of ids with decoded frames that keep rising."""
    deadline = time.monotonic() + timeout

    async def frames():
        tiles = await page.evaluate(REMOTE_TILES)
        if not ids <= tiles.keys():
            return None
        if not all(tiles[i]["width"] > 0 and tiles[i]["frames"] > 0 for i in ids):
            return None
        return {i: tiles[i]["frames"] for i in ids}

    first = await until(f"video of {ids}", frames, timeout)

    async def rising():
        now = await frames()
        return now and all(now[i] > first[i] + 5 for i in ids)

    await until(f"frames of {ids} rising", rising, deadline - time.monotonic())


async def open_panel(page: Page, name: str) -> None:
    button = page.get_by_role("button", name=name)
    if await button.get_attribute("aria-expanded") != "true":
        await button.click()


async def test_three_people_meet_chat_raise_a_hand_and_are_muted(server, new_page):
    invite, moderator = create_room(server, "Weekly planning")
    alice = await new_page(moderator)
    await join(alice, "Alice")
    alice_id = await joined(alice)
    bob = await new_page(invite)
    await join(bob, "Bob")
    bob_id = await joined(bob)
    carol = await new_page(invite)
    await join(carol, "Carol")
    carol_id = await joined(carol)
    assert len({alice_id, bob_id, carol_id}) == 3
    assert await alice.evaluate("smeeton.state().role") == "moderator"

    # Everyone sees the other two.
    await sees_video_of(alice, {bob_id, carol_id})
    await sees_video_of(bob, {alice_id, carol_id})
    await sees_video_of(carol, {alice_id, bob_id})

    # The fake microphones beep: the server hears their audio levels and
    # names one active speaker, whose tile is outlined on every page.
    speakers = set()
    for page in (alice, bob, carol):
        speaking = page.locator("#tiles .tile.speaking")
        await expect(speaking).to_have_count(1, timeout=15000)
        speakers.add(await speaking.get_attribute("data-participant-id"))
    assert len(speakers) == 1 and speakers <= {alice_id, bob_id, carol_id}

    # A chat message from Bob reaches Alice and Carol.
    await open_panel(bob, "Chat")
    await bob.get_by_label("Message").fill("Hello from Bob")
    await bob.get_by_role("button", name="Send").click()
    for page in (alice, carol):
        await open_panel(page, "Chat")
        await expect(page.get_by_role("log")).to_contain_text(
            "Hello from Bob", timeout=10000
        )

    # Carol raises her hand; Alice, a moderator, sees it and may lower it.
    await carol.get_by_role("button", name="Raise hand").click()
    await expect(carol.get_by_role("button", name="Raise hand")).to_have_attribute(
        "aria-pressed", "true"
    )
    await open_panel(alice, "Participants")
    carol_row = alice.locator(f"#people [data-participant-id='{carol_id}']")
    await expect(carol_row).to_contain_text("Hand raised", timeout=10000)
    await expect(
        alice.get_by_role("button", name="Lower the hand of Carol")
    ).to_be_visible()
    assert await alice.locator(
        f"#tiles [data-participant-id='{carol_id}'] .hand"
    ).count()

    # Alice mutes Carol: Carol's toggle is off, her track sends nothing, and
    # the server tells everyone her microphone is off.
    await alice.get_by_role("button", name="Mute Carol").click()
    await expect(carol.get_by_text("Alice turned off your microphone.")).to_be_visible(
        timeout=10000
    )
    await expect(carol.get_by_role("button", name="Microphone")).to_have_attribute(
        "aria-pressed", "false"
    )
    sender = await carol.evaluate("smeeton.state().senders.microphone")
    assert sender is None or not sender["enabled"] or sender["readyState"] == "ended"
    await expect(carol_row).to_contain_text("Microphone off", timeout=10000)
    await expect(alice.get_by_role("button", name="Mute Carol")).to_have_count(0)


async def test_lobby_admits_and_denies_and_a_wrong_access_code_is_refused(
    server, new_page
):
    invite, moderator = create_room(
        server, "Council", "--lobby", "--access-code", "2468"
    )
    alice = await new_page(moderator)
    await join(alice, "Alice")
    alice_id = await joined(alice)
    await open_panel(alice, "Chat")
    await alice.get_by_label("Message").fill("Agenda: item one")
    await alice.get_by_role("button", name="Send").click()
    await expect(alice.get_by_role("log")).to_contain_text("Agenda: item one")

    # Bob needs the code; a wrong one is refused in plain words.
    bob = await new_page(invite)
    await join(bob, "Bob")
    await expect(bob.get_by_role("alert")).to_contain_text("needs an access code")
    await bob.get_by_label("Access code").fill("1111")
    await bob.get_by_role("button", name="Join meeting").click()
    await expect(bob.get_by_role("alert")).to_contain_text("access code is wrong")
    await bob.get_by_label("Access code").fill("2468")
    await bob.get_by_role("button", name="Join meeting").click()

    # In the lobby he sees nothing of the meeting.
    await expect(
        bob.get_by_role("heading", name="Waiting to be let in")
    ).to_be_visible()
    await expect(bob.locator("#meeting")).to_be_hidden()
    await asyncio.sleep(1)
    assert await bob.locator("[data-participant-id]").count() == 0
    assert await bob.locator("#chat-log li").count() == 0

    # Alice hears of him, sees the count, and admits him.
    await expect(
        alice.get_by_role("button", name="Participants, 1 waiting")
    ).to_be_visible(timeout=10000)
    await open_panel(alice, "Participants")
    await alice.get_by_role("button", name="Admit Bob").click()
    bob_id = await joined(bob)
    await sees_video_of(bob, {alice_id})
    await sees_video_of(alice, {bob_id})
    await open_panel(bob, "Chat")
    await expect(bob.get_by_role("log")).to_contain_text("Agenda: item one")

    # Carol waits and is turned away; she never gets in.
    carol = await new_page(invite)
    await join(carol, "Carol")
    await carol.get_by_label("Access code").fill("2468")
    await carol.get_by_role("button", name="Join meeting").click()
    await expect(
        carol.get_by_role("heading", name="Waiting to be let in")
    ).to_be_visible()
    await alice.get_by_role("button", name="Deny Carol").click()
    await expect(
        carol.get_by_role("heading", name="You were not let in")
    ).to_be_visible(timeout=10000)
    assert await carol.locator("[data-participant-id]").count() == 0
    assert await carol.evaluate("smeeton.state().participantId") == ""
    names = await alice.locator("#people .person-name").all_inner_texts()
    assert sorted(names) == ["Alice (you)", "Bob"]


async def test_a_dropped_websocket_comes_back_as_the_same_participant(server, new_page):
    invite, moderator = create_room(server, "Stand-up")
    alice = await new_page(moderator)
    await join(alice, "Alice")
    alice_id = await joined(alice)
    bob = await new_page(invite)
    await join(bob, "Bob")
    bob_id = await joined(bob)
    await sees_video_of(alice, {bob_id})
    await sees_video_of(bob, {alice_id})

    # Alice notes what she is told about Bob's presence.
    await alice.evaluate(
        """id => { window.awaySeen = [];
        smeeton.connection.addEventListener('participantupdated', e => {
          if (e.detail.id === id) window.awaySeen.push(e.detail.away); }); }""",
        bob_id,
    )
    # The cut; within ten seconds Bob is back, with media both ways.
    await bob.evaluate(RECONNECTED)
    back_by = time.monotonic() + 10
    await bob.evaluate("smeeton.connection.socket.close()")
    await until(
        "Bob back in the meeting",
        lambda: bob.evaluate("window.back && smeeton.state().state === 'joined'"),
        timeout=10,
    )
    assert await bob.evaluate("smeeton.state().participantId") == bob_id
    await sees_video_of(bob, {alice_id}, back_by - time.monotonic())
    await sees_video_of(alice, {bob_id}, back_by - time.monotonic())
    await expect(bob.locator("#connection-banner")).to_be_hidden()

    seen = await until(
        "Alice seeing Bob away and back",
        lambda: alice.evaluate("window.awaySeen.includes(true) && window.awaySeen"),
    )
    assert seen[-1] is False
    row = alice.locator(f"#tiles [data-participant-id='{bob_id}']")
    await expect(row).not_to_have_class(re.compile(r"\baway\b"))


async def test_a_participant_whose_media_failed_meanwhile_publishes_again(
    server, new_page
):
    invite, moderator = create_room(server, "Retro")
    alice = await new_page(moderator)
    await join(alice, "Alice")
    alice_id = await joined(alice)
    bob = await new_page(invite)
    await join(bob, "Bob")
    bob_id = await joined(bob)
    await sees_video_of(alice, {bob_id})

    # Bob's peer connections die with his WebSocket.
    await bob.evaluate(RECONNECTED)
    back_by = time.monotonic() + 10
    await bob.evaluate(
        """() => { const c = smeeton.connection;
        c.publishConnection.close(); c.subscribeConnection.close();
        c.socket.close(); }"""
    )
    await until(
        "Bob back in the meeting",
        lambda: bob.evaluate("window.back && smeeton.state().state === 'joined'"),
        timeout=10,
    )
    assert await bob.evaluate("smeeton.state().participantId") == bob_id
    assert await bob.evaluate(
        "smeeton.connection.publishConnection.connectionState !== 'closed'"
    )
    await sees_video_of(bob, {alice_id}, back_by - time.monotonic())
    await sees_video_of(alice, {bob_id}, back_by - time.monotonic())
