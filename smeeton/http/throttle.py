"""Slowing down password guessing: too many failed sign-ins lock a name out.

Failures are counted per account name and per client address over a
window; past the limit further attempts are refused for the rest of the
window without checking the password, so a guesser learns nothing and
costs no argon2 work. The counts live in memory and reset on restart.
"""

from __future__ import annotations

import time
from collections import deque

MAX_FAILURES = 5
WINDOW = 600.0


class SignInThrottle:
    """Failed sign-ins per key ("name:<name>", "addr:<address>")."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW):
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, *keys: str) -> float:
        """Seconds until any of the keys may try again; 0 if it may now."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[0] + self.window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if not failures and len(self._failures) > 10_000:
            # A flood of one-off names must not grow memory without end.
            self._failures.clear()
            failures = self._failures.setdefault(key, deque())
        return failures
