"""The meeting's rules, enforced by the server: who gets in and who may do what."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.server import RunningServer
from tests.signalling import Client, create_room


@pytest.fixture
def server(tmp_path):
    """A server that opens only rooms created by a host."""
    running = RunningServer(tmp_path / "data", temporary_rooms=False).start()
    yield running
    running.stop()
    assert "Traceback" not in running.log(), running.log()


@pytest.fixture
async def clients(server):
    made: list[Client] = []

    async def make(**headers) -> Client:
        client = await Client(server, headers).connect()
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def test_join_of_an_unknown_room_is_refused_with_room_not_found(clients):
    client = await clients()
    reply = await client.join("no-such-room", "Ana")
    assert reply["type"] == "error" and reply["code"] == "room_not_found"


async def test_access_code_is_required_checked_and_then_admits(server, clients):
    slug, key = create_room(server, "Budget", "--access-code", "7351")
    client = await clients()

    missing = await client.join(slug, "Ana")
    assert missing["code"] == "access_code_required"
    wrong = await client.join(slug, "Ana", access_code="1111")
    assert wrong["code"] == "wrong_access_code"
    assert "not right" in wrong["message"]
    right = await client.join(slug, "Ana", access_code="7351")
    assert right["type"] == "welcome" and right["role"] == "attendee"

    # A moderator needs no code.
    host = await clients()
    reply = await host.join(slug, "Host", moderator_key=key)
    assert reply["type"] == "welcome" and reply["role"] == "moderator"


async def test_lobby_newcomer_sees_nothing_until_admitted_and_denied_never_enters(
    server, clients
):
    slug, key = create_room(server, "Townhall", "--lobby")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    await host.send({"type": "chat", "text": "only for those inside"})
    await host.next("chat")

    guest = await clients()
    waiting = await guest.join(slug, "Guest")
    assert waiting == {"type": "lobby_waiting", "room_name": "Townhall"}
    lobby = await host.next("lobby")
    while not lobby["waiting"]:
        lobby = await host.next("lobby")
    assert [w["name"] for w in lobby["waiting"]] == ["Guest"]

    # While waiting, nothing of the meeting reaches the guest, and it may
    # do nothing but wait.
    await guest.send({"type": "chat", "text": "let me in"})
    refused = await guest.next("error")
    assert refused["code"] == "permission_denied"
    await asyncio.sleep(0.3)
    kinds = {m["type"] for m in guest.messages}
    assert kinds <= {"lobby_waiting", "error"}

    await host.send({"type": "admit", "participant_id": lobby["waiting"][0]["id"]})
    welcome = await guest.next("welcome")
    assert [m["text"] for m in welcome["chat"]] == ["only for those inside"]
    assert [p["name"] for p in welcome["participants"]] == ["Host"]
    joined = await host.next("participant_joined")
    assert joined["participant"]["name"] == "Guest"

    other = await clients()
    await other.join(slug, "Intruder")
    lobby = await host.next("lobby")
    while not lobby["waiting"]:
        lobby = await host.next("lobby")
    await host.send({"type": "deny", "participant_id": lobby["waiting"][0]["id"]})
    denied = await other.next("denied")
    assert "did not let you" in denied["message"]
    await other.wait_closed()
    assert not other.of_type("welcome")


async def test_attendee_moderation_requests_are_refused_by_the_server(server, clients):
    slug, key = create_room(server, "Council")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    attendee = await clients()
    await attendee.join(slug, "Attendee")

    requests = [
        {"type": "mute", "participant_id": host.participant_id},
        {"type": "mute"},
        {"type": "stop_camera", "participant_id": host.participant_id},
        {"type": "remove", "participant_id": host.participant_id},
        {"type": "promote", "participant_id": attendee.participant_id},
        {"type": "lock", "locked": True},
        {"type": "lower_hand", "participant_id": host.participant_id},
        {"type": "admit", "participant_id": "p000000000000"},
        {"type": "end_meeting"},
    ]
    for request in requests:
        await attendee.send(request)
        refused = await attendee.next("error")
        assert refused["code"] == "permission_denied", request
        assert "Only a moderator" in refused["message"]

    # Nothing changed: both still there, nobody muted, the room open.
    await asyncio.sleep(0.3)
    assert not host.of_type("muted") and not host.of_type("removed")
    assert not attendee.of_type("room_state")
    late = await clients()
    assert (await late.join(slug, "Late"))["type"] == "welcome"
    assert server.metrics()[
        'smeeton_signalling_errors_total{reason="permission_denied"}'
    ] == len(requests)


async def test_raised_hand_reaches_the_moderator_who_can_lower_it(server, clients):
    slug, key = create_room(server, "Hands")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    attendee = await clients()
    await attendee.join(slug, "Attendee")

    await attendee.send({"type": "raise_hand", "raised": True})
    update = await host.next("participant_updated")
    assert update["participant"]["id"] == attendee.participant_id
    assert update["participant"]["hand_raised"] is True

    await host.send({"type": "lower_hand", "participant_id": attendee.participant_id})
    mine = await attendee.next("participant_updated")
    while mine["participant"]["hand_raised"]:
        mine = await attendee.next("participant_updated")
    assert mine["participant"]["id"] == attendee.participant_id


async def test_locked_meeting_refuses_newcomers_but_not_moderators(server, clients):
    slug, key = create_room(server, "Closed doors")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    await host.send({"type": "lock", "locked": True})
    assert (await host.next("room_state"))["locked"] is True

    newcomer = await clients()
    refused = await newcomer.join(slug, "Newcomer")
    assert refused["code"] == "room_locked"
    second_host = await clients()
    assert (await second_host.join(slug, "Co-host", moderator_key=key))[
        "role"
    ] == "moderator"


async def test_removed_participant_is_sent_out_and_kept_out(server, clients):
    slug, key = create_room(server, "Order")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    # The troll's browser opened the invite link, which marks the browser.
    cookie = browser_cookie(server, slug)
    troll = await clients(Cookie=cookie)
    await troll.join(slug, "Troll")

    await host.send({"type": "remove", "participant_id": troll.participant_id})
    removed = await troll.next("removed")
    assert "Host removed you" in removed["message"]
    await troll.wait_closed()
    left = await host.next("participant_left")
    assert left["participant_id"] == troll.participant_id

    # The same browser is refused, under another name too.
    again = await clients(Cookie=cookie)
    reply = await again.join(slug, "Not a troll")
    assert reply["type"] == "error" and reply["code"] == "removed"
    # The resume token no longer brings the old participant back.
    elsewhere = await clients()
    reply = await elsewhere.join(slug, "Troll", resume=troll.resume_token)
    assert reply["participant_id"] != troll.participant_id


def browser_cookie(server: RunningServer, slug: str) -> str:
    """The session cookie a browser gets when it opens the invite link."""
    with httpx.Client() as http:
        response = http.get(f"{server.url}/r/{slug}")
        assert response.status_code == 200
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def test_public_chat_reaches_all_and_private_chat_only_its_recipient(
    server, clients
):
    slug, key = create_room(server, "Chatter")
    people = [await clients() for _ in range(3)]
    for index, person in enumerate(people):
        await person.join(slug, f"Person {index}")

    await people[0].send({"type": "chat", "text": "  Hello all  "})
    for person in people:
        message = (await person.next("chat"))["message"]
        assert message["text"] == "Hello all" and message["to"] == ""
        assert message["from_name"] == "Person 0"

    await people[1].send(
        {"type": "chat", "text": "psst", "to": people[2].participant_id}
    )
    for person in (people[1], people[2]):
        message = (await person.next("chat"))["message"]
        assert message["text"] == "psst"
        assert message["to"] == people[2].participant_id
    await asyncio.sleep(0.3)
    assert [m["message"]["text"] for m in people[0].of_type("chat")] == ["Hello all"]

    await people[0].send({"type": "chat", "text": "   "})
    assert (await people[0].next("error"))["code"] == "bad_request"


async def test_chat_history_is_kept_across_a_restart(server, clients):
    slug, key = create_room(server, "Minutes")
    writer = await clients()
    await writer.join(slug, "Clerk")
    for text in ("first item", "second item"):
        await writer.send({"type": "chat", "text": text})
        await writer.next("chat")
    await writer.close()

    await asyncio.to_thread(server.restart)
    reader = await clients()
    welcome = await reader.join(slug, "Reader")
    assert [m["text"] for m in welcome["chat"]] == ["first item", "second item"]
    assert welcome["chat"][0]["from_name"] == "Clerk"


async def test_dropped_session_comes_back_with_the_same_identity(server, clients):
    slug, key = create_room(server, "Flaky network")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    flaky = await clients()
    await flaky.join(slug, "Flaky")

    await flaky.drop()
    away = await host.next("participant_updated")
    assert away["participant"]["id"] == flaky.participant_id
    assert away["participant"]["away"] is True

    back = await clients()
    reply = await back.join(slug, "Flaky", resume=flaky.resume_token)
    assert reply["type"] == "welcome" and reply["resumed"] is True
    assert reply["participant_id"] == flaky.participant_id
    assert reply["role"] == "attendee"
    present = await host.next("participant_updated")
    assert present["participant"]["id"] == flaky.participant_id
    assert present["participant"]["away"] is False
    assert not host.of_type("participant_left")


async def test_end_meeting_sends_everyone_out(server, clients):
    slug, key = create_room(server, "Finale")
    host = await clients()
    await host.join(slug, "Host", moderator_key=key)
    others = [await clients() for _ in range(2)]
    for index, other in enumerate(others):
        await other.join(slug, f"Guest {index}")

    await host.send({"type": "end_meeting"})
    for client in (host, *others):
        ended = await client.next("meeting_ended")
        assert "Host ended the meeting" in ended["message"]
        await client.wait_closed()
    assert server.metrics()["smeeton_participants"] == 0


async def test_signed_in_owner_moderates_own_room_without_the_moderator_link(
    server, clients
):
    server.run_cli("users", "create", "maya", "--password", "pw-maya")
    slug, _ = create_room(server, "Maya's room", "--owner", "maya", "--lobby")
    with httpx.Client(base_url=server.url) as http:
        signed_in = http.post(
            "/api/v1/session", json={"name": "maya", "password": "pw-maya"}
        )
        assert signed_in.status_code == 200
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())

    owner = await clients(Cookie=cookie)
    reply = await owner.join(slug, "Maya")
    assert reply["type"] == "welcome" and reply["role"] == "moderator"

    # Someone else's signed-in session is no owner of this room.
    server.run_cli("users", "create", "other", "--password", "pw-other")
    with httpx.Client(base_url=server.url) as http:
        http.post("/api/v1/session", json={"name": "other", "password": "pw-other"})
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    stranger = await clients(Cookie=cookie)
    assert (await stranger.join(slug, "Other"))["type"] == "lobby_waiting"


def test_invite_tells_the_room_name_and_whether_a_code_is_needed_not_the_code(
    server,
):
    slug, key = create_room(server, "Rapat Dinas", "--access-code", "4242")
    with httpx.Client(base_url=server.url) as http:
        invite = http.get(f"/api/v1/invites/{slug}")
        missing = http.get("/api/v1/invites/nothing-here")
    assert invite.json() == {"name": "Rapat Dinas", "access_code": True, "lobby": False}
    assert "4242" not in invite.text and key not in invite.text
    assert missing.status_code == 404


async def test_websocket_from_another_sites_page_is_refused(server, clients):
    slug, _ = create_room(server, "Guarded")
    ours = await clients(Origin=server.url)
    assert (await ours.join(slug, "Ana"))["type"] == "welcome"

    foreign = Client(server, {"Origin": "https://evil.example"})
    with pytest.raises(websockets.InvalidStatus) as refused:
        await foreign.connect()
    assert refused.value.response.status_code == 403
    assert (
        server.metrics()['smeeton_signalling_errors_total{reason="foreign_origin"}']
        == 1
    )
