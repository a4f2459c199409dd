"""Where a live stream goes: an RTMP or RTMPS server URL and a stream key.

The key is a secret of whoever owns the channel: it is joined to the URL
only to connect and is never logged, stored or shown back in full.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

MAX_URL_LENGTH = 1024
MAX_KEY_LENGTH = 512
SCHEMES = ("rtmp", "rtmps")


@dataclass(frozen=True)
class StreamTarget:
    """A checked destination: `url` to connect to, `shown` for people."""

    url: str
    shown: str

    def __repr__(self) -> str:
        return f"StreamTarget({self.shown!r})"


def check(url: str, key: str) -> StreamTarget:
    """The destination, or ValueError with a message for the moderator."""
    url, key = url.strip(), key.strip()
    if not url:
        raise ValueError("Give the streaming server's address (rtmp://…).")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"The address is longer than {MAX_URL_LENGTH} characters.")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"The stream key is longer than {MAX_KEY_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 32 for c in url + key):
        raise ValueError("The address and the key may not contain spaces.")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError("The address must start with rtmp:// or rtmps://.")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("The port in the address is not a number.") from None
    if not parts.hostname:
        raise ValueError("The address names no server (rtmp://host/app).")
    if parts.query or parts.fragment:
        raise ValueError("The address may not contain ? or #.")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if not path:
        raise ValueError("The address names no application (rtmp://host/app).")
    shown = f"{parts.scheme.lower()}://{netloc}{path}"
    # Credentials in the address stay in the URL used, not in what is shown.
    base = f"{parts.scheme.lower()}://{parts.netloc}{path}"
    full = f"{base}/{urllib.parse.quote(key, safe='')}" if key else base
    return StreamTarget(full, shown)
