"""What moderators may do to others, checked here on the server.

Each function takes the room, the moderator asking and the target, refuses
with PermissionDenied before anything changes, and tells everyone concerned.
"""

from __future__ import annotations

import logging

from smeeton.rooms import events
from smeeton.rooms.errors import PermissionDenied, UserError
from smeeton.rooms.participant import Participant, Role
from smeeton.rooms.room import Room

logger = logging.getLogger(__name__)

MEDIA_KINDS = ("microphone", "camera")


def require_moderator(participant: Participant, action: str) -> None:
    if not participant.is_moderator:
        raise PermissionDenied(f"Only a moderator can {action}.")


def target(room: Room, participant_id: str) -> Participant:
    found = room.participants.get(participant_id)
    if found is None:
        raise UserError("That participant is not in the meeting.", "not_found")
    return found


def turn_off(room: Room, by: Participant, participant_id: str | None, kind: str):
    """Mute a microphone or stop a camera; no id mutes everyone but `by`."""
    assert kind in MEDIA_KINDS
    require_moderator(by, "mute others" if kind == "microphone" else "stop cameras")
    if participant_id is None:
        targets = [p for p in room.participants.values() if p is not by]
    else:
        targets = [target(room, participant_id)]
    for participant in targets:
        participant.muted.add(kind)
        room.set_paused(participant, kind, True)
        participant.deliver(events.Muted(kind, by.name))
        room.updated(participant)
    logger.info(
        "%s turned off the %s of %s in room %s.",
        by.id,
        kind,
        participant_id or "everyone",
        room.slug,
    )


def lower_hand(room: Room, by: Participant, participant_id: str) -> None:
    require_moderator(by, "lower someone else's hand")
    participant = target(room, participant_id)
    if participant.hand_raised:
        participant.hand_raised = False
        room.updated(participant)


def remove(room: Room, by: Participant, participant_id: str) -> None:
    """Send a participant out and keep it out until the meeting ends."""
    require_moderator(by, "remove participants")
    participant = target(room, participant_id)
    if participant is by:
        raise UserError("Leave the meeting instead of removing yourself.")
    room.keep_out(participant)
    participant.deliver(events.Removed(f"{by.name} removed you from the meeting."))
    participant.end_session()
    room.leave(participant)
    logger.info("%s removed %s from room %s.", by.id, participant.id, room.slug)


def promote(room: Room, by: Participant, participant_id: str) -> None:
    require_moderator(by, "make others moderators")
    participant = target(room, participant_id)
    if participant.is_moderator:
        return
    participant.role = Role.MODERATOR
    room.updated(participant)
    room.lobby.tell(participant)
    logger.info("%s made %s a moderator in room %s.", by.id, participant.id, room.slug)


def lock(room: Room, by: Participant, locked: bool) -> None:
    require_moderator(by, "lock the meeting")
    if room.locked == locked:
        return
    room.locked = locked
    for participant in room.participants.values():
        participant.deliver(events.RoomState(locked))
    logger.info("%s %s room %s.", by.id, "locked" if locked else "unlocked", room.slug)


def admit(room: Room, by: Participant, participant_id: str) -> None:
    require_moderator(by, "let people in")
    if room.lobby.admit(participant_id) is None:
        raise UserError("Nobody with that id waits in the lobby.", "not_found")


def deny(room: Room, by: Participant, participant_id: str) -> None:
    require_moderator(by, "turn people away")
    if room.lobby.deny(participant_id) is None:
        raise UserError("Nobody with that id waits in the lobby.", "not_found")


def end_meeting(room: Room, by: Participant) -> None:
    """End the meeting for everyone, the lobby included."""
    require_moderator(by, "end the meeting")
    logger.info("%s ends the meeting in room %s.", by.id, room.slug)
    room.end(f"{by.name} ended the meeting.")
