"""The checksum every call but the version document carries: a hash of the
call's name, its query string as sent (less the checksum) and the secret.

BigBlueButton takes SHA-1, SHA-256, SHA-384 and SHA-512; the length of the
hexadecimal checksum tells which one a client used.
"""

from __future__ import annotations

import hashlib
import hmac

ALGORITHMS = {40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}


def split(raw_query: str) -> tuple[str, str | None]:
    """The query string without its checksum, and the checksum (the last
    one if a client sent several)."""
    kept, checksum = [], None
    for part in raw_query.split("&"):
        if part.startswith("checksum="):
            checksum = part[len("checksum=") :]
        elif part:
            kept.append(part)
    return "&".join(kept), checksum


def valid(call: str, query: str, checksum: str | None, secret: str) -> bool:
    """Whether the checksum matches, compared in constant time."""
    if not secret or not checksum:
        return False
    algorithm = ALGORITHMS.get(len(checksum))
    if algorithm is None:
        return False
    wanted = hashlib.new(algorithm, (call + query + secret).encode()).hexdigest()
    return hmac.compare_digest(wanted.encode(), checksum.lower().encode())


def sign(call: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """A checksum as a client makes it (for webhooks and tests)."""
    return hashlib.new(algorithm, (call + query + secret).encode()).hexdigest()
