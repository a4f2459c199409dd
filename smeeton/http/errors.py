"""JSON errors of the REST API, and reading a JSON request body safely.

Every refusal reaches the client as `{"error": code, "message": text}` with
an HTTP status that says who is at fault; handlers raise `ApiError` and the
`endpoint` wrapper turns it into that response in one place.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# A room edit is a few hundred bytes; anything much larger is not one.
MAX_BODY = 16 * 1024


class ApiError(Exception):
    """A request the API refuses, with the status and code the client sees."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.code, "message": self.message}, status_code=self.status
        )


def bad_request(message: str) -> ApiError:
    """A parameter that is missing, of the wrong type or out of range."""
    return ApiError(400, "bad_request", message)


Handler = Callable[[Request], Awaitable[Response]]


def endpoint(handler: Handler) -> Handler:
    """Wrap a route handler so that an `ApiError` becomes its JSON answer."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()

    return run


async def read_object(request: Request) -> dict[str, object]:
    """The request body as a JSON object, or an ApiError saying why not.

    Requiring `application/json` also keeps other sites' plain HTML forms
    from posting here with the host's cookie: browsers send that content
    type across origins only after a CORS preflight, which we never answer.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type.lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body is over {MAX_BODY} bytes")
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise bad_request("the body must be a JSON object")
    return value


def check_fields(body: dict[str, object], allowed: set[str]) -> None:
    """Refuse fields the endpoint does not know, so a typo is not ignored."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request("unknown field " + ", ".join(map(repr, unknown)))
