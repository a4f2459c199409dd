"""The ICE-lite side of connectivity checks (RFC 8445 §2.5): answer, never ask.

A lite agent only answers STUN Binding requests. The request's USERNAME,
"<our ufrag>:<their ufrag>", tells which transport a new address belongs to,
and its MESSAGE-INTEGRITY proves the sender read our SDP.
"""

from __future__ import annotations

import secrets
import string
import struct
from dataclasses import dataclass

from aioice import stun

# RFC 8839 §5.4: ice-char is ALPHA / DIGIT / "+" / "/".
_ICE_CHARS = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class IceCredentials:
    """One side's ICE username fragment and password."""

    ufrag: str
    pwd: str

    @classmethod
    def generate(cls) -> IceCredentials:
        # RFC 8839 §5.4: at least 24 bits of randomness in the ufrag and
        # 128 bits in the password.
        ufrag = "".join(secrets.choice(_ICE_CHARS) for _ in range(8))
        pwd = "".join(secrets.choice(_ICE_CHARS) for _ in range(24))
        return cls(ufrag, pwd)


@dataclass(frozen=True)
class BindingRequest:
    """A parsed STUN Binding request, its integrity not yet checked."""

    message: stun.Message
    local_ufrag: str
    remote_ufrag: str

    @property
    def use_candidate(self) -> bool:
        return "USE-CANDIDATE" in self.message.attributes

    def verify(self, local_pwd: str) -> bool:
        return self.message.check_message_integrity(local_pwd.encode())


def parse_binding_request(data: bytes) -> BindingRequest:
    """Parse a datagram that should be a STUN Binding request; ValueError if not."""
    try:
        message = stun.parse_message(data)
    except (ValueError, struct.error, UnicodeError, KeyError, IndexError) as exc:
        raise ValueError(f"malformed STUN message: {exc}") from None
    if message.message_method != stun.Method.BINDING:
        raise ValueError("not a Binding message")
    if message.message_class != stun.Class.REQUEST:
        raise ValueError("not a request")
    username = message.attributes.get("USERNAME")
    if not isinstance(username, str) or ":" not in username:
        raise ValueError("no USERNAME of the form local:remote")
    local_ufrag, remote_ufrag = username.split(":", 1)
    return BindingRequest(message, local_ufrag, remote_ufrag)


def binding_success(
    request: BindingRequest, address: tuple[str, int], local_pwd: str
) -> bytes:
    """The success response, telling the peer the address we saw (RFC 8489 §14.2)."""
    response = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=stun.Class.RESPONSE,
        transaction_id=request.message.transaction_id,
    )
    response.attributes["XOR-MAPPED-ADDRESS"] = (address[0], address[1])
    response.add_message_integrity(local_pwd.encode())
    return bytes(response)


def binding_error(request: BindingRequest, code: int, reason: str) -> bytes:
    """An error response (RFC 8489 §14.8), e.g. 401 for a bad credential."""
    response = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=stun.Class.ERROR,
        transaction_id=request.message.transaction_id,
    )
    response.attributes["ERROR-CODE"] = (code, reason)
    response.add_fingerprint()
    return bytes(response)
