"""Errors by audience, turned into wire messages in one place (the session)."""

from __future__ import annotations


class SignallingError(Exception):
    """Base: `code` goes on the wire, the message is for a person to read."""

    code = "internal_error"


class UserError(SignallingError):
    """Something the person can fix: shown to them, the session goes on."""

    code = "bad_request"


class ProtocolError(SignallingError):
    """The client broke the protocol: told why, and the session is closed."""

    code = "protocol_error"


class PermissionDenied(SignallingError):
    """Not allowed for this participant: refused, nothing changes."""

    code = "permission_denied"
