"""Stream destinations are checked and never show their key; the layout puts
everyone somewhere on even coordinates."""

from __future__ import annotations

import pytest

from smeeton.recording import targets
from smeeton.recording.layout import Person, arrange


def test_stream_target_joins_the_key_and_shows_only_the_address():
    target = targets.check("rtmp://user:pw@live.example:1935/app/", "s3cret")
    assert target.url == "rtmp://user:pw@live.example:1935/app/s3cret"
    assert target.shown == "rtmp://live.example:1935/app"
    assert "s3cret" not in repr(target)


@pytest.mark.parametrize(
    "url",
    ["", "rtmp://", "http://host/app", "rtmp://host", "rtmp://h:x/app",
     "rtmp://host/app?x=1", "rtmp://ho st/app", "rtmp://host/" + "a" * 1100],
)  # fmt: skip
def test_stream_target_refuses_bad_addresses_with_a_reason(url):
    with pytest.raises(ValueError) as refused:
        targets.check(url, "key")
    assert str(refused.value)


def test_grid_places_everyone_inside_the_picture_on_even_coordinates():
    people = [Person(f"p{i}", f"P{i}", camera=True) for i in range(5)]
    tiles = arrange(1280, 720, people)
    assert [t.person.participant_id for t in tiles] == [
        p.participant_id for p in people
    ]
    for tile in tiles:
        r = tile.rect
        assert r.x % 2 == r.y % 2 == r.width % 2 == r.height % 2 == 0
        assert r.x >= 0 and r.x + r.width <= 1280
        assert r.y >= 0 and r.y + r.height <= 720


def test_screen_share_takes_the_main_area_with_cameras_beside_it():
    people = [
        Person("a", "Ana", camera=True),
        Person("b", "Budi", camera=True, screen=True),
    ]
    screen, *cameras = arrange(1280, 720, people)
    assert (screen.label, screen.person.participant_id) == ("screen", "b")
    assert screen.rect.width > 1280 * 0.7
    assert all(c.rect.x >= screen.rect.x + screen.rect.width for c in cameras)
    assert [c.person.participant_id for c in cameras] == ["a", "b"]
