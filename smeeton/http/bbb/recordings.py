"""The recording calls: getRecordings, publishRecordings, deleteRecordings
and updateRecordings, on the recordings of meetings made by `create`.

A meeting's recordings are the files of its room's recordings, and they
outlive it: `end` deletes the room record, not the files. What the calls
show comes from each sidecar's labels, which `create` put in the room's
options for the recorder to copy (meetingID, internalMeetingID, name,
metadata), so no call needs the meeting or its room. A recordID has
BigBlueButton's shape, `<sha1 of meetingID>-<start time in ms>`, worked out
from the sidecar each time it is read.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Mapping

from starlette.responses import Response

from smeeton.http.api import base_url
from smeeton.http.bbb import xml
from smeeton.http.bbb.meetings import Call, metadata
from smeeton.http.bbb.xml import BbbError, Field
from smeeton.http.recordings import playback_path
from smeeton.recording.recordings import Recording

NO_RECORD_ID = "You must specify one or more a record IDs."
NOT_FOUND = "We could not find recordings"
# What getRecordings lists when no state is asked for, as BigBlueButton.
DEFAULT_STATES = frozenset({"published", "unpublished"})


async def get_recordings(call: Call) -> Response:
    """The recordings asked for: by recordID (prefixes too), else by
    meetingID, else all; then by state and by metadata."""
    p = call.params
    found = await _meeting_recordings(call)

    # BigBlueButton ignores meetingID when recordID is given.
    record_ids = _list(p.get("recordID"))
    meeting_ids = _list(p.get("meetingID"))
    if record_ids:
        found = [
            r for r in found if any(record_id(r).startswith(i) for i in record_ids)
        ]
    elif meeting_ids:
        found = [r for r in found if r.labels["meetingID"] in meeting_ids]

    # Filter by state and metadata.
    states = {state.lower() for state in _list(p.get("state"))} or DEFAULT_STATES
    if "any" not in states:
        found = [r for r in found if _state(r) in states]
    wanted = {name: value for name, value in metadata(p).items() if value.strip()}
    found = [
        r
        for r in found
        if all(_meta(r).get(name) == value for name, value in wanted.items())
    ]

    if not found:
        return xml.success(
            ("recordings", []),
            ("messageKey", "noRecordings"),
            ("message", "There are no recordings for the meeting(s)."),
        )
    # LIMITATION: no offset and limit paging (BigBlueButton 2.6): every
    # recording found is in the answer.
    found.sort(key=lambda r: r.started)
    listed: list[Field] = [("recording", _fields(call, r)) for r in found]
    return xml.success(("recordings", listed))


async def publish_recordings(call: Call) -> Response:
    """Publish or unpublish: an unpublished recording's link plays no more."""
    p = call.params
    ids = _list(p.require("recordID", "missingParamRecordID", NO_RECORD_ID))
    publish = p.require(
        "publish", "missingParamPublish", "You must specify a publish value."
    )
    published = publish.strip().lower() == "true"
    for recording in await _named(call, ids):
        call.service.recordings.update(recording, published=published)
    return xml.success(("published", published))


async def delete_recordings(call: Call) -> Response:
    """Delete the recordings' files; one still being written is left alone."""
    ids = _list(call.params.require("recordID", "missingParamRecordID", NO_RECORD_ID))
    done = [r for r in await _named(call, ids) if r.status != "recording"]
    if not done:
        raise BbbError("notFound", NOT_FOUND)
    for recording in done:
        call.service.recordings.delete(recording)
    return xml.success(("deleted", True))


async def update_recordings(call: Call) -> Response:
    """Set the meta_* given; one given empty is removed, as BigBlueButton."""
    p = call.params
    ids = _list(p.require("recordID", "missingParamRecordID", NO_RECORD_ID))
    changes = metadata(p)
    for recording in await _named(call, ids):
        meta = dict(_meta(recording))
        for name, value in changes.items():
            if value.strip():
                meta[name] = value
            else:
                meta.pop(name, None)
        labels = {**recording.labels, "meta": meta}
        call.service.recordings.update(recording, labels=labels)
    return xml.success(("updated", True))


def record_id(recording: Recording) -> str:
    """The recording's BigBlueButton recordID."""
    # LIMITATION: a meeting recorded, stopped and recorded again has one
    # recording per part, told apart by their start times, where
    # BigBlueButton would make one recording of the meeting.
    meeting_id = str(recording.labels.get("meetingID", ""))
    digest = hashlib.sha1(meeting_id.encode()).hexdigest()
    return f"{digest}-{round(recording.started * 1000)}"


# Steps.


async def _meeting_recordings(call: Call) -> list[Recording]:
    # Reading every sidecar is file work: off the event loop.
    found = await asyncio.to_thread(call.service.recordings.all)
    return [r for r in found if isinstance(r.labels.get("meetingID"), str)]


async def _named(call: Call, ids: list[str]) -> list[Recording]:
    # publish, delete and update take whole recordIDs, not prefixes; like
    # BigBlueButton they act on those that exist, and fail only if none do.
    wanted = set(ids)
    found = [r for r in await _meeting_recordings(call) if record_id(r) in wanted]
    if not found:
        raise BbbError("notFound", NOT_FOUND)
    return found


def _fields(call: Call, recording: Recording) -> list[Field]:
    labels = recording.labels
    start = round(recording.started * 1000)
    end = start + round(recording.duration * 1000)
    url = base_url(call.request) + playback_path(call.service.link_key, recording)
    # BigBlueButton adds these to the create's metadata of every recording.
    shown = {
        "isBreakout": "false",
        "meetingId": str(labels["meetingID"]),
        "meetingName": str(labels.get("name") or ""),
        **_meta(recording),
    }
    return [
        ("recordID", record_id(recording)),
        ("meetingID", str(labels["meetingID"])),
        ("internalMeetingID", str(labels.get("internalMeetingID") or "")),
        ("name", str(labels.get("name") or "")),
        ("isBreakout", False),
        ("published", recording.published),
        ("state", _state(recording)),
        ("startTime", start),
        ("endTime", end),
        ("participants", recording.participants),
        ("rawSize", recording.size),
        ("metadata", list(shown.items())),
        ("size", recording.size),
        (
            "playback",
            [
                (
                    "format",
                    [
                        ("type", "video"),
                        ("url", url),
                        ("processingTime", 0),
                        # Whole minutes, as BigBlueButton counts them.
                        ("length", math.ceil(recording.duration / 60)),
                        ("size", recording.size),
                    ],
                )
            ],
        ),
        ("data", []),
    ]


def _state(recording: Recording) -> str:
    # A recording still being written is BigBlueButton's "processing": not
    # listed unless asked for.
    if recording.status == "recording":
        return "processing"
    return "published" if recording.published else "unpublished"


def _meta(recording: Recording) -> Mapping[str, str]:
    meta = recording.labels.get("meta")
    return meta if isinstance(meta, Mapping) else {}


def _list(value: str) -> list[str]:
    """A comma-separated parameter's values."""
    return [part.strip() for part in value.split(",") if part.strip()]
