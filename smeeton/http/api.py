"""The REST API for a host's rooms: `/api/v1/rooms` and `/api/v1/rooms/{slug}`.

Only the signed-in owner sees or changes a room; another host's room answers
404, the same as one that does not exist, so slugs cannot be probed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smeeton.http.auth import require_user
from smeeton.http.errors import (
    ApiError,
    bad_request,
    check_fields,
    endpoint,
    read_object,
)
from smeeton.store import RoomRecord, User
from smeeton.store.records import check_access_code, check_name

ROOM_FIELDS = {"name", "access_code", "lobby", "auto_record"}
# The settings that are true or false.
_FLAGS = ("lobby", "auto_record")


def base_url(request: Request) -> str:
    """Where links start: the configured public URL, else what the browser
    used to reach us."""
    configured = request.app.state.services.config.server.public_url
    return (configured or str(request.base_url)).rstrip("/")


def room_json(request: Request, room: RoomRecord) -> dict[str, object]:
    """A room as the API shows it to its owner, with both links."""
    invite = f"{base_url(request)}/r/{room.slug}"
    return {
        "slug": room.slug,
        "name": room.name,
        "access_code": room.access_code,
        "lobby": room.lobby,
        "auto_record": room.auto_record,
        "invite_url": invite,
        "moderator_url": f"{invite}?moderator={room.moderator_key}",
        "created_at": room.created_at.isoformat(),
    }


def room_changes(body: dict[str, object], creating: bool) -> dict[str, object]:
    """The validated fields of a create or edit body."""
    check_fields(body, ROOM_FIELDS)
    changes: dict[str, object] = {}
    try:
        if "name" in body or creating:
            changes["name"] = check_name(body.get("name"), "name")
        if "access_code" in body:
            # An empty field in the form means "no access code".
            code = body["access_code"]
            changes["access_code"] = check_access_code(code or None)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    for flag in _FLAGS:
        if flag in body:
            if not isinstance(body[flag], bool):
                raise bad_request(f"{flag} must be true or false")
            changes[flag] = body[flag]
    return changes


async def owned_room(request: Request, user: User) -> RoomRecord:
    slug = request.path_params["slug"]
    room = await request.app.state.services.store.room_by_slug(slug)
    if room is None or room.owner_id != user.id:
        raise ApiError(404, "not_found", "no room of yours has that slug")
    return room


@endpoint
async def list_rooms(request: Request) -> Response:
    user = await require_user(request)
    rooms = await request.app.state.services.store.rooms_of(user.id)
    return JSONResponse({"rooms": [room_json(request, room) for room in rooms]})


@endpoint
async def create_room(request: Request) -> Response:
    user = await require_user(request)
    changes = room_changes(await read_object(request), creating=True)
    room = await request.app.state.services.store.create_room(
        owner_id=user.id, **changes
    )
    return JSONResponse(room_json(request, room), status_code=201)


@endpoint
async def get_room(request: Request) -> Response:
    user = await require_user(request)
    return JSONResponse(room_json(request, await owned_room(request, user)))


@endpoint
async def edit_room(request: Request) -> Response:
    user = await require_user(request)
    room = await owned_room(request, user)
    changes = room_changes(await read_object(request), creating=False)
    updated = await request.app.state.services.store.update_room(room.slug, **changes)
    if updated is None:
        raise ApiError(404, "not_found", "the room was deleted meanwhile")
    return JSONResponse(room_json(request, updated))


@endpoint
async def delete_room(request: Request) -> Response:
    user = await require_user(request)
    room = await owned_room(request, user)
    await request.app.state.services.store.delete_room(room.slug)
    return Response(status_code=204)


@endpoint
async def invite(request: Request) -> Response:
    """What the invite link's page shows before joining: no secrets."""
    services = request.app.state.services
    slug = request.path_params["slug"]
    room = await services.store.room_by_slug(slug)
    if room is None:
        if not services.config.meetings.temporary_rooms:
            raise ApiError(404, "not_found", "no room has that slug")
        return JSONResponse({"name": slug, "access_code": False, "lobby": False})
    return JSONResponse(
        {"name": room.name, "access_code": bool(room.access_code), "lobby": room.lobby}
    )


routes = [
    Route("/api/v1/invites/{slug}", invite, methods=["GET"]),
    Route("/api/v1/rooms", list_rooms, methods=["GET"]),
    Route("/api/v1/rooms", create_room, methods=["POST"]),
    Route("/api/v1/rooms/{slug}", get_room, methods=["GET"]),
    Route("/api/v1/rooms/{slug}", edit_room, methods=["PATCH"]),
    Route("/api/v1/rooms/{slug}", delete_room, methods=["DELETE"]),
]
