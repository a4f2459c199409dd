"""One `handle_<message>` per client message of docs/protocol.md.

Each reads as what the message asks of the meeting; checks of role and
state happen in the rooms plane, which raises what the session reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smeeton.rooms import events, moderation, presence, rules, tickets
from smeeton.rooms.room import Entry
from smeeton.signalling import messages
from smeeton.signalling.errors import ProtocolError, UserError

if TYPE_CHECKING:
    from smeeton.signalling.session import Session

_LABELS = ("microphone", "camera", "screen")


async def handle_join(session: Session, message: messages.Join) -> None:
    if session.participant is not None:
        raise ProtocolError("this session has already joined")
    if message.protocol != events.PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol {message.protocol} is not spoken here; "
            f"this server speaks {events.PROTOCOL_VERSION}"
        )
    slug = message.room.strip()
    if not slug or len(slug) > messages.MAX_SLUG_LENGTH:
        raise UserError("There is no meeting room at this address.", "room_not_found")
    ticket = None
    if message.ticket:
        ticket = tickets.verify(session.rooms.ticket_key, message.ticket, slug)
    # A ticket's name is the one its signer gave, whatever the client says.
    name = ticket.name.strip() if ticket else message.name.strip()
    if not name or len(name) > messages.MAX_NAME_LENGTH:
        raise UserError(
            f"A name of 1 to {messages.MAX_NAME_LENGTH} characters is needed."
        )
    room = await session.rooms.open(slug)
    if message.resume:
        participant = room.resume(message.resume, session)
        if participant is not None:
            session.bind(room, participant)
            if session.rooms.broadcasts is not None:
                participant.deliver(session.rooms.broadcasts.state(room))
            return
    entry = Entry(
        name=name,
        access_code=message.access_code,
        moderator_key=message.moderator_key,
        user_id=session.user_id,
        device=session.device,
        role=ticket.participant_role if ticket else None,
        guest=ticket.guest if ticket else False,
        external_id=ticket.user_id if ticket else "",
    )
    # Bound before knocking: the welcome or lobby status is sent from there.
    participant = room.knock(entry, session)
    session.bind(room, participant)


async def handle_publish(session: Session, message: messages.Publish) -> None:
    room, participant = _in_meeting(session)
    labels = {mid: label for mid, label in message.tracks.items() if label in _LABELS}
    room.publish(participant, message.sdp, labels)


async def handle_answer(session: Session, message: messages.Answer) -> None:
    room, participant = _in_meeting(session)
    room.answer(participant, message.sdp)


async def handle_reset_media(session: Session, message: messages.ResetMedia) -> None:
    room, participant = _in_meeting(session)
    room.reset_media(participant)


async def handle_media_state(session: Session, message: messages.MediaState) -> None:
    room, participant = _in_meeting(session)
    presence.set_media(
        room, participant, message.microphone, message.camera, message.screen
    )


async def handle_chat(session: Session, message: messages.Chat) -> None:
    room, participant = _in_meeting(session)
    recipient = None
    if message.to:
        recipient = moderation.target(room, message.to)
    rules.check_chat(room, participant, private=recipient is not None)
    sent = await room.chat.post(participant, message.text, recipient)
    event = events.Chat(sent)
    if recipient is None:
        room.broadcast(event)
    else:
        participant.deliver(event)
        if recipient is not participant:
            recipient.deliver(event)


async def handle_raise_hand(session: Session, message: messages.RaiseHand) -> None:
    room, participant = _in_meeting(session)
    presence.raise_hand(room, participant, message.raised)


async def handle_reaction(session: Session, message: messages.Reaction) -> None:
    room, participant = _in_meeting(session)
    presence.react(room, participant, message.emoji)


async def handle_leave(session: Session, message: messages.Leave) -> None:
    session.leave()


async def handle_mute(session: Session, message: messages.Mute) -> None:
    room, participant = _in_meeting(session)
    moderation.turn_off(room, participant, message.participant_id, "microphone")


async def handle_stop_camera(session: Session, message: messages.StopCamera) -> None:
    room, participant = _in_meeting(session)
    moderation.turn_off(room, participant, message.participant_id, "camera")


async def handle_lower_hand(session: Session, message: messages.LowerHand) -> None:
    room, participant = _in_meeting(session)
    moderation.lower_hand(room, participant, message.participant_id)


async def handle_remove(session: Session, message: messages.Remove) -> None:
    room, participant = _in_meeting(session)
    moderation.remove(room, participant, message.participant_id)


async def handle_promote(session: Session, message: messages.Promote) -> None:
    room, participant = _in_meeting(session)
    moderation.promote(room, participant, message.participant_id)


async def handle_lock(session: Session, message: messages.Lock) -> None:
    room, participant = _in_meeting(session)
    moderation.lock(room, participant, message.locked)


async def handle_admit(session: Session, message: messages.Admit) -> None:
    room, participant = _in_meeting(session)
    moderation.admit(room, participant, message.participant_id)


async def handle_deny(session: Session, message: messages.Deny) -> None:
    room, participant = _in_meeting(session)
    moderation.deny(room, participant, message.participant_id)


async def handle_end_meeting(session: Session, message: messages.EndMeeting) -> None:
    room, participant = _in_meeting(session)
    moderation.end_meeting(room, participant)


async def handle_start_recording(
    session: Session, message: messages.StartRecording
) -> None:
    room, participant = _in_meeting(session)
    _broadcasts(session).start_recording(room, participant)


async def handle_stop_recording(
    session: Session, message: messages.StopRecording
) -> None:
    room, participant = _in_meeting(session)
    _broadcasts(session).stop_recording(room, participant)


async def handle_start_stream(session: Session, message: messages.StartStream) -> None:
    room, participant = _in_meeting(session)
    _broadcasts(session).start_stream(room, participant, message.url, message.key)


async def handle_stop_stream(session: Session, message: messages.StopStream) -> None:
    room, participant = _in_meeting(session)
    _broadcasts(session).stop_stream(room, participant, message.stream_id)


def _broadcasts(session: Session):
    broadcasts = session.rooms.broadcasts
    if broadcasts is None:
        raise UserError("This server does not record or stream meetings.")
    return broadcasts


def _in_meeting(session: Session):
    """The room and participant; someone in the lobby may only wait."""
    room, participant = session.joined()
    if participant.id not in room.participants:
        raise UserError("You are waiting to be let in.", "permission_denied")
    return room, participant


Handler = Callable[["Session", messages.Message], Awaitable[None]]

HANDLERS: dict[type, Handler] = {
    messages.Join: handle_join,  # type: ignore[dict-item]
    messages.Publish: handle_publish,  # type: ignore[dict-item]
    messages.Answer: handle_answer,  # type: ignore[dict-item]
    messages.ResetMedia: handle_reset_media,  # type: ignore[dict-item]
    messages.MediaState: handle_media_state,  # type: ignore[dict-item]
    messages.Chat: handle_chat,  # type: ignore[dict-item]
    messages.RaiseHand: handle_raise_hand,  # type: ignore[dict-item]
    messages.Reaction: handle_reaction,  # type: ignore[dict-item]
    messages.Leave: handle_leave,  # type: ignore[dict-item]
    messages.Mute: handle_mute,  # type: ignore[dict-item]
    messages.StopCamera: handle_stop_camera,  # type: ignore[dict-item]
    messages.LowerHand: handle_lower_hand,  # type: ignore[dict-item]
    messages.Remove: handle_remove,  # type: ignore[dict-item]
    messages.Promote: handle_promote,  # type: ignore[dict-item]
    messages.Lock: handle_lock,  # type: ignore[dict-item]
    messages.Admit: handle_admit,  # type: ignore[dict-item]
    messages.Deny: handle_deny,  # type: ignore[dict-item]
    messages.EndMeeting: handle_end_meeting,  # type: ignore[dict-item]
    messages.StartRecording: handle_start_recording,  # type: ignore[dict-item]
    messages.StopRecording: handle_stop_recording,  # type: ignore[dict-item]
    messages.StartStream: handle_start_stream,  # type: ignore[dict-item]
    messages.StopStream: handle_stop_stream,  # type: ignore[dict-item]
}
