"""Recordings on disk: `<root>/<room slug>/<id>.mp4` with a `<id>.json` sidecar.

The sidecar says which room, when it started, how long it lasted, how big it
is and whether it is still being written. Files rather than database rows,
so that recordings need no migration and can be copied, backed up or
removed with ordinary tools.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

logger = logging.getLogger(__name__)

_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
# Room slugs as directory names: never a dot first, so never `..`.
_SLUG = re.compile(r"[\w-][\w.-]{0,127}")
DAY = 86400.0


@dataclass(frozen=True)
class Recording:
    """What the sidecar holds."""

    id: str
    room: str
    started: float  # seconds since 1970
    duration: float = 0.0
    size: int = 0
    # "recording" while written, "complete", or "interrupted" when the
    # server stopped without finishing it (the file still plays).
    status: str = "recording"

    def json(self) -> dict[str, object]:
        return asdict(self)


class Recordings:
    """The recordings under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, room: str, now: float | None = None) -> tuple[Recording, Path]:
        """A new recording of a room: its sidecar and where to write the MP4."""
        if not _SLUG.fullmatch(room):
            raise ValueError(f"room {room!r} cannot name a directory")
        now = time.time() if now is None else now
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        recording = Recording(f"{stamp}-{secrets.token_hex(3)}", room, now)
        directory = self.root / room
        directory.mkdir(parents=True, exist_ok=True)
        self._write(recording)
        return recording, self.media_path(recording)

    def finish(self, recording: Recording, duration: float) -> Recording:
        """The recording is complete: its duration and size go in the sidecar."""
        size = _size(self.media_path(recording))
        done = replace(recording, duration=round(duration, 3), size=size)
        done = replace(done, status="complete")
        self._write(done)
        logger.info(
            "Recording %s of room %s finished: %.1f s, %d bytes.",
            done.id,
            done.room,
            done.duration,
            done.size,
        )
        return done

    def list(self, room: str) -> list[Recording]:
        """A room's recordings, newest first."""
        if not _SLUG.fullmatch(room):
            return []
        directory = self.root / room
        found = []
        for sidecar in directory.glob("*.json"):
            recording = self._read(sidecar)
            if recording is not None:
                found.append(recording)
        return sorted(found, key=lambda r: r.started, reverse=True)

    def get(self, room: str, recording_id: str) -> Recording | None:
        if not _SLUG.fullmatch(room) or not _ID.fullmatch(recording_id):
            return None
        return self._read(self.root / room / f"{recording_id}.json")

    def media_path(self, recording: Recording) -> Path:
        return self.root / recording.room / f"{recording.id}.mp4"

    def delete(self, recording: Recording) -> None:
        for path in (
            self.media_path(recording),
            self.root / recording.room / f"{recording.id}.json",
        ):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        logger.info("Recording %s of room %s deleted.", recording.id, recording.room)

    def sweep(self, retention_days: int, now: float | None = None) -> int:
        """Remove recordings older than the retention; 0 days keeps them all.

        Recordings left "recording" by a server that stopped are marked
        "interrupted" here too, since the sweep runs at startup.
        """
        now = time.time() if now is None else now
        removed = 0
        for sidecar in self.root.glob("*/*.json"):
            recording = self._read(sidecar)
            if recording is None:
                continue
            old = now - recording.started > retention_days * DAY
            if retention_days > 0 and old and recording.status != "recording":
                self.delete(recording)
                removed += 1
        return removed

    def mark_interrupted(self) -> None:
        """At startup: nothing is being written, whatever the sidecars say."""
        for sidecar in self.root.glob("*/*.json"):
            recording = self._read(sidecar)
            if recording is not None and recording.status == "recording":
                size = _size(self.media_path(recording))
                self._write(replace(recording, status="interrupted", size=size))

    def _read(self, sidecar: Path) -> Recording | None:
        try:
            data = json.loads(sidecar.read_text())
            recording = Recording(**data)
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("Recording sidecar %s is unreadable: %s", sidecar, exc)
            return None
        if recording.status == "recording":
            # The size grows while the file is written.
            recording = replace(recording, size=_size(self.media_path(recording)))
        return recording

    def _write(self, recording: Recording) -> None:
        path = self.root / recording.room / f"{recording.id}.json"
        partial = path.with_suffix(".json.part")
        partial.write_text(json.dumps(recording.json()))
        os.replace(partial, path)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
