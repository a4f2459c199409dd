"""Telling integrations what happens: bbb-webhooks' callbacks and the end
callbacks of `create` (`meta_endCallbackUrl`, `meetingEndedURL`).

Webhook events are POSTed as the form `domain=…&event=[…]&timestamp=…`
with `checksum=sha1(callbackURL + body + secret)` added to the callback's
query, as bbb-webhooks does. Each delivery is a task of its own that tries
a few times and then gives up; `close()` cancels what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.request
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from smeeton.http.bbb import checksum
from smeeton.store import BbbHook, BbbMeeting

logger = logging.getLogger(__name__)

# Seconds before each new try; then the delivery is dropped.
RETRIES = (1.0, 2.0, 5.0, 10.0)
TIMEOUT = 5.0


def usable_url(url: str) -> bool:
    """Whether a callback URL is one we call: http or https with a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def event(kind: str, of: BbbMeeting, **attributes: object) -> dict:
    """One event in bbb-webhooks' mapped shape; a `meeting` attribute adds
    to the meeting's ids."""
    ids = {
        "internal-meeting-id": of.internal_id,
        "external-meeting-id": of.meeting_id,
    }
    meeting_fields = ids | attributes.pop("meeting", {})  # type: ignore[operator]
    return {
        "data": {
            "type": "event",
            "id": kind,
            "attributes": {"meeting": meeting_fields, **attributes},
            "event": {"ts": int(time.time() * 1000)},
        }
    }


class Callbacks:
    """Outgoing HTTP calls to integrations, each retried in its own task."""

    def __init__(self, secret: str, domain: str) -> None:
        self.secret = secret
        self.domain = domain
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    def hook(self, hook: BbbHook, payload: dict) -> None:
        """POST one event to one webhook."""
        body = urlencode(
            {
                "domain": self.domain,
                "event": "[" + json.dumps(payload, separators=(",", ":")) + "]",
                "timestamp": int(time.time() * 1000),
            }
        )
        url = hook.callback_url
        signed = checksum.sign(url, body, self.secret)
        url += ("&" if urlsplit(url).query else "?") + "checksum=" + signed
        self._spawn(f"webhook {hook.id}", lambda: _post(url, body.encode()))

    def meeting_ended(self, url: str, meeting_id: str) -> None:
        """GET an end callback with the meeting's id, as BigBlueButton does."""
        query = urlencode({"meetingID": meeting_id, "recordingmarks": "false"})
        url += ("&" if urlsplit(url).query else "?") + query
        self._spawn("end callback", lambda: _get(url))

    async def close(self) -> None:
        """Cancel every delivery still trying; safe to call twice."""
        self._closed = True
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, what: str, call: Callable[[], Awaitable[None]]) -> None:
        if self._closed:
            return
        task = asyncio.create_task(_with_retries(what, call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _with_retries(what: str, call: Callable[[], Awaitable[None]]) -> None:
    for delay in (0.0, *RETRIES):
        await asyncio.sleep(delay)
        try:
            await call()
            return
        except (OSError, ValueError) as exc:
            logger.warning("The %s failed (%s); trying again.", what, exc)
    logger.warning("The %s failed every time; it is dropped.", what)


async def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await asyncio.to_thread(_send, request)


async def _get(url: str) -> None:
    await asyncio.to_thread(_send, urllib.request.Request(url, method="GET"))


def _send(request: urllib.request.Request) -> None:
    # urllib raises HTTPError (an OSError) for statuses of 400 and more.
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        response.read(1024)
