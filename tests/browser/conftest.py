"""Debian's Chromium driven by Playwright, with a fake camera and microphone."""

from __future__ import annotations

import os
import shutil

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from tests.server import RunningServer

CHROMIUM = os.environ.get("SMEETON_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
]
# Chromium keeps only the last --disable-features: one merged list.
DISABLED_FEATURES = "WebRtcHideLocalIpsWithMdns,Translate,MediaRouter"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def server(tmp_path):
    running = RunningServer(tmp_path / "data").start()
    yield running
    running.stop()


@pytest_asyncio.fixture
async def browser():
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--disable-features={DISABLED_FEATURES}"],
            ignore_default_args=["--disable-features"],
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def new_page(browser):
    """Pages with camera and microphone permission, each in its own context."""
    contexts = []

    async def make(url: str):
        context = await browser.new_context(
            permissions=["camera", "microphone"], locale="en-US"
        )
        contexts.append(context)
        page = await context.new_page()
        await page.goto(url)
        return page

    yield make
    for context in contexts:
        await context.close()
