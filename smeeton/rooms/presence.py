"""What participants do for themselves: media state, hands and reactions."""

from __future__ import annotations

from smeeton.rooms import events, rules
from smeeton.rooms.errors import UserError
from smeeton.rooms.participant import Participant
from smeeton.rooms.room import Room

REACTIONS = ("👍", "👏", "😂", "😮", "❤️", "🎉")


def set_media(
    room: Room, participant: Participant, microphone: bool, camera: bool, screen: bool
) -> None:
    """What the participant now sends; turning a device on lifts a mute,
    unless the room's rules lock attendees out of it."""
    for kind, on in (("microphone", microphone), ("camera", camera)):
        if on:
            rules.check_media(room, participant, kind)
    for kind, on in (("microphone", microphone), ("camera", camera)):
        if on and kind in participant.muted:
            participant.muted.discard(kind)
            room.set_paused(participant, kind, False)
    participant.microphone = microphone
    participant.camera = camera
    participant.screen = screen
    room.updated(participant)


def raise_hand(room: Room, participant: Participant, raised: bool) -> None:
    if participant.hand_raised != raised:
        participant.hand_raised = raised
        room.updated(participant)


def react(room: Room, participant: Participant, emoji: str) -> None:
    if emoji not in REACTIONS:
        raise UserError("That reaction is not one of the offered ones.")
    room.reaction_limit.check(participant.id)
    event = events.Reaction(participant.id, emoji)
    for other in room.participants.values():
        other.deliver(event)
