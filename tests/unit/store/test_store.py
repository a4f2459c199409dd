"""The store against a fresh SQLite file in a temporary data directory."""

from __future__ import annotations

import sqlite3

import pytest

from smeeton.config import Config, StoreConfig
from smeeton.store import ChatRecord, RoomRecord, Store, User


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(Config(data_dir=str(tmp_path / "data")))
    yield opened
    await opened.close()


async def test_open_creates_data_dir_and_schema_and_reopens(tmp_path):
    data = tmp_path / "nested" / "data"
    config = Config(data_dir=str(data))

    first = await Store.open(config)
    user = await first.create_user("alice", "correct horse")
    await first.close()
    await first.close()  # idempotent
    second = await Store.open(config)
    found = await second.get_user(user.id)
    await second.close()

    assert (data / "smeeton.db").is_file()
    assert found == user
    with sqlite3.connect(data / "smeeton.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
        (version,) = db.execute("select version_num from alembic_version").fetchone()
    assert {"users", "rooms", "chat_messages", "bbb_meetings", "bbb_hooks"} <= tables
    assert version == "0002"


async def test_create_user_hashes_password_and_authenticate_checks_it(store):
    user = await store.create_user("  alice ", "s3cret")

    assert isinstance(user, User)
    assert user.name == "alice"
    assert await store.authenticate("alice", "s3cret") == user
    assert await store.authenticate("alice", "wrong") is None
    assert await store.authenticate("nobody", "s3cret") is None


async def test_password_is_stored_as_argon2_hash(store, tmp_path):
    await store.create_user("alice", "s3cret")

    with sqlite3.connect(tmp_path / "data" / "smeeton.db") as db:
        (stored,) = db.execute("select password_hash from users").fetchone()
    assert stored.startswith("$argon2id$")
    assert "s3cret" not in stored


async def test_create_user_refuses_duplicate_empty_and_long_names(store):
    await store.create_user("alice", "pw")

    with pytest.raises(ValueError, match="exists"):
        await store.create_user("alice", "other")
    with pytest.raises(ValueError, match="1 to 128"):
        await store.create_user("   ", "pw")
    with pytest.raises(ValueError, match="1 to 128"):
        await store.create_user("x" * 129, "pw")
    with pytest.raises(ValueError, match="password"):
        await store.create_user("bob", "")
    assert [user.name for user in await store.users()] == ["alice"]


async def test_create_room_gives_random_slug_and_moderator_key(store):
    owner = await store.create_user("alice", "pw")

    room = await store.create_room("Weekly call", owner.id, "1234", lobby=True)
    other = await store.create_room("Other", owner.id)

    assert isinstance(room, RoomRecord)
    assert len(room.slug) == 10 and room.slug.isalnum() and room.slug.islower()
    assert room.slug != other.slug
    assert len(room.moderator_key) >= 24
    assert room.moderator_key != other.moderator_key
    assert (room.name, room.access_code, room.lobby) == ("Weekly call", "1234", True)
    assert (other.access_code, other.lobby) == (None, False)
    assert await store.room_by_slug(room.slug) == room
    assert await store.room_by_slug("nosuchroom") is None


async def test_create_room_refuses_bad_values(store):
    with pytest.raises(ValueError, match="room name"):
        await store.create_room("", None)
    with pytest.raises(ValueError, match="access code"):
        await store.create_room("Room", None, access_code="x" * 65)
    with pytest.raises(ValueError, match="no user"):
        await store.create_room("Room", 999)


async def test_rooms_of_lists_only_that_owners_rooms_oldest_first(store):
    alice = await store.create_user("alice", "pw")
    bob = await store.create_user("bob", "pw")
    first = await store.create_room("One", alice.id)
    await store.create_room("Bob's", bob.id)
    second = await store.create_room("Two", alice.id)
    await store.create_room("Nobody's", None)

    assert await store.rooms_of(alice.id) == [first, second]
    assert len(await store.all_rooms()) == 4


async def test_update_room_changes_only_given_fields(store):
    room = await store.create_room("Room", None, access_code="1234")

    renamed = await store.update_room(room.slug, name="New name")
    assert (renamed.name, renamed.access_code, renamed.lobby) == (
        "New name",
        "1234",
        False,
    )
    cleared = await store.update_room(room.slug, access_code=None, lobby=True)
    assert (cleared.name, cleared.access_code, cleared.lobby) == (
        "New name",
        None,
        True,
    )
    assert cleared.moderator_key == room.moderator_key
    assert await store.room_by_slug(room.slug) == cleared
    assert await store.update_room("nosuchroom", name="x") is None
    with pytest.raises(ValueError):
        await store.update_room(room.slug, name="")


async def test_auto_record_is_kept_in_options_and_update_keeps_the_others(store):
    plain = await store.create_room("Plain", None)
    room = await store.create_room("Recorded", None, auto_record=True)
    meeting = await store.create_bbb_meeting(
        meeting_id="m1",
        name="Lecture",
        internal_id="i1",
        attendee_pw="ap",
        moderator_pw="mp",
        create_time=1,
        voice_bridge="70001",
        options={"welcome": "Hello", "mute_on_start": True},
        settings={},
        meta={},
    )
    assert meeting is not None

    turned_on = await store.update_room(meeting.room_slug, auto_record=True)
    renamed = await store.update_room(meeting.room_slug, name="Lecture 2")
    turned_off = await store.update_room(room.slug, auto_record=False)

    assert plain.auto_record is False
    assert room.auto_record is True and room.options["auto_record"] is True
    assert turned_on.options == {
        "welcome": "Hello", "mute_on_start": True, "auto_record": True
    }  # fmt: skip
    assert renamed.options == turned_on.options and renamed.auto_record
    assert turned_off.auto_record is False
    assert await store.room_by_slug(room.slug) == turned_off
    for bad in (1, "yes", None):
        with pytest.raises(ValueError, match="auto_record"):
            await store.update_room(room.slug, auto_record=bad)
        with pytest.raises(ValueError, match="auto_record"):
            await store.create_room("Room", None, auto_record=bad)


async def test_delete_room_removes_it_and_its_chat(store):
    room = await store.create_room("Room", None)
    await store.add_chat_message(room.id, "p1", "Ana", "hello", 1.0)

    assert await store.delete_room(room.slug) is True
    assert await store.delete_room(room.slug) is False
    assert await store.room_by_slug(room.slug) is None
    assert await store.chat_history(room.id) == []


async def test_chat_history_is_oldest_first_and_keeps_the_newest(store):
    room = await store.create_room("Room", None)
    other = await store.create_room("Other", None)
    for i in range(5):
        await store.add_chat_message(room.id, "p1", "Ana", f"m{i}", 100.0 + i)
    await store.add_chat_message(other.id, "p2", "Budi", "elsewhere", 50.0)

    history = await store.chat_history(room.id)
    newest = await store.chat_history(room.id, limit=2)

    assert [m.text for m in history] == ["m0", "m1", "m2", "m3", "m4"]
    assert all(isinstance(m, ChatRecord) for m in history)
    assert history[0].from_name == "Ana" and history[0].time == 100.0
    assert [m.text for m in newest] == ["m3", "m4"]


async def test_add_chat_message_refuses_bad_text_and_unknown_room(store):
    room = await store.create_room("Room", None)

    with pytest.raises(ValueError, match="chat text"):
        await store.add_chat_message(room.id, "p1", "Ana", "", 1.0)
    with pytest.raises(ValueError, match="chat text"):
        await store.add_chat_message(room.id, "p1", "Ana", "x" * 2001, 1.0)
    with pytest.raises(ValueError, match="no room"):
        await store.add_chat_message(999, "p1", "Ana", "hi", 1.0)
    assert await store.chat_history(room.id) == []


async def test_store_url_points_at_another_sqlite_file(tmp_path):
    path = tmp_path / "elsewhere.db"
    config = Config(
        data_dir=str(tmp_path / "data"), store=StoreConfig(url=f"sqlite:///{path}")
    )

    store = await Store.open(config)
    await store.create_user("alice", "pw")
    await store.close()

    assert path.is_file()
    assert not (tmp_path / "data" / "smeeton.db").exists()
