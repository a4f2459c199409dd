"""The rules a room can hold its meeting to: a size limit, a time limit,
microphones off on arrival, what attendees may not use, a welcome text,
what happens to guests, and whether and how the meeting is recorded.

They come from the stored room's options (the BigBlueButton API sets them
with `create`, a host sets `auto_record`); a room without options has none
of them. Moderators are never locked.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smeeton.rooms.errors import PermissionDenied, UserError

if TYPE_CHECKING:
    from smeeton.rooms.participant import Participant
    from smeeton.rooms.room import Room

# What attendees can be kept from using.
LOCKABLE = ("camera", "microphone", "private_chat", "public_chat")


class GuestPolicy(enum.Enum):
    """What happens to someone who arrives as a guest."""

    ALWAYS_ACCEPT = "ALWAYS_ACCEPT"
    ALWAYS_DENY = "ALWAYS_DENY"
    ASK_MODERATOR = "ASK_MODERATOR"


@dataclass(frozen=True)
class RoomRules:
    """A room's rules; the defaults are no rules at all."""

    mute_on_start: bool = False
    # 0: no limit.
    max_participants: int = 0
    # Minutes from the first arrival until the meeting ends; 0: no limit.
    duration: int = 0
    attendee_locks: frozenset[str] = frozenset()
    welcome: str = ""
    guest_policy: GuestPolicy = GuestPolicy.ALWAYS_ACCEPT
    # Where the browser goes when the person leaves or the meeting ends.
    logout_url: str = ""
    # Recording starts when the first participant arrives.
    auto_record: bool = False
    # False: the meeting is never recorded (BigBlueButton's record=false).
    recordable: bool = True
    # False: moderators may not start or stop the recording themselves
    # (allowStartStopRecording=false); auto_record still records.
    manual_recording: bool = True

    @classmethod
    def of(cls, options: Mapping[str, object] | None) -> RoomRules:
        """From a stored room's options; unknown or bad entries are ignored,
        so an older server reads a newer room."""
        if not options:
            return cls()
        locks = options.get("attendee_locks") or ()
        policy = str(options.get("guest_policy") or "ALWAYS_ACCEPT")
        return cls(
            mute_on_start=bool(options.get("mute_on_start")),
            max_participants=_count(options.get("max_participants")),
            duration=_count(options.get("duration")),
            attendee_locks=frozenset(
                lock
                for lock in locks
                if lock in LOCKABLE  # type: ignore[union-attr]
            ),
            welcome=str(options.get("welcome") or ""),
            guest_policy=GuestPolicy(policy)
            if policy in GuestPolicy.__members__
            else GuestPolicy.ALWAYS_ACCEPT,
            logout_url=web_url(options.get("logout_url")),
            auto_record=bool(options.get("auto_record")),
            # Absent means allowed: rooms stored before these existed record.
            recordable=options.get("recordable") is not False,
            manual_recording=options.get("manual_recording") is not False,
        )

    def options(self) -> dict[str, object]:
        """The rules as stored room options, the inverse of `of`."""
        return {
            "mute_on_start": self.mute_on_start,
            "max_participants": self.max_participants,
            "duration": self.duration,
            "attendee_locks": sorted(self.attendee_locks),
            "welcome": self.welcome,
            "guest_policy": self.guest_policy.value,
            "logout_url": self.logout_url,
            "auto_record": self.auto_record,
            "recordable": self.recordable,
            "manual_recording": self.manual_recording,
        }

    def locked(self, participant: Participant, what: str) -> bool:
        """Whether the participant may not use `what` (one of LOCKABLE)."""
        return not participant.is_moderator and what in self.attendee_locks


def check_room_for(room: Room) -> None:
    """Refuse a newcomer when the meeting is full."""
    limit = room.rules.max_participants
    if limit and len(room.participants) >= limit:
        raise UserError("This meeting is full.", "room_full")


def check_guest(room: Room, guest: bool) -> bool:
    """Whether a guest must wait in the lobby; refuses one that may not come."""
    if not guest:
        return False
    policy = room.rules.guest_policy
    if policy is GuestPolicy.ALWAYS_DENY:
        raise UserError("Guests may not join this meeting.", "guest_denied")
    return policy is GuestPolicy.ASK_MODERATOR


def on_arrival(room: Room, participant: Participant) -> None:
    """Apply the rules to someone entering the meeting: microphones off on
    arrival, and locked devices kept off as a moderator's mute keeps them."""
    rules = room.rules
    if rules.mute_on_start:
        participant.muted.add("microphone")
    for kind in ("microphone", "camera"):
        if rules.locked(participant, kind):
            participant.muted.add(kind)


def check_media(room: Room, participant: Participant, kind: str) -> None:
    """Refuse turning on a device the attendees are locked out of."""
    if room.rules.locked(participant, kind):
        raise PermissionDenied(f"Attendees may not use their {kind} here.")


def check_chat(room: Room, participant: Participant, private: bool) -> None:
    """Refuse a chat message the attendees are locked out of."""
    what = "private_chat" if private else "public_chat"
    if room.rules.locked(participant, what):
        kind = "private" if private else "public"
        raise PermissionDenied(f"Attendees may not send {kind} messages here.")


def check_recording(room: Room, starting: bool) -> None:
    """Refuse a moderator's start or stop the room's rules do not allow."""
    rules = room.rules
    if not rules.recordable:
        raise PermissionDenied("This meeting may not be recorded.")
    if not rules.manual_recording:
        verb = "start" if starting else "stop"
        raise PermissionDenied(
            f"Moderators may not {verb} the recording of this meeting."
        )


def records_on_arrival(room: Room, server_wide: bool) -> bool:
    """Whether the first arrival starts the recording: the room's own
    setting or the server-wide switch, unless the room may not be recorded."""
    rules = room.rules
    return rules.recordable and (rules.auto_record or server_wide)


def welcome_text(room: Room) -> str:
    """The welcome text, with BigBlueButton's %%CONFNAME%% filled in."""
    return room.rules.welcome.replace("%%CONFNAME%%", room.settings.name)


def _count(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def web_url(value: object) -> str:
    """An http or https URL, or "" for anything else: never javascript:."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""
