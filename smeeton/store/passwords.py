"""Password hashing with argon2id; hashing is slow on purpose, so it runs in a
thread and never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verified when the name is unknown, so a wrong name costs as long as a
    # wrong password and the answer time does not tell which names exist.
    return _hasher.hash("no such user")


async def hash_password(password: str) -> str:
    """The argon2id hash of a password, with its own salt and parameters."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; `None` burns the same time and fails."""
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None
