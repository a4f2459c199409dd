"""Recordings on disk: created with a sidecar, finished, listed, swept."""

from __future__ import annotations

import time

import pytest

from smeeton.recording.recordings import DAY, Recordings


def test_recording_is_listed_while_written_and_complete_when_finished(tmp_path):
    recordings = Recordings(tmp_path)
    recording, path = recordings.create("room-1")
    path.write_bytes(b"x" * 1000)
    (listed,) = recordings.list("room-1")
    assert (listed.status, listed.size) == ("recording", 1000)
    recordings.finish(recording, 12.3456)
    done = recordings.get("room-1", recording.id)
    assert done is not None
    assert (done.status, done.duration, done.size) == ("complete", 12.346, 1000)
    recordings.delete(done)
    assert recordings.list("room-1") == []
    assert not path.exists()


def test_sweep_removes_only_finished_recordings_past_the_retention(tmp_path):
    recordings = Recordings(tmp_path)
    now = time.time()
    old, _ = recordings.create("r", now=now - 10 * DAY)
    recordings.finish(old, 1.0)
    new, _ = recordings.create("r", now=now - DAY)
    recordings.finish(new, 1.0)
    busy, _ = recordings.create("r", now=now - 10 * DAY)
    assert recordings.sweep(0) == 0
    assert recordings.sweep(7) == 1
    assert {r.id for r in recordings.list("r")} == {new.id, busy.id}
    recordings.mark_interrupted()
    assert recordings.get("r", busy.id).status == "interrupted"


@pytest.mark.parametrize("slug", ["..", ".hidden", "a/b", ""])
def test_room_names_that_are_not_plain_directory_names_are_refused(tmp_path, slug):
    with pytest.raises(ValueError):
        Recordings(tmp_path).create(slug)
    assert Recordings(tmp_path).get(slug, "20260101-000000-abcdef") is None


def test_labels_and_publishing_are_kept_and_survive_the_finish(tmp_path):
    recordings = Recordings(tmp_path)
    labels = {"meetingID": "m-1", "meta": {"course": "Physics"}}
    recording, path = recordings.create("room-1", labels)
    assert recording.published is True
    path.write_bytes(b"x" * 10)
    # Changed while it is written: the finish keeps the change.
    recordings.update(recording, published=False, labels={**labels, "tag": "a"})
    recordings.finish(recording, 2.0, participants=3)
    (done,) = recordings.all()
    assert done.published is False
    assert done.participants == 3
    assert done.labels == {**labels, "tag": "a"}
    with pytest.raises(ValueError):
        recordings.update(done, status="complete")
