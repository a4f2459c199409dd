"""Join tickets: a signed, short-lived promise that a person may enter a
room under a given name and role.

The BigBlueButton API's `join` hands one out in the link it redirects to;
the meeting client gives it back in its signalling `join`. A ticket is
`<payload>.<signature>`, both base64url: the payload is JSON, the signature
its HMAC-SHA256 under a key only this server knows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass

from smeeton.rooms.errors import UserError
from smeeton.rooms.participant import Role

# Long enough to load the meeting page on a slow link, short enough that a
# link copied out of a browser's history is of no use.
LIFETIME = 300.0
MAX_TICKET = 4096


@dataclass(frozen=True)
class Ticket:
    """Who may come in, as the signer said."""

    room: str
    name: str
    role: str
    guest: bool = False
    # The integration's own id of the person (BigBlueButton's userID).
    user_id: str = ""
    # The BigBlueButton meeting's createTime the ticket was made for.
    create_time: int = 0
    expires: float = 0.0

    @property
    def participant_role(self) -> Role:
        return Role.MODERATOR if self.role == Role.MODERATOR.value else Role.ATTENDEE


def derive_key(secret: str) -> bytes:
    """The ticket key from the server's own secret, so that it is kept with
    it and tells nothing of it."""
    return hmac.new(secret.encode(), b"smeeton join ticket", hashlib.sha256).digest()


def sign(key: bytes, ticket: Ticket, now: float | None = None) -> str:
    """The ticket as text, valid for LIFETIME seconds from now."""
    now = time.time() if now is None else now
    payload = asdict(ticket) | {"expires": now + LIFETIME}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return body + "." + _b64(_mac(key, body))


def verify(key: bytes, text: str, room: str, now: float | None = None) -> Ticket:
    """The ticket, if it is ours, unexpired and for this room; UserError
    `bad_ticket` otherwise."""
    refused = UserError(
        "This join link is not valid or has expired; ask for a new one.",
        "bad_ticket",
    )
    # No key, no tickets: an empty HMAC key would be anyone's.
    if not key or len(text) > MAX_TICKET or text.count(".") != 1:
        raise refused
    body, signature = text.split(".")
    try:
        given = _unb64(signature)
        if not hmac.compare_digest(given, _mac(key, body)):
            raise refused
        fields = json.loads(_unb64(body))
        ticket = Ticket(**fields)
    except (ValueError, TypeError, binascii.Error):
        raise refused from None
    now = time.time() if now is None else now
    if ticket.room != room or not now < ticket.expires:
        raise refused
    return ticket


def _mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
