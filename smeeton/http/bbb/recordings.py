"""The recording calls: getRecordings, publishRecordings, deleteRecordings
and updateRecordings.

LIMITATION: meetings are not recorded through this API yet, so there are
never any recordings to list; the calls answer as BigBlueButton does when
it has none, or does not know the recordID given.
"""

from __future__ import annotations

from starlette.responses import Response

from smeeton.http.bbb import xml
from smeeton.http.bbb.meetings import Call
from smeeton.http.bbb.xml import BbbError

NO_RECORD_ID = "You must specify one or more a record IDs."
NOT_FOUND = "We could not find recordings"


async def get_recordings(call: Call) -> Response:
    return xml.success(
        ("recordings", []),
        ("messageKey", "noRecordings"),
        ("message", "There are no recordings for the meeting(s)."),
    )


async def publish_recordings(call: Call) -> Response:
    p = call.params
    p.require("recordID", "missingParamRecordID", NO_RECORD_ID)
    p.require("publish", "missingParamPublish", "You must specify a publish value.")
    raise BbbError("notFound", NOT_FOUND)


async def delete_recordings(call: Call) -> Response:
    call.params.require("recordID", "missingParamRecordID", NO_RECORD_ID)
    raise BbbError("notFound", NOT_FOUND)


async def update_recordings(call: Call) -> Response:
    call.params.require("recordID", "missingParamRecordID", NO_RECORD_ID)
    raise BbbError("notFound", NOT_FOUND)
