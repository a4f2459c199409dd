"""A minimal BigBlueButton API caller for tests: signs a call as a client
does and reads the XML answer; the real clients are tested beside it."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlsplit
from xml.etree import ElementTree

# The npm client's folder, with its node_modules after `npm ci`.
JS_CLIENT = Path(__file__).resolve().parent / "js"

SECRET = "a-shared-secret-for-tests-only"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def url(base: str, which: str, query: str = "", algorithm: str = "sha1", **params):
    """The signed URL of a call; `query` is sent as it is, `params` encoded."""
    parts = [query] if query else []
    parts += [f"{k}={quote_plus(str(v))}" for k, v in params.items()]
    query = "&".join(parts)
    digest = hashlib.new(algorithm, (which + query + SECRET).encode()).hexdigest()
    sep = "&" if query else ""
    return f"{base}/bigbluebutton/api/{which}?{query}{sep}checksum={digest}"


def fetch(address: str, data: bytes | None = None, headers: dict | None = None):
    """The parsed XML answer to a GET (or a POST with data)."""
    request = urllib.request.Request(address, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return ElementTree.fromstring(response.read())


def call(base: str, which: str, **params):
    return fetch(url(base, which, **params))


def follow_join(address: str) -> tuple[str, str]:
    """Follow a join URL without the browser: its room slug and ticket."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(address, timeout=10)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302, answer.code
        location = answer.headers["Location"]
    else:
        raise AssertionError("join did not redirect")
    parts = urlsplit(location)
    slug = parts.path.rsplit("/", 1)[1]
    return slug, parse_qs(parts.fragment)["ticket"][0]


def text(root, path: str) -> str:
    found = root.find(path)
    assert found is not None, ElementTree.tostring(root)
    return found.text or ""


def meeting_ids(base: str) -> list[str]:
    root = call(base, "getMeetings")
    return [m.findtext("meetingID") for m in root.iter("meeting")]


async def join_with_ticket(server, address: str, name: str = "ignored"):
    """Follow a join URL and join its room with the ticket, as the page does."""
    from tests.signalling import Client

    slug, ticket = follow_join(address)
    client = Client(server)
    reply = await client.join(slug, name, ticket=ticket)
    client.reply = reply
    return client


def failed(root, key: str) -> None:
    """The answer is BigBlueButton's FAILED shape with that messageKey."""
    assert [child.tag for child in root][0] == "returncode"
    assert text(root, "returncode") == "FAILED", text(root, "message")
    assert text(root, "messageKey") == key
