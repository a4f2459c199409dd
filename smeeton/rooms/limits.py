"""Bursts a person could not type or click: refused before they reach others."""

from __future__ import annotations

import time

from smeeton.rooms.errors import UserError


class BurstLimit:
    """At most `count` actions per participant within `seconds`."""

    def __init__(self, count: int, seconds: float, message: str) -> None:
        self.count = count
        self.seconds = seconds
        self.message = message
        self._times: dict[str, list[float]] = {}

    def check(self, participant_id: str) -> None:
        """Count one action, or refuse it with UserError `slow_down`."""
        now = time.monotonic()
        recent = [
            t for t in self._times.get(participant_id, []) if now - t < self.seconds
        ]
        if len(recent) >= self.count:
            raise UserError(self.message, "slow_down")
        recent.append(now)
        self._times[participant_id] = recent

    def forget(self, participant_id: str) -> None:
        self._times.pop(participant_id, None)
