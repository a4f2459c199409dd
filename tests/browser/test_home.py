"""The home page in Chromium: a host signs in and manages rooms with the
keyboard-reachable controls a screen reader names."""

from __future__ import annotations

import re

from playwright.async_api import expect

# Every wait on the page is bounded by this one timeout.
WAIT_MS = 10_000


async def test_host_signs_in_creates_edits_and_deletes_a_room(server, new_page):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    page = await new_page(server.url + "/")
    await page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=server.url
    )
    expect.set_options(timeout=WAIT_MS)

    # Sign in.
    sign_in = page.get_by_role("form", name="Sign in as a host")
    await sign_in.get_by_label("Name", exact=True).fill("alice")
    await sign_in.get_by_label("Password").fill("s3cret")
    await sign_in.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("Signed in as alice")).to_be_visible()
    await expect(page.get_by_text("You have no rooms yet.")).to_be_visible()

    # Create a room with the form.
    create = page.get_by_role("form", name="New room")
    await create.get_by_label("Room name").fill("Weekly call")
    await create.get_by_label("Access code (optional)").fill("1234")
    await create.get_by_label(re.compile("^Lobby")).check()
    await create.get_by_label(re.compile("^Record automatically")).check()
    await create.get_by_role("button", name="Create room").click()
    room = page.get_by_role("listitem", name="Weekly call")
    await expect(room).to_be_visible()
    await expect(
        room.get_by_text("Access code: 1234 · Lobby on · Recorded automatically")
    ).to_be_visible()
    invite = room.get_by_role("link", name=re.compile(r"\/r\/[a-z0-9]{10}$"))
    invite_url = await invite.get_attribute("href")
    assert invite_url.startswith(server.url + "/r/")
    moderator = room.get_by_role("link", name=re.compile(r"\?moderator="))
    assert (await moderator.get_attribute("href")).startswith(invite_url + "?")

    # Copy the invite link.
    await room.get_by_role("button", name="Copy the invite link of Weekly call").click()
    await expect(page.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert await page.evaluate("navigator.clipboard.readText()") == invite_url

    # Edit it: new name, no access code.
    await room.get_by_role("button", name="Edit Weekly call").click()
    dialog = page.get_by_role("dialog", name="Edit room")
    await expect(dialog.get_by_label("Room name")).to_have_value("Weekly call")
    auto_record = dialog.get_by_label(re.compile("^Record automatically"))
    await expect(auto_record).to_be_checked()
    await dialog.get_by_label("Room name").fill("Monthly call")
    await dialog.get_by_label("Access code (optional)").fill("")
    await auto_record.uncheck()
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    room = page.get_by_role("listitem", name="Monthly call")
    await expect(
        room.get_by_text("No access code · Lobby on", exact=True)
    ).to_be_visible()
    await expect(page.get_by_role("listitem", name="Weekly call")).to_have_count(0)

    # It is still there after a reload: the session and the room are kept.
    await page.reload()
    await expect(room).to_be_visible()

    # Delete it, after confirming.
    await room.get_by_role("button", name="Delete Monthly call").click()
    confirm = page.get_by_role("dialog", name="Delete room")
    await expect(confirm).to_contain_text("Monthly call")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("listitem")).to_have_count(0)
    await expect(page.get_by_text("You have no rooms yet.")).to_be_visible()


async def test_home_page_switches_to_bahasa_indonesia(server, new_page):
    page = await new_page(server.url + "/")
    expect.set_options(timeout=WAIT_MS)

    await page.get_by_role("combobox", name="Language").select_option("id")

    await expect(
        page.get_by_role("heading", name="Masuk sebagai penyelenggara")
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    # The form is there before signing in, hidden, already in Indonesian.
    create = page.locator("#create-room")
    await expect(create.get_by_label(re.compile("^Rekam otomatis"))).to_be_attached()
    assert await page.evaluate("document.documentElement.lang") == "id"
    await page.reload()
    await expect(page.get_by_label("Kata sandi")).to_be_visible()
