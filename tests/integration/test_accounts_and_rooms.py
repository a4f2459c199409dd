"""Host accounts and persistent rooms through the command line, the REST API
and a restart of the real server."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3

import httpx
import pytest

from smeeton.config import Config
from smeeton.store import Store
from tests.server import RunningServer


@pytest.fixture
def server(tmp_path):
    """A server where only rooms hosts created exist, as in production."""
    running = RunningServer(tmp_path / "data", temporary_rooms=False).start()
    yield running
    running.stop()
    assert "Traceback" not in running.log(), running.log()


def sign_in(server, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=10)
    answer = client.post("/api/v1/session", json={"name": name, "password": password})
    assert answer.status_code == 200, answer.text
    return client


def test_cli_creates_user_and_room_and_prints_both_links(server):
    created = server.run_cli("users", "create", "alice", "--password", "s3cret")
    printed = server.run_cli(
        "rooms", "create", "Weekly call", "--access-code", "1234", "--lobby",
        "--auto-record", "--owner", "alice",
    )  # fmt: skip

    invite = re.search(r"Invite link:\s+(\S+)", printed)
    moderator = re.search(r"Moderator link:\s+(\S+)", printed)
    assert "alice" in created
    assert invite and moderator
    slug = invite[1].rsplit("/", 1)[1]
    assert invite[1] == f"{server.url}/r/{slug}"
    assert moderator[1].startswith(f"{server.url}/r/{slug}?moderator=")
    client = sign_in(server, "alice", "s3cret")
    (room,) = client.get("/api/v1/rooms").json()["rooms"]
    client.close()
    assert (room["name"], room["access_code"], room["lobby"]) == (
        "Weekly call",
        "1234",
        True,
    )
    assert room["auto_record"] is True
    assert "recorded from the first participant on" in printed
    assert room["moderator_url"] == moderator[1]
    assert slug in server.run_cli("rooms", "list")
    assert "alice" in server.run_cli("users", "list")


def test_cli_reads_password_from_stdin_and_refuses_bad_input(server):
    server.run_cli("users", "create", "budi", input="rahasia\n")
    duplicate = server.cli("users", "create", "budi", "--password", "x")
    no_owner = server.cli("rooms", "create", "Room", "--owner", "nobody")
    no_room = server.cli("rooms", "delete", "nosuchroom")
    no_name = server.cli("rooms", "create", "")

    sign_in(server, "budi", "rahasia").close()
    for done, words in [
        (duplicate, "exists"),
        (no_owner, "nobody"),
        (no_room, "nosuchroom"),
        (no_name, "room name"),
    ]:
        assert done.returncode == 2
        assert words in done.stderr


def test_session_signs_in_says_who_and_signs_out(server):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    client = httpx.Client(base_url=server.url, timeout=10)

    before = client.get("/api/v1/session").json()
    wrong = client.post("/api/v1/session", json={"name": "alice", "password": "x"})
    right = client.post("/api/v1/session", json={"name": "alice", "password": "s3cret"})
    during = client.get("/api/v1/session").json()
    client.delete("/api/v1/session")
    after = client.get("/api/v1/session").json()
    client.close()

    assert before == {"signed_in": False, "user": None}
    assert wrong.status_code == 401 and wrong.json()["error"] == "bad_credentials"
    assert right.status_code == 200
    assert during["signed_in"] and during["user"]["name"] == "alice"
    assert after["signed_in"] is False


def test_api_creates_lists_edits_and_deletes_own_rooms(server):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    client = sign_in(server, "alice", "s3cret")

    created = client.post(
        "/api/v1/rooms", json={"name": "Planning", "access_code": "42"}
    )
    room = created.json()
    listed = client.get("/api/v1/rooms").json()["rooms"]
    edited = client.patch(
        f"/api/v1/rooms/{room['slug']}", json={"access_code": None, "lobby": True}
    ).json()
    fetched = client.get(f"/api/v1/rooms/{room['slug']}").json()
    deleted = client.delete(f"/api/v1/rooms/{room['slug']}")
    gone = client.get(f"/api/v1/rooms/{room['slug']}")
    client.close()

    assert created.status_code == 201
    assert room["invite_url"] == f"{server.url}/r/{room['slug']}"
    assert room["moderator_url"].startswith(room["invite_url"] + "?moderator=")
    assert set(room) == {
        "name", "slug", "access_code", "lobby", "auto_record", "invite_url",
        "moderator_url", "created_at",
    }  # fmt: skip
    assert room["auto_record"] is False
    assert listed == [room]
    assert (edited["name"], edited["access_code"], edited["lobby"]) == (
        "Planning",
        None,
        True,
    )
    assert fetched == edited
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_api_round_trips_auto_record_and_patch_keeps_other_options(server):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    client = sign_in(server, "alice", "s3cret")
    created = client.post(
        "/api/v1/rooms", json={"name": "Lecture", "auto_record": True}
    )
    slug = created.json()["slug"]
    # Options another part of Smeeton wrote (the BigBlueButton API's rules).
    with sqlite3.connect(server.data_dir / "smeeton.db") as db:
        db.execute(
            "update rooms set options = ? where slug = ?",
            (json.dumps({"auto_record": True, "welcome": "Hi", "duration": 30}), slug),
        )

    off = client.patch(f"/api/v1/rooms/{slug}", json={"auto_record": False})
    renamed = client.patch(f"/api/v1/rooms/{slug}", json={"name": "Lecture 2"})
    listed = client.get("/api/v1/rooms").json()["rooms"]
    on = client.patch(f"/api/v1/rooms/{slug}", json={"auto_record": True})
    fetched = client.get(f"/api/v1/rooms/{slug}").json()
    client.close()
    kept = asyncio.run(room_options(server, slug))

    assert created.status_code == 201 and created.json()["auto_record"] is True
    assert off.status_code == 200 and off.json()["auto_record"] is False
    assert renamed.json()["auto_record"] is False
    assert listed == [renamed.json()]
    assert on.json()["auto_record"] is True and fetched == on.json()
    assert kept == {"auto_record": True, "welcome": "Hi", "duration": 30}


async def room_options(server, slug: str) -> dict:
    store = await Store.open(Config(data_dir=str(server.data_dir)))
    try:
        room = await store.room_by_slug(slug)
        assert room is not None
        return dict(room.options)
    finally:
        await store.close()


def test_api_refuses_strangers_other_owners_and_bad_parameters(server):
    server.run_cli("users", "create", "alice", "--password", "a")
    server.run_cli("users", "create", "bob", "--password", "b")
    alice = sign_in(server, "alice", "a")
    bob = sign_in(server, "bob", "b")
    stranger = httpx.Client(base_url=server.url, timeout=10)
    slug = alice.post("/api/v1/rooms", json={"name": "Alice's"}).json()["slug"]

    assert stranger.get("/api/v1/rooms").status_code == 401
    assert stranger.post("/api/v1/rooms", json={"name": "x"}).status_code == 401
    assert stranger.get("/api/v1/rooms").json()["error"] == "not_signed_in"
    assert bob.get(f"/api/v1/rooms/{slug}").status_code == 404
    assert bob.patch(f"/api/v1/rooms/{slug}", json={"name": "x"}).status_code == 404
    assert bob.delete(f"/api/v1/rooms/{slug}").status_code == 404
    assert bob.get("/api/v1/rooms").json()["rooms"] == []
    for body in [
        {"name": ""},
        {"name": "x" * 129},
        {"name": 5},
        {"name": "ok", "access_code": "c" * 65},
        {"name": "ok", "access_code": 1234},
        {"name": "ok", "lobby": "yes"},
        {"name": "ok", "auto_record": "true"},
        {"name": "ok", "auto_record": None},
        {"name": "ok", "colour": "red"},
        [],
    ]:
        answer = alice.post("/api/v1/rooms", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"] == "bad_request"
        assert answer.json()["message"]
    not_json = alice.post(
        "/api/v1/rooms", content=b"{", headers={"content-type": "application/json"}
    )
    form = alice.post("/api/v1/rooms", data={"name": "x"})
    assert not_json.status_code == 400
    assert form.status_code == 415
    assert alice.patch(f"/api/v1/rooms/{slug}", json={"lobby": 1}).status_code == 400
    bad_flag = alice.patch(f"/api/v1/rooms/{slug}", json={"auto_record": 1})
    assert bad_flag.status_code == 400
    assert "auto_record" in bad_flag.json()["message"]
    (room,) = alice.get("/api/v1/rooms").json()["rooms"]
    assert (room["name"], room["lobby"], room["auto_record"]) == (
        "Alice's",
        False,
        False,
    )
    for client in (alice, bob, stranger):
        client.close()


def test_invite_link_serves_room_page_and_unknown_slug_is_404(server):
    server.run_cli("users", "create", "alice", "--password", "a")
    slug = (
        sign_in(server, "alice", "a")
        .post("/api/v1/rooms", json={"name": "Room"})
        .json()["slug"]
    )

    found = httpx.get(f"{server.url}/r/{slug}", timeout=10)
    missing = httpx.get(f"{server.url}/r/nosuchroom", timeout=10)
    home = httpx.get(server.url + "/", timeout=10)
    test_page = httpx.get(server.url + "/test", timeout=10)

    assert found.status_code == 200
    assert found.headers["content-type"].startswith("text/html")
    assert missing.status_code == 404
    assert "No such room" in missing.text
    assert home.status_code == 200 and "home.js" in home.text
    assert test_page.status_code == 200 and "test-page.js" in test_page.text


def test_restart_keeps_accounts_rooms_chat_and_sessions(server):
    server.run_cli("users", "create", "alice", "--password", "s3cret")
    client = sign_in(server, "alice", "s3cret")
    room = client.post(
        "/api/v1/rooms", json={"name": "Kept", "access_code": "9", "lobby": True}
    ).json()
    asyncio.run(add_chat(server, room["slug"], ["first", "second"]))

    server.restart()

    # The signing key is kept too, so the old cookie still works.
    (kept,) = client.get("/api/v1/rooms").json()["rooms"]
    client.close()
    fresh = sign_in(server, "alice", "s3cret")
    assert fresh.get("/api/v1/rooms").json()["rooms"] == [kept]
    fresh.close()
    assert kept == room
    assert httpx.get(f"{server.url}/r/{room['slug']}", timeout=10).status_code == 200
    history = asyncio.run(read_chat(server, room["slug"]))
    assert [(m.from_name, m.text) for m in history] == [
        ("Ana", "first"),
        ("Ana", "second"),
    ]
    assert (server.data_dir / "secret_key").stat().st_mode & 0o777 == 0o600


async def add_chat(server, slug: str, texts: list[str]) -> None:
    store = await Store.open(Config(data_dir=str(server.data_dir)))
    try:
        room = await store.room_by_slug(slug)
        assert room is not None
        for i, text in enumerate(texts):
            await store.add_chat_message(room.id, "p1", "Ana", text, 1000.0 + i)
    finally:
        await store.close()


async def read_chat(server, slug: str):
    store = await Store.open(Config(data_dir=str(server.data_dir)))
    try:
        room = await store.room_by_slug(slug)
        assert room is not None
        return await store.chat_history(room.id)
    finally:
        await store.close()


def test_repeated_wrong_passwords_lock_the_account_out_for_a_while(server):
    server.run_cli("users", "create", "dewi", "--password", "right-one")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        codes = [
            client.post(
                "/api/v1/session", json={"name": "dewi", "password": f"guess{i}"}
            ).status_code
            for i in range(6)
        ]
        locked = client.post(
            "/api/v1/session", json={"name": "dewi", "password": "right-one"}
        )
    assert codes == [401] * 5 + [429]
    assert locked.status_code == 429
    assert locked.json()["error"] == "too_many_attempts"
