from __future__ import annotations

from types import SimpleNamespace

from smeeton.rooms.speaker import SpeakerDetector


class FakeTrack:
    kind = "audio"

    def __init__(self) -> None:
        self.level = 127
        self.paused = False

    def take_loudest(self) -> int:
        level, self.level = self.level, 127
        return level


class Heard:
    def __init__(self, name: str) -> None:
        self.id = name
        self.track = FakeTrack()
        self.tracks = [self.track]
        self.events: list[str] = []

    def deliver(self, event) -> None:
        self.events.append(event.participant_id)


def room_of(*names: str):
    people = {name: Heard(name) for name in names}
    return SimpleNamespace(participants=people), people


def test_first_loud_voice_becomes_the_active_speaker_at_once():
    room, people = room_of("ana", "budi")
    detector = SpeakerDetector(room)
    people["ana"].track.level = 20
    detector.tick()
    assert detector.current == "ana"
    assert people["budi"].events == ["ana"]


def test_speaker_keeps_the_floor_over_a_one_tick_interruption():
    room, people = room_of("ana", "budi")
    detector = SpeakerDetector(room)
    people["ana"].track.level = 20
    detector.tick()
    people["budi"].track.level = 10
    detector.tick()
    assert detector.current == "ana"
    people["budi"].track.level = 10
    detector.tick()
    assert detector.current == "budi"


def test_background_noise_and_muted_tracks_never_take_the_floor():
    room, people = room_of("ana", "budi")
    detector = SpeakerDetector(room)
    people["ana"].track.level = 90
    people["budi"].track.level = 5
    people["budi"].track.paused = True
    detector.tick()
    assert detector.current == ""


def test_silence_for_a_while_clears_the_active_speaker():
    room, people = room_of("ana")
    detector = SpeakerDetector(room)
    people["ana"].track.level = 20
    detector.tick()
    for _ in range(5):
        detector.tick()
    assert detector.current == ""
    assert people["ana"].events == ["ana", ""]
