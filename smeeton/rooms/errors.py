"""Refusals of the meeting domain, typed by who should hear of them.

The signalling plane turns each into a wire `error` with its `code`; the
message is written for the person using the meeting.
"""

from __future__ import annotations


class MeetingError(Exception):
    """Base: `code` goes on the wire, the message is for a person to read."""

    code = "internal_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UserError(MeetingError):
    """Something the person can fix or should know: shown to them, nothing changes."""

    code = "bad_request"


class PermissionDenied(MeetingError):
    """Not allowed for this participant's role: refused, nothing changes."""

    code = "permission_denied"
