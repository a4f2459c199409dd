"""The routes of /bigbluebutton/api: the version document, and every call
checked in one place (API on, size, checksum, parameters) before the table
`CALLS` sends it to its function."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smeeton.http.bbb import checksum, hooks, meetings, recordings, xml
from smeeton.http.bbb.meetings import Call
from smeeton.http.bbb.params import MAX_QUERY, Params
from smeeton.http.bbb.xml import BbbError

logger = logging.getLogger(__name__)

# A create's XML body names presentations; it is a few kilobytes.
MAX_BODY = 64 * 1024

CALLS = {
    "create": meetings.create,
    "join": meetings.join,
    "end": meetings.end,
    "isMeetingRunning": meetings.is_meeting_running,
    "getMeetingInfo": meetings.get_meeting_info,
    "getMeetings": meetings.get_meetings,
    "sendChatMessage": meetings.send_chat_message,
    "getRecordings": recordings.get_recordings,
    "publishRecordings": recordings.publish_recordings,
    "deleteRecordings": recordings.delete_recordings,
    "updateRecordings": recordings.update_recordings,
    "hooks/create": hooks.create,
    "hooks/list": hooks.list_hooks,
    "hooks/destroy": hooks.destroy,
}


async def version(request: Request) -> Response:
    """The one answer that needs no checksum: which API this is."""
    return xml.success(
        ("version", "2.0"), ("apiVersion", "2.0"), ("bbbVersion", "smeeton")
    )


async def call(request: Request) -> Response:
    """Check a call and answer it; every refusal is a FAILED answer."""
    name = request.path_params["call"].strip("/")
    if not name:
        return await version(request)
    try:
        return await _answer(request, name)
    except BbbError as error:
        return xml.failed(error.key, error.message)


async def _answer(request: Request, name: str) -> Response:
    service = request.app.state.services.bbb
    handler = CALLS.get(name)
    if handler is None:
        raise BbbError("unsupportedRequest", "This request is not supported.")
    if not service.secret:
        raise BbbError(
            "checksumError",
            "The BigBlueButton API is off: this server has no bbb_secret.",
        )

    # The checksum is over the query string exactly as sent.
    raw = request.scope["query_string"].decode("utf-8", "surrogateescape")
    if len(raw) > MAX_QUERY:
        raise BbbError("requestTooLarge", f"The request is over {MAX_QUERY} bytes.")
    body = await _body(request) if request.method == "POST" else b""
    query, given = checksum.split(raw)
    if given is None and _is_form(request) and body:
        # Parameters may come as a form body instead, checksum included.
        query, given = checksum.split(body.decode("utf-8", "surrogateescape"))
    if not checksum.valid(name, query, given, service.secret):
        raise BbbError("checksumError", "You did not pass the checksum security check")
    params = Params.parse(query)
    return await handler(Call(params, service, request, body))


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BbbError("requestTooLarge", f"The body is over {MAX_BODY} bytes.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BbbError("requestTooLarge", f"The body is over {MAX_BODY} bytes.")
    return body


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/x-www-form-urlencoded"


routes = [
    Route("/bigbluebutton/api", version, methods=["GET"]),
    Route("/bigbluebutton/api/{call:path}", call, methods=["GET", "POST"]),
]
