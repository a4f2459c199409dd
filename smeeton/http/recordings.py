"""A room's recordings in the REST API: list, download (with ranges), delete;
and playback links that need no session.

`/api/v1/rooms/{slug}/recordings[/{id}]`, for the room's owner only, like
the rest of the room API: another host's room answers 404.

`/recordings/{slug}/{id}.mp4?token=…` plays a published recording for
anyone holding the link, as BigBlueButton's playback URLs do: the token is
an HMAC-SHA256 of the room and recording under a key derived from the
server's secret, so only this server makes them. They do not expire;
unpublishing or deleting the recording ends them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from smeeton.http.api import owned_room
from smeeton.http.auth import require_user
from smeeton.http.errors import ApiError, endpoint
from smeeton.recording.recordings import Recording

# A token is 43 characters; a longer one is cut before it is compared.
_MAX_TOKEN = 64


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


def link_key(secret: str) -> bytes:
    """The playback link key from the server's own secret, which it tells
    nothing of; not the join ticket key, so neither signs for the other."""
    return hmac.new(secret.encode(), b"smeeton recording link", hashlib.sha256).digest()


def playback_path(key: bytes, recording: Recording) -> str:
    """The path of the recording's playback link, token included."""
    token = _token(key, recording.room, recording.id)
    return f"/recordings/{recording.room}/{recording.id}.mp4?token={token}"


async def play_recording(request: Request) -> Response:
    """The MP4 for a signed link, inline and with ranges; no session needed."""
    services = request.app.state.services
    slug = request.path_params["slug"]
    recording_id = request.path_params["recording_id"]
    given = request.query_params.get("token", "")[:_MAX_TOKEN]
    wanted = _token(services.recording_link_key, slug, recording_id)
    if not hmac.compare_digest(given.encode(), wanted.encode()):
        return Response("This recording link is not valid.\n", status_code=403)
    recording = services.recordings.get(slug, recording_id)
    path = None if recording is None else services.recordings.media_path(recording)
    # An unpublished recording is not there for the link's holders.
    if recording is None or not recording.published or not path.exists():
        return Response("There is no such recording.\n", status_code=404)
    return FileResponse(path, media_type="video/mp4")


def _token(key: bytes, slug: str, recording_id: str) -> str:
    mac = hmac.new(key, f"{slug}/{recording_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


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
    Route(
        "/recordings/{slug}/{recording_id}.mp4",
        play_recording,
        methods=["GET"],
        name="playback",
    ),
]
