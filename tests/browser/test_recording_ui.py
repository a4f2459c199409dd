"""Recording and streaming in the meeting page: a moderator starts them from
the interface, everyone sees the red mark, and a bad stream address is
explained in the dialog where it was typed."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.test_meeting import create_room, join, joined


async def test_moderator_records_and_everyone_sees_it(server, new_page):
    invite, moderator = create_room(server, "Recorded in the browser")
    host = await new_page(moderator)
    await join(host, "Host")
    await joined(host)
    guest = await new_page(invite)
    await join(guest, "Guest")
    await joined(guest)

    # Only the moderator has the buttons; the guest sees no mark yet.
    await host.get_by_role("button", name="Participants").click()
    await guest.get_by_role("button", name="Participants").click()
    await expect(guest.get_by_role("button", name="Start recording")).to_be_hidden()
    await expect(guest.locator("#recording-indicator")).to_be_hidden()

    await host.get_by_role("button", name="Start recording").click()
    for page in (host, guest):
        await expect(page.locator("#recording-indicator")).to_be_visible()
        await expect(page.locator("#recording-indicator")).to_have_text("Recording")
        await expect(page.locator("#announcer")).to_have_text(
            "This meeting is being recorded."
        )

    # A stream to an address that is not RTMP is refused in the dialog.
    await host.get_by_role("button", name="Live stream…").click()
    dialog = host.get_by_role("dialog", name="Stream the meeting live")
    await dialog.get_by_label("Server address").fill("http://example/live")
    await dialog.get_by_label("Stream key").fill("secret")
    await dialog.get_by_role("button", name="Start streaming").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("rtmp://")
    await dialog.get_by_role("button", name="Close").click()

    await host.get_by_role("button", name="Stop recording").click()
    await expect(guest.locator("#recording-indicator")).to_be_hidden()
