"""Recordings on disk: `<root>/<room slug>/<id>.mp4` with a `<id>.json` sidecar.

The sidecar says which room, when it started, how long it lasted, how big it
is, whether it is still being written, whether it is published, and the
labels whoever started it wanted kept with it (the BigBlueButton API keeps
its meeting's ids, name and metadata there). Files rather than database
rows, so that recordings need no migration, outlive the room they were made
in, and can be copied, backed up or removed with ordinary tools.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
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
    # Whether links to it play; BigBlueButton publishes recordings by default.
    published: bool = True
    # How many people were in the meeting while it was recorded.
    participants: int = 0
    # Kept for whoever started it; the recording plane never reads them.
    labels: Mapping[str, object] = field(default_factory=dict)

    def json(self) -> dict[str, object]:
        return asdict(self)


class Recordings:
    """The recordings under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(
        self,
        room: str,
        labels: Mapping[str, object] | None = None,
        now: float | None = None,
    ) -> tuple[Recording, Path]:
        """A new recording of a room: its sidecar and where to write the MP4.

        `labels` must be JSON; they are kept in the sidecar as they are."""
        if not _SLUG.fullmatch(room):
            raise ValueError(f"room {room!r} cannot name a directory")
        now = time.time() if now is None else now
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        recording = Recording(
            f"{stamp}-{secrets.token_hex(3)}", room, now, labels=dict(labels or {})
        )
        directory = self.root / room
        directory.mkdir(parents=True, exist_ok=True)
        self._write(recording)
        return recording, self.media_path(recording)

    def finish(
        self, recording: Recording, duration: float, participants: int = 0
    ) -> Recording:
        """The recording is complete: its duration and size go in the sidecar."""
        # Read it again: it may have been published or labelled meanwhile.
        current = self.get(recording.room, recording.id) or recording
        done = replace(
            current,
            duration=round(duration, 3),
            size=_size(self.media_path(recording)),
            participants=max(participants, current.participants),
            status="complete",
        )
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

    def all(self) -> list[Recording]:
        """Every room's recordings, rooms that no longer exist included,
        newest first."""
        found = []
        for sidecar in self.root.glob("*/*.json"):
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

    def update(self, recording: Recording, **changes: object) -> Recording:
        """Change the sidecar's `published` or `labels`; the new recording."""
        unknown = set(changes) - {"published", "labels"}
        if unknown:
            raise ValueError(f"only published and labels change, not {unknown}")
        changed = replace(recording, **changes)  # type: ignore[arg-type]
        self._write(changed)
        return changed

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
