"""The recording rules of a room: what starts a recording by itself and
which moderator requests are refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from smeeton.rooms import rules
from smeeton.rooms.errors import PermissionDenied
from smeeton.rooms.rules import RoomRules


def room_with(**options: object) -> SimpleNamespace:
    # The checks read only the room's rules.
    return SimpleNamespace(rules=RoomRules.of(options))


def test_rules_of_options_round_trip_and_default_to_recordable_by_hand():
    given = RoomRules(auto_record=True, recordable=True, manual_recording=False)

    assert RoomRules.of(given.options()) == given
    assert RoomRules.of({}) == RoomRules()
    assert RoomRules.of({"welcome": "Hi"}).recordable is True
    assert RoomRules.of({"welcome": "Hi"}).manual_recording is True
    assert RoomRules.of({"auto_record": True}).auto_record is True


@pytest.mark.parametrize(
    ("options", "server_wide", "records"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"auto_record": True}, False, True),
        ({"auto_record": True, "manual_recording": False}, False, True),
        ({"auto_record": True, "recordable": False}, False, False),
        ({"recordable": False}, True, False),
    ],
)
def test_records_on_arrival_follows_room_then_server_unless_not_recordable(
    options, server_wide, records
):
    assert rules.records_on_arrival(room_with(**options), server_wide) is records


def test_check_recording_refuses_what_the_rules_forbid():
    rules.check_recording(room_with(), starting=True)
    rules.check_recording(room_with(), starting=False)

    with pytest.raises(PermissionDenied, match="may not be recorded"):
        rules.check_recording(room_with(recordable=False), starting=True)
    with pytest.raises(PermissionDenied, match="may not start"):
        rules.check_recording(room_with(manual_recording=False), starting=True)
    with pytest.raises(PermissionDenied, match="may not stop"):
        rules.check_recording(
            room_with(auto_record=True, manual_recording=False), starting=False
        )
