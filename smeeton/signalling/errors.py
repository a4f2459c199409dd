"""Errors by audience, turned into wire messages in one place (the session).

The meeting domain's refusals (`UserError`, `PermissionDenied`) come from the
rooms plane; a protocol error is the signalling plane's own.
"""

from __future__ import annotations

from smeeton.rooms.errors import MeetingError, PermissionDenied, UserError

__all__ = ["MeetingError", "PermissionDenied", "ProtocolError", "UserError"]


class ProtocolError(MeetingError):
    """The client broke the protocol: told why, and the session is closed."""

    code = "protocol_error"
