"""The meeting calls: create, join, end, isMeetingRunning, getMeetingInfo,
getMeetings and sendChatMessage, one function each.

A BigBlueButton meeting lives in a Smeeton room made for it by `create`;
`join` signs a ticket for that room's page; what the meeting looks like now
is read off the live room.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from smeeton.http.api import base_url
from smeeton.http.bbb import webhooks, xml
from smeeton.http.bbb.params import Params
from smeeton.http.bbb.service import BbbService
from smeeton.http.bbb.xml import BbbError, Field
from smeeton.rooms import events, tickets
from smeeton.rooms.room import Room
from smeeton.rooms.rules import GuestPolicy, RoomRules, web_url
from smeeton.signalling.messages import MAX_NAME_LENGTH
from smeeton.store import BbbMeeting
from smeeton.store.records import NAME_MAX

# What a meta_* name must look like to be an XML element name.
_META_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOCKS = {
    "lockSettingsDisableCam": "camera",
    "lockSettingsDisableMic": "microphone",
    "lockSettingsDisablePrivateChat": "private_chat",
    "lockSettingsDisablePublicChat": "public_chat",
}
NO_MEETING_ID = "You must specify a meeting ID for the meeting."
NOT_FOUND = (
    "We could not find a meeting with that meeting ID - perhaps the meeting "
    "is not yet running?"
)


@dataclass(frozen=True)
class Call:
    """One checked call: its parameters and what answers it."""

    params: Params
    service: BbbService
    request: Request
    body: bytes = b""


async def create(call: Call) -> Response:
    """Create a meeting, or answer for the one that has that meetingID."""
    p, store = call.params, call.service.store
    meeting_id = p.require("meetingID", "missingParamMeetingID", NO_MEETING_ID)
    existing = await store.bbb_meeting(meeting_id)
    if existing is not None:
        return _again(p, existing, call.service)

    # LIMITATION: pre-uploaded presentations (the XML body of a POST) are
    # accepted and ignored: Smeeton has no presentation yet.
    create_time = int(time.time() * 1000)
    voice_bridge = p.get("voiceBridge")
    if not voice_bridge.isdigit() or len(voice_bridge) > 10:
        voice_bridge = str(70000 + secrets.randbelow(10000))
    rules = _rules(p, voice_bridge).options()
    name = _clean(p.get("name", meeting_id), NAME_MAX)
    internal_id = _internal_id(meeting_id, create_time)
    meta = metadata(p)
    # The room's recordings keep what getRecordings shows after the meeting
    # and its room are gone.
    labels = {
        "meetingID": meeting_id,
        "internalMeetingID": internal_id,
        "name": name,
        "meta": meta,
    }
    created = await store.create_bbb_meeting(
        meeting_id=meeting_id,
        name=name,
        internal_id=internal_id,
        attendee_pw=p.get("attendeePW") or secrets.token_urlsafe(9),
        moderator_pw=p.get("moderatorPW") or secrets.token_urlsafe(9),
        create_time=create_time,
        voice_bridge=voice_bridge,
        options=rules | {"recording_labels": labels},
        settings=_settings(p) | {"rules": rules},
        meta=meta,
    )
    if created is None:
        # Another create of the same meetingID won the race.
        existing = await store.bbb_meeting(meeting_id)
        if existing is None:
            raise BbbError("createError", "The meeting could not be created.")
        return _again(p, existing, call.service)
    await call.service.tell_hooks(created, _created_event(created))
    return xml.success(*_created(created, call.service, "", ""))


async def join(call: Call) -> Response:
    """Send a person into the meeting's room with a signed ticket."""
    p, service = call.params, call.service
    meeting_id = p.require("meetingID", "missingParamMeetingID", NO_MEETING_ID)
    full_name = p.require(
        "fullName",
        "missingParamFullName",
        "You must specify a name for the attendee who will be joining the meeting.",
    )
    meeting = await service.store.bbb_meeting(meeting_id)
    if meeting is None:
        raise BbbError(
            "invalidMeetingIdentifier",
            "The meeting ID that you supplied did not match any existing meetings",
        )
    create_time = p.get("createTime")
    if create_time and create_time.strip() != str(meeting.create_time):
        raise BbbError(
            "mismatchCreateTime",
            "The createTime parameter submitted mismatches with the current meeting.",
        )
    moderator = _is_moderator(p, meeting)
    rules = RoomRules.of(_options(meeting))
    room = service.live_room(meeting)
    limit = rules.max_participants
    if limit and room is not None and len(room.participants) >= limit:
        raise BbbError(
            "maxParticipantsReached",
            "The number of participants allowed for this meeting has been reached.",
        )

    guest = p.flag("guest")
    user_id = p.get("userID") or "w_" + secrets.token_hex(6)
    ticket = tickets.sign(
        service.ticket_key,
        tickets.Ticket(
            room=meeting.room_slug,
            name=_clean(full_name, MAX_NAME_LENGTH),
            role="moderator" if moderator else "attendee",
            guest=guest,
            user_id=user_id[:256],
            create_time=meeting.create_time,
        ),
    )
    url = f"{base_url(call.request)}/r/{meeting.room_slug}#ticket={ticket}"
    if p.get("redirect", "true").strip().lower() != "false":
        return RedirectResponse(url, status_code=302)
    return xml.success(
        ("messageKey", "successfullyJoined"),
        ("message", "You have joined successfully."),
        ("meeting_id", meeting.internal_id),
        ("user_id", user_id),
        ("auth_token", hashlib.sha256(ticket.encode()).hexdigest()[:12]),
        ("session_token", ticket),
        ("guestStatus", _guest_status(rules, guest and not moderator)),
        ("url", url),
    )


async def end(call: Call) -> Response:
    """End the meeting for everyone and forget it."""
    p, service = call.params, call.service
    meeting_id = p.require("meetingID", "missingParamMeetingID", NO_MEETING_ID)
    meeting = await service.store.bbb_meeting(meeting_id)
    if meeting is None:
        raise BbbError("notFound", NOT_FOUND)
    # BigBlueButton 2.x wanted the moderator password; newer ones need only
    # the checksum. A password given must still be the right one.
    password = p.get("password")
    if password and not _same(password, meeting.moderator_pw):
        raise BbbError(
            "invalidPassword",
            "You must supply the moderator password for this call.",
        )
    await service.finish(meeting_id)
    return xml.success(
        ("messageKey", "sentEndMeetingRequest"),
        (
            "message",
            "A request to end the meeting was sent.  Please wait a few seconds, "
            "and then use the getMeetingInfo or isMeetingRunning API calls to "
            "verify that it was ended.",
        ),
    )


async def is_meeting_running(call: Call) -> Response:
    p, service = call.params, call.service
    meeting_id = p.require("meetingID", "missingParamMeetingID", NO_MEETING_ID)
    meeting = await service.store.bbb_meeting(meeting_id)
    room = None if meeting is None else service.live_room(meeting)
    return xml.success(("running", bool(room and room.participants)))


async def get_meeting_info(call: Call) -> Response:
    p, service = call.params, call.service
    meeting_id = p.require("meetingID", "missingParamMeetingID", NO_MEETING_ID)
    meeting = await service.store.bbb_meeting(meeting_id)
    if meeting is None:
        raise BbbError("notFound", NOT_FOUND)
    return xml.success(*meeting_fields(service, meeting))


async def get_meetings(call: Call) -> Response:
    service = call.service
    meetings = await service.store.bbb_meetings()
    if not meetings:
        return xml.success(
            ("meetings", []),
            ("messageKey", "noMeetings"),
            ("message", "no meetings were found on this server"),
        )
    listed: list[Field] = [("meeting", meeting_fields(service, m)) for m in meetings]
    return xml.success(("meetings", listed))


async def send_chat_message(call: Call) -> Response:
    """A public chat message from `userName`, kept like any other."""
    p, service = call.params, call.service
    meeting_id = p.require("meetingID", "missingParamMeetingID", NO_MEETING_ID)
    text = p.require(
        "message", "missingParamMessage", "You must specify a message to send."
    )
    name = _clean(p.get("userName", "System"), MAX_NAME_LENGTH)
    meeting = await service.store.bbb_meeting(meeting_id)
    if meeting is None:
        raise BbbError("notFound", NOT_FOUND)
    room = service.live_room(meeting)
    if room is None:
        # Nobody is in: it waits in the history for those who come.
        await service.store.add_chat_message(
            meeting.room_id, "", name, text, time.time()
        )
    else:
        try:
            message = await room.chat.post_as(name, text)
        except ValueError as exc:
            raise BbbError("invalidParams", str(exc)) from None
        room.broadcast(events.Chat(message))
    return xml.success()


def meeting_fields(service: BbbService, meeting: BbbMeeting) -> list[Field]:
    """A meeting as getMeetingInfo and getMeetings show it, read live."""
    room = service.live_room(meeting)
    people = list(room.participants.values()) if room is not None else []
    infos = [p.info for p in people]
    rules = RoomRules.of(_options(meeting))
    attendees: list[Field] = [
        (
            "attendee",
            [
                ("userID", person.external_id),
                ("fullName", person.name),
                ("role", "MODERATOR" if person.is_moderator else "VIEWER"),
                ("isPresenter", False),
                ("isListeningOnly", False),
                ("hasJoinedVoice", info.microphone),
                ("hasVideo", info.camera),
                ("clientType", "HTML5"),
                ("customdata", []),
            ],
        )
        for person, info in zip(people, infos, strict=True)
    ]
    return [
        ("meetingName", meeting.name),
        ("meetingID", meeting.meeting_id),
        ("internalMeetingID", meeting.internal_id),
        ("createTime", meeting.create_time),
        ("createDate", _date(meeting.create_time)),
        ("voiceBridge", meeting.voice_bridge),
        ("dialNumber", str(meeting.settings.get("dial_number") or "")),
        ("attendeePW", meeting.attendee_pw),
        ("moderatorPW", meeting.moderator_pw),
        ("running", bool(people)),
        ("duration", rules.duration),
        ("hasUserJoined", meeting.meeting_id in service.joined),
        ("recording", _recording(service, room)),
        ("hasBeenForciblyEnded", False),
        ("startTime", meeting.create_time),
        ("endTime", 0),
        ("participantCount", len(people)),
        ("listenerCount", 0),
        ("voiceParticipantCount", sum(info.microphone for info in infos)),
        ("videoCount", sum(info.camera for info in infos)),
        ("maxUsers", rules.max_participants),
        ("moderatorCount", sum(person.is_moderator for person in people)),
        ("attendees", attendees),
        ("metadata", list(meeting.meta.items())),
        ("isBreakout", False),
    ]


# Steps.


def _recording(service: BbbService, room: Room | None) -> bool:
    broadcasts = service.rooms.broadcasts
    return bool(room and broadcasts and broadcasts.state(room).recording)


def _again(p: Params, existing: BbbMeeting, service: BbbService) -> Response:
    # A create for a meeting that exists is fine when it names the same
    # passwords (or none): integrations call create before every join.
    for name, kept in (
        ("attendeePW", existing.attendee_pw),
        ("moderatorPW", existing.moderator_pw),
    ):
        given = p.get(name)
        if given and not _same(given, kept):
            raise BbbError(
                "idNotUnique",
                "A meeting already exists with that meeting ID.  Please use a "
                "different meeting ID.",
            )
    return xml.success(
        *_created(
            existing,
            service,
            "duplicateWarning",
            "This conference was already in existence and may currently be in "
            "progress.",
        )
    )


def _created(
    meeting: BbbMeeting, service: BbbService, key: str, message: str
) -> list[Field]:
    return [
        ("meetingID", meeting.meeting_id),
        ("internalMeetingID", meeting.internal_id),
        ("parentMeetingID", "bbb-none"),
        ("attendeePW", meeting.attendee_pw),
        ("moderatorPW", meeting.moderator_pw),
        ("createTime", meeting.create_time),
        ("voiceBridge", meeting.voice_bridge),
        ("dialNumber", str(meeting.settings.get("dial_number") or "")),
        ("createDate", _date(meeting.create_time)),
        ("hasUserJoined", meeting.meeting_id in service.joined),
        ("duration", RoomRules.of(_options(meeting)).duration),
        ("hasBeenForciblyEnded", False),
        ("messageKey", key),
        ("message", message),
    ]


def _created_event(meeting: BbbMeeting) -> dict:
    return webhooks.event(
        "meeting-created",
        meeting,
        meeting={
            "name": meeting.name,
            "is-breakout": False,
            "parent-id": "bbb-none",
            "duration": RoomRules.of(_options(meeting)).duration,
            "create-time": meeting.create_time,
            "create-date": _date(meeting.create_time),
            "moderator-pass": meeting.moderator_pw,
            "viewer-pass": meeting.attendee_pw,
            "record": False,
            "voice-conf": meeting.voice_bridge,
            "dial-number": str(meeting.settings.get("dial_number") or ""),
            "max-users": RoomRules.of(_options(meeting)).max_participants,
            "metadata": dict(meeting.meta),
        },
    )


def _rules(p: Params, voice_bridge: str) -> RoomRules:
    locks = frozenset()
    if p.flag("lockSettingsLockOnJoin", True):
        locks = frozenset(kind for name, kind in _LOCKS.items() if p.flag(name))
    policy = p.get("guestPolicy", "ALWAYS_ACCEPT").strip().upper()
    welcome = p.get("welcome")
    welcome = welcome.replace("%%CONFNUM%%", voice_bridge).replace(
        "%%DIALNUM%%", p.get("dialNumber")
    )
    return RoomRules(
        mute_on_start=p.flag("muteOnStart"),
        max_participants=max(0, p.number("maxParticipants")),
        duration=max(0, p.number("duration")),
        attendee_locks=locks,
        welcome=welcome,
        guest_policy=GuestPolicy(policy)
        if policy in GuestPolicy.__members__
        else GuestPolicy.ALWAYS_ACCEPT,
        logout_url=web_url(p.get("logoutURL")),
        # BigBlueButton refuses to record without `record=true`; here only
        # `record=false` refuses, so that a moderator can still record a
        # meeting whose integration never says (docs/bbb-api.md).
        recordable=p.flag("record", True),
        auto_record=p.flag("autoStartRecording"),
        manual_recording=p.flag("allowStartStopRecording", True),
    )


def _settings(p: Params) -> dict[str, object]:
    """What later calls need of create's parameters."""
    end_callback = ""
    for name, value in p.prefixed("meta_").items():
        if name.lower() == "endcallbackurl":
            end_callback = value
    settings: dict[str, object] = {
        "logout_url": p.get("logoutURL"),
        "dial_number": p.get("dialNumber"),
        "end_callback_url": end_callback,
        "meeting_ended_url": p.get("meetingEndedURL"),
    }
    for name in ("logout_url", "end_callback_url", "meeting_ended_url"):
        url = str(settings[name])
        if url and not webhooks.usable_url(url):
            raise BbbError("invalidParams", f"{name} must be an http or https URL.")
    return settings


def metadata(p: Params) -> dict[str, str]:
    """The meta_* parameters, names checked and in lower case."""
    meta = {}
    for name, value in p.prefixed("meta_").items():
        if not _META_NAME.fullmatch(name):
            raise BbbError(
                "invalidParams", f"meta_{name[:64]} is not a usable metadata name."
            )
        # BigBlueButton keeps metadata names in lower case.
        meta[name.lower()] = value
    return meta


def _options(meeting: BbbMeeting) -> dict[str, object]:
    # The room's rules, kept with the meeting's settings too.
    return dict(meeting.settings.get("rules") or {})  # type: ignore[call-overload]


def _is_moderator(p: Params, meeting: BbbMeeting) -> bool:
    # BigBlueButton 2.6 and later take a role instead of a password.
    role = p.get("role").strip().upper()
    if role in ("MODERATOR", "VIEWER"):
        return role == "MODERATOR"
    password = p.get("password")
    if password and _same(password, meeting.moderator_pw):
        return True
    if password and _same(password, meeting.attendee_pw):
        return False
    raise BbbError(
        "invalidPassword",
        "You either did not supply a password or the password supplied is "
        "neither the attendee or moderator password for this conference.",
    )


def _guest_status(rules: RoomRules, guest: bool) -> str:
    if not guest or rules.guest_policy is GuestPolicy.ALWAYS_ACCEPT:
        return "ALLOW"
    return "DENY" if rules.guest_policy is GuestPolicy.ALWAYS_DENY else "WAIT"


def _same(given: str, kept: str) -> bool:
    return hmac.compare_digest(given.encode(), kept.encode())


def _clean(text: str, limit: int) -> str:
    """A name for the meeting: no control characters, within our limit."""
    return _CONTROL.sub(" ", text).strip()[:limit].strip() or "Meeting"


def _internal_id(meeting_id: str, create_time: int) -> str:
    digest = hashlib.sha1(meeting_id.encode()).hexdigest()
    return f"{digest}-{create_time}"


def _date(millis: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(millis / 1000))
