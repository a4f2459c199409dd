"""The BigBlueButton recording calls on Smeeton's real recordings: made in
the meeting, listed, played, published, updated and deleted through the API
after the meeting ended, and the create parameters that allow recording."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bigbluebutton_api_python import BigBlueButton
from bigbluebutton_api_python.exception.bbbexception import BBBException

from tests.bbb.client import (
    JS_CLIENT,
    SECRET,
    call,
    failed,
    follow_join,
    join_with_ticket,
    text,
    url,
)
from tests.peers import Participant, PatternTrack, ToneTrack
from tests.server import RunningServer
from tests.signalling import Client

# Recordings: made in the meeting, managed through the API after it ended.

# Small media: two shared cores run the server, the peers and the encoder.
RECORDING_FLAGS = (
    "--recording-width", "320", "--recording-height", "180",
    "--recording-preset", "ultrafast", "--recording-video-bitrate", "300000",
)  # fmt: skip


@pytest.fixture
def bbb_recorded(tmp_path):
    running = RunningServer(
        tmp_path / "data",
        "--bbb-secret",
        SECRET,
        *RECORDING_FLAGS,
        temporary_rooms=False,
    ).start()
    yield running
    running.stop()
    assert "Traceback" not in running.log(), running.log()


async def recording_state(client: Client, recording: bool) -> None:
    while (await client.next("recording_state", timeout=15))["recording"] != (
        recording
    ):
        pass


def recordings_of(base: str, **params: str) -> dict[str, object]:
    """getRecordings' recordings by recordID, with the parsed XML of each."""
    root = call(base, "getRecordings", **params)
    assert text(root, "returncode") == "SUCCESS"
    return {r.findtext("recordID"): r for r in root.iter("recording")}


async def wait_listed(base: str, count: int, timeout: float = 10.0) -> dict:
    # A recording is listed once it is finished on disk (state processing
    # until then), a fraction of a second after it stops.
    deadline = time.monotonic() + timeout
    while len(found := recordings_of(base, meetingID="rec-1")) < count:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.1)
    return found


def probe(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "played.mp4"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(s["codec_name"] for s in json.loads(out)["streams"])


async def test_recordings_outlive_end_and_are_listed_played_published_updated_deleted(
    bbb_recorded, tmp_path
):
    server = bbb_recorded
    api = BigBlueButton(server.url, SECRET)
    created = api.create_meeting(
        "rec-1",
        params={"name": "Lecture 7", "attendeePW": "ap", "moderatorPW": "mp"},
        meta={"course": "Physics 101"},
    )
    internal_id = created.get_field("internalMeetingID")
    teacher = await join_with_ticket(
        server, api.get_join_meeting_url("Teacher", "rec-1", "mp")
    )
    slug, ticket = follow_join(api.get_join_meeting_url("Student", "rec-1", "ap"))
    student = Participant(
        server.ws_url, "Student", slug, join_fields={"ticket": ticket}
    )
    try:
        await student.join()
        await student.publish(
            [(ToneTrack(440), "microphone"), (PatternTrack(320, 180), "camera")]
        )

        # One recording stopped by the moderator, one cut short by `end`.
        await teacher.send({"type": "start_recording"})
        await recording_state(teacher, True)
        await asyncio.sleep(3)
        await teacher.send({"type": "stop_recording"})
        await recording_state(teacher, False)
        await teacher.send({"type": "start_recording"})
        await recording_state(teacher, True)
        processing = recordings_of(server.url, meetingID="rec-1", state="processing")
        assert [r.findtext("state") for r in processing.values()] == ["processing"]
        await asyncio.sleep(2)
        api.end_meeting("rec-1", "mp")
        await teacher.next("meeting_ended")
    finally:
        await student.close()
        await teacher.close()
    with pytest.raises(BBBException):
        api.get_meeting_info("rec-1")

    # Both are listed by meetingID, the meeting and its room gone.
    found = await wait_listed(server.url, 2)
    first, second = sorted(found.values(), key=lambda r: int(r.findtext("startTime")))
    digest = hashlib.sha1(b"rec-1").hexdigest()
    for recording in (first, second):
        assert recording.findtext("recordID").startswith(digest + "-")
        assert recording.findtext("meetingID") == "rec-1"
        assert recording.findtext("internalMeetingID") == internal_id
        assert recording.findtext("name") == "Lecture 7"
        assert recording.findtext("published") == "true"
        assert recording.findtext("state") == "published"
        assert recording.findtext("isBreakout") == "false"
        assert recording.findtext("participants") == "2"
        assert recording.findtext("metadata/course") == "Physics 101"
        assert recording.findtext("metadata/meetingName") == "Lecture 7"
        assert recording.findtext("playback/format/type") == "video"
        assert recording.findtext("playback/format/length") == "1"
        assert int(recording.findtext("size")) > 10_000
    seconds = (int(first.findtext("endTime")) - int(first.findtext("startTime"))) / 1e3
    assert 2.5 < seconds < 4.5, seconds
    assert int(second.findtext("startTime")) > int(first.findtext("endTime"))
    first_id, second_id = first.findtext("recordID"), second.findtext("recordID")

    # The real clients read them: bigbluebutton-api-python and -js.
    listed = api.get_recordings(meeting_id="rec-1,other").get_recordings()
    assert {r.get_recordid() for r in listed} == {first_id, second_id}
    assert {r.get_meta("course") for r in listed} == {"Physics 101"}
    assert all(r.get_playbackurl().startswith(server.url) for r in listed)
    js = json.loads(run_js("recordings.js", server.url, SECRET, "rec-1"))
    assert js["returncode"] == "SUCCESS"
    assert sorted(r["recordID"] for r in js["recordings"]) == sorted(
        [first_id, second_id]
    )
    assert js["recordings"][0]["metadata"]["course"] == "Physics 101"

    # recordID: comma-separated, and prefixes match.
    assert set(recordings_of(server.url, recordID=digest)) == {first_id, second_id}
    assert set(recordings_of(server.url, recordID=f"{first_id},nope")) == {first_id}
    assert recordings_of(server.url, meetingID="other") == {}

    # The playback link plays without a session, seeks, and is not forged.
    link = first.findtext("playback/format/url")
    async with httpx.AsyncClient(timeout=10) as web:
        played = await web.get(link)
        assert played.status_code == 200, played.text
        assert played.headers["content-type"] == "video/mp4"
        assert "set-cookie" not in played.headers
        assert probe(played.content, tmp_path) == ["aac", "h264"]
        ranged = await web.get(link, headers={"Range": "bytes=100-199"})
        assert ranged.status_code == 206 and ranged.content == played.content[100:200]
        token = parse_qs(urlsplit(link).query)["token"][0]
        tampered = link.replace(
            token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        )
        assert (await web.get(tampered)).status_code == 403
        other = second.findtext("playback/format/url").split("?")[0]
        assert (await web.get(f"{other}?token={token}")).status_code == 403
        assert (await web.get(link.split("?")[0])).status_code == 403

        # Unpublished, it is listed as such and plays no more.
        assert api.publish_recordings(first_id, False).get_field("published") == (
            "false"
        )
        shown = recordings_of(server.url, recordID=first_id)[first_id]
        assert shown.findtext("published") == "false"
        assert shown.findtext("state") == "unpublished"
        assert set(recordings_of(server.url, state="published")) == {second_id}
        assert (await web.get(link)).status_code == 404
        call(server.url, "publishRecordings", recordID=first_id, publish="true")
        assert (await web.get(link)).status_code == 200

    # updateRecordings sets, changes and removes metadata.
    api.update_recordings(first_id, {"course": "Physics 102", "term": "spring"})
    shown = recordings_of(server.url, recordID=first_id)[first_id]
    assert shown.findtext("metadata/course") == "Physics 102"
    assert shown.findtext("metadata/term") == "spring"
    assert set(recordings_of(server.url, meta_course="Physics 102")) == {first_id}
    call(server.url, "updateRecordings", recordID=first_id, query="meta_term=")
    shown = recordings_of(server.url, recordID=first_id)[first_id]
    assert shown.find("metadata/term") is None

    # Unknown recordIDs are not found; deleted ones are gone, files and all.
    for which, extra in (
        ("publishRecordings", {"publish": "false"}),
        ("updateRecordings", {"meta_x": "y"}),
        ("deleteRecordings", {}),
    ):
        failed(call(server.url, which, recordID=digest, **extra), "notFound")
    deleted = api.delete_recordings(f"{first_id},{second_id}")
    assert deleted.get_field("deleted") == "true"
    empty = call(server.url, "getRecordings", meetingID="rec-1")
    assert text(empty, "messageKey") == "noRecordings"
    assert list((server.data_dir / "recordings" / slug).iterdir()) == []
    failed(call(server.url, "deleteRecordings", recordID=first_id), "notFound")
    async with httpx.AsyncClient(timeout=10) as web:
        assert (await web.get(link)).status_code == 404


def run_js(script: str, *args: str) -> str:
    if shutil.which("node") is None:
        pytest.fail("node is needed for the bigbluebutton-js client (CI has it)")
    if not (JS_CLIENT / "node_modules" / "bigbluebutton-js").exists():
        pytest.fail(f"run `npm ci` in {JS_CLIENT} (scripts/test does)")
    done = subprocess.run(
        ["node", script, *args],
        cwd=JS_CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def moderator_join(server, meeting_id: str) -> str:
    return url(server.url, "join", meetingID=meeting_id, fullName="T", role="MODERATOR")


async def test_auto_start_recording_records_without_start_and_locks_start_stop(
    bbb_recorded,
):
    server = bbb_recorded
    call(
        server.url,
        "create",
        meetingID="auto",
        autoStartRecording="true",
        allowStartStopRecording="false",
    )
    call(server.url, "create", meetingID="by-hand", allowStartStopRecording="false")
    teacher = await join_with_ticket(server, moderator_join(server, "auto"))
    other = await join_with_ticket(server, moderator_join(server, "by-hand"))
    # The page is told not to offer buttons the server would refuse.
    assert teacher.reply["recording_controls"] is False
    assert other.reply["recording_controls"] is False
    try:
        # Recorded from the first arrival on, with nobody asking, and the
        # API says so.
        await recording_state(teacher, True)
        info = call(server.url, "getMeetingInfo", meetingID="auto")
        assert info.findtext("recording") == "true"
        info = call(server.url, "getMeetingInfo", meetingID="by-hand")
        assert info.findtext("recording") == "false"

        # Neither stopped nor started by hand, here or in a meeting that
        # does not record by itself.
        await teacher.send({"type": "stop_recording"})
        refused = await teacher.next("error")
        assert refused["code"] == "permission_denied"
        assert "may not stop" in refused["message"]
        await other.send({"type": "start_recording"})
        refused = await other.next("error")
        assert refused["code"] == "permission_denied"
        assert "may not start" in refused["message"]
        assert not any(m["recording"] for m in other.of_type("recording_state"))
        assert teacher.of_type("recording_state")[-1]["recording"] is True
        await asyncio.sleep(2)
        call(server.url, "end", meetingID="auto")
        await teacher.next("meeting_ended")
    finally:
        await teacher.close()
        await other.close()

    # The meeting's recording is listed once finished.
    deadline = time.monotonic() + 10
    while not (found := recordings_of(server.url, meetingID="auto")):
        assert time.monotonic() < deadline, "no recording of meeting auto"
        await asyncio.sleep(0.1)
    (recording,) = found.values()
    assert recording.findtext("state") == "published"
    # A still, empty picture: small, but a whole MP4.
    assert int(recording.findtext("size")) > 1_000


async def test_record_false_refuses_start_recording_and_auto_start(bbb):
    call(bbb.url, "create", meetingID="off", record="false", autoStartRecording="true")
    teacher = await join_with_ticket(bbb, moderator_join(bbb, "off"))
    try:
        first = await teacher.next("recording_state")
        await teacher.send({"type": "start_recording"})
        refused = await teacher.next("error")
    finally:
        await teacher.close()

    assert first["recording"] is False
    assert refused["code"] == "permission_denied"
    assert refused["message"] == "This meeting may not be recorded."
    assert all(not m["recording"] for m in teacher.of_type("recording_state"))
