"""The webhook calls of bbb-webhooks: hooks/create, hooks/list and
hooks/destroy. What is sent to the hooks is in `webhooks`."""

from __future__ import annotations

from starlette.responses import Response

from smeeton.http.bbb import webhooks, xml
from smeeton.http.bbb.meetings import Call
from smeeton.http.bbb.xml import BbbError, Field

# LIMITATION: hooks get bbb-webhooks' mapped events only; `getRaw=true` is
# kept and shown but sends the same events.


async def create(call: Call) -> Response:
    p = call.params
    url = p.require(
        "callbackURL",
        "missingParamCallbackURL",
        "You must specify a callbackURL in the parameters.",
    )
    if not webhooks.usable_url(url):
        raise BbbError("createHookError", "The callbackURL must be http or https.")
    hook, new = await call.service.store.create_bbb_hook(
        url, p.get("meetingID") or None, p.flag("getRaw")
    )
    if not new:
        return xml.success(
            ("hookID", hook.id),
            ("messageKey", "duplicateWarning"),
            ("message", "There is already a hook for this callback URL."),
        )
    return xml.success(
        ("hookID", hook.id), ("permanentHook", False), ("rawData", hook.raw_data)
    )


async def list_hooks(call: Call) -> Response:
    meeting_id = call.params.get("meetingID") or None
    listed: list[Field] = []
    for hook in await call.service.store.bbb_hooks():
        if meeting_id is not None and hook.meeting_id not in (None, meeting_id):
            continue
        fields: list[Field] = [("hookID", hook.id), ("callbackURL", hook.callback_url)]
        if hook.meeting_id is not None:
            fields.append(("meetingID", hook.meeting_id))
        fields += [("permanentHook", False), ("rawData", hook.raw_data)]
        listed.append(("hook", fields))
    return xml.success(("hooks", listed))


async def destroy(call: Call) -> Response:
    text = call.params.require(
        "hookID", "missingParamHookID", "You must specify a hookID in the parameters."
    )
    try:
        hook_id = int(text)
    except ValueError:
        hook_id = -1
    if hook_id < 0 or not await call.service.store.delete_bbb_hook(hook_id):
        raise BbbError("destroyMissingHook", "The hook informed was not found.")
    return xml.success(("removed", True))
