"""A room's recordings in the REST API: list, download (with ranges), delete.

`/api/v1/rooms/{slug}/recordings[/{id}]`, for the room's owner only, like
the rest of the room API: another host's room answers 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from smeeton.http.api import owned_room
from smeeton.http.auth import require_user
from smeeton.http.errors import ApiError, endpoint
from smeeton.recording.recordings import Recording


def recording_json(request: Request, recording: Recording) -> dict[str, object]:
    url = request.url_for(
        "recording", slug=recording.room, recording_id=recording.id
    ).path
    return {**recording.json(), "url": url}


async def _recording(request: Request) -> Recording:
    user = await require_user(request)
    room = await owned_room(request, user)
    recordings = request.app.state.services.recordings
    found = recordings.get(room.slug, request.path_params["recording_id"])
    if found is None:
        raise ApiError(404, "not_found", "this room has no such recording")
    return found


@endpoint
async def list_recordings(request: Request) -> Response:
    user = await require_user(request)
    room = await owned_room(request, user)
    found = request.app.state.services.recordings.list(room.slug)
    return JSONResponse({"recordings": [recording_json(request, r) for r in found]})


@endpoint
async def download_recording(request: Request) -> Response:
    """The MP4; Starlette answers Range requests, so a <video> can seek."""
    recording = await _recording(request)
    path = request.app.state.services.recordings.media_path(recording)
    if not path.exists():
        raise ApiError(404, "not_found", "the recording's file is missing")
    return FileResponse(
        path,
        media_type="video/mp4",
        filename=f"{recording.room}-{recording.id}.mp4",
        content_disposition_type="attachment",
    )


@endpoint
async def delete_recording(request: Request) -> Response:
    recording = await _recording(request)
    if recording.status == "recording":
        raise ApiError(409, "busy", "stop the recording before deleting it")
    request.app.state.services.recordings.delete(recording)
    return Response(status_code=204)


routes = [
    Route("/api/v1/rooms/{slug}/recordings", list_recordings, methods=["GET"]),
    Route(
        "/api/v1/rooms/{slug}/recordings/{recording_id}",
        download_recording,
        methods=["GET"],
        name="recording",
    ),
    Route(
        "/api/v1/rooms/{slug}/recordings/{recording_id}",
        delete_recording,
        methods=["DELETE"],
    ),
]
