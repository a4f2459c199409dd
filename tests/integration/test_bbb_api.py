"""The BigBlueButton-compatible API, driven by BigBlueButton clients that
nobody here wrote (bigbluebutton-api-python, bbbctl, bigbluebutton-js) and
by hand for what they do not send: every checksum algorithm, POST with an
XML body, bad requests, the mapped create parameters, webhooks, and the
recordings of a meeting after it ended."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bigbluebutton_api_python import BigBlueButton
from bigbluebutton_api_python.exception.bbbexception import BBBException

from tests.bbb.client import SECRET, call, fetch, follow_join, meeting_ids, text, url
from tests.peers import Participant, PatternTrack, ToneTrack
from tests.server import RunningServer
from tests.signalling import Client

JS_CLIENT = Path(__file__).resolve().parent.parent / "bbb" / "js"
BBBCTL = Path(sys.executable).with_name("bbbctl")


@pytest.fixture
def bbb(tmp_path):
    running = RunningServer(
        tmp_path / "data", "--bbb-secret", SECRET, temporary_rooms=False
    ).start()
    yield running
    running.stop()
    errors = [line for line in running.log().splitlines() if "Traceback" in line]
    assert not errors, running.log()


async def join_with_ticket(server, address: str, name: str = "ignored") -> Client:
    """Follow a join URL and join its room with the ticket, as the page does."""
    slug, ticket = follow_join(address)
    client = Client(server)
    reply = await client.join(slug, name, ticket=ticket)
    client.reply = reply
    return client


# The real clients.


async def test_bigbluebutton_api_python_creates_joins_inspects_and_ends(bbb):
    api = BigBlueButton(bbb.url, SECRET)
    assert api.get_api_version().get_version() == "2.0"
    created = api.create_meeting(
        "py-1",
        params={"name": "Python class", "attendeePW": "ap", "moderatorPW": "mp"},
        meta={"course": "Physics 101"},
    )
    assert created.get_meetingid() == "py-1"
    assert created.get_moderator_pw() == "mp"
    # Its getMeetings reads one meeting as a mapping, not a list: make two.
    api.create_meeting("py-2", params={"name": "Other class"})

    teacher = await join_with_ticket(
        bbb, api.get_join_meeting_url("Teacher", "py-1", "mp")
    )
    student = await join_with_ticket(
        bbb, api.get_join_meeting_url("Student", "py-1", "ap", {"userID": "s-42"})
    )
    assert teacher.reply["type"] == student.reply["type"] == "welcome"
    assert teacher.reply["role"] == "moderator"
    assert student.reply["role"] == "attendee"

    assert api.is_meeting_running("py-1").is_meeting_running()
    info = api.get_meeting_info("py-1").get_meetinginfo()
    assert info.get_participantcount() == 2
    assert info.get_moderator_count() == "1"
    attendees = api.get_meeting_info("py-1").get_attendees()
    assert {(a.get_fullname(), a.get_role()) for a in attendees} == {
        ("Teacher", "MODERATOR"),
        ("Student", "VIEWER"),
    }
    raw = call(bbb.url, "getMeetingInfo", meetingID="py-1")
    people = {a.findtext("fullName"): a for a in raw.iter("attendee")}
    assert people["Teacher"].findtext("role") == "MODERATOR"
    assert people["Student"].findtext("role") == "VIEWER"
    assert people["Student"].findtext("userID") == "s-42"
    assert text(raw, "metadata/course") == "Physics 101"
    listed = api.get_meetings().get_meetings()
    assert {m.get_meetingid() for m in listed} == {"py-1", "py-2"}

    api.end_meeting("py-1", "mp")
    ended = await student.next("meeting_ended")
    assert ended["message"]
    await student.wait_closed()
    assert not api.is_meeting_running("py-1").is_meeting_running()
    with pytest.raises(BBBException) as failure:
        api.get_meeting_info("py-1")
    assert failure.value.key == "notFound"
    await teacher.close()
    await student.close()


def bbbctl(server, *args: str) -> str:
    done = subprocess.run(
        [str(BBBCTL), "--server", f"{server.url}/bigbluebutton/api", *args],
        env={**os.environ, "BBBCTL_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_bbbctl_creates_joins_inspects_chats_and_ends(bbb):
    assert BBBCTL.exists(), "pip install bbbctl (the test extra) first"
    out = bbbctl(bbb, "meeting", "create", "ctl-1", "Staff meeting", "--join", "Ann")
    link = out.strip().splitlines()[-1].split(": ", 1)[1]
    ann = await join_with_ticket(bbb, link)
    assert ann.reply["role"] == "moderator" and ann.reply["room_name"] == (
        "Staff meeting"
    )
    viewer_link = bbbctl(bbb, "meeting", "join", "ctl-1", "Vic").strip()
    vic = await join_with_ticket(bbb, viewer_link)
    assert vic.reply["role"] == "attendee"

    info = json.loads(bbbctl(bbb, "--format", "json", "meeting", "info", "ctl-1"))
    assert info["running"] is True and info["participantCount"] == 2
    roles = {a["fullName"]: a["role"] for a in info["attendees"]}
    assert roles == {"Ann": "MODERATOR", "Vic": "VIEWER"}
    listed = bbbctl(bbb, "--format", "compact", "meeting", "list")
    assert "meetingID=ctl-1" in listed

    bbbctl(bbb, "meeting", "chat", "ctl-1", "Server restarts at noon", "--name", "Ops")
    said = await vic.next("chat")
    assert said["message"]["text"] == "Server restarts at noon"
    assert said["message"]["from_name"] == "Ops"

    bbbctl(bbb, "meeting", "end", "ctl-1")
    await ann.next("meeting_ended")
    assert meeting_ids(bbb.url) == []
    await ann.close()
    await vic.close()


def test_bigbluebutton_js_creates_joins_inspects_and_ends(bbb):
    if shutil.which("node") is None:
        pytest.fail("node is needed for the bigbluebutton-js client (CI has it)")
    if not (JS_CLIENT / "node_modules" / "bigbluebutton-js").exists():
        pytest.fail(f"run `npm ci` in {JS_CLIENT} (scripts/test does)")
    done = subprocess.run(
        ["node", "drive.js", bbb.url, SECRET, "js-1"],
        cwd=JS_CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["create"]["returncode"] == "SUCCESS"
    assert out["create"]["meetingID"] == "js-1"
    assert out["join"]["returncode"] == "SUCCESS"
    assert "/r/" in out["join"]["url"] and "#ticket=" in out["join"]["url"]
    assert out["running"]["running"] is False
    assert out["info"]["meetingName"] == "JS meeting"
    assert out["info"]["duration"] == 30
    assert out["info"]["metadata"]["origin"] == "bigbluebutton-js"
    assert [m["meetingID"] for m in out["meetings"]["meetings"]] == ["js-1"]
    assert out["recordings"]["messageKey"] == "noRecordings"
    assert out["hook"]["returncode"] == "SUCCESS"
    assert out["hooks"]["hooks"]["hook"]["hookID"] == out["hook"]["hookID"]
    assert out["unhook"]["removed"] is True
    assert out["end"]["messageKey"] == "sentEndMeetingRequest"
    assert out["after"]["messageKey"] == "notFound"


# Checksums and shapes.


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_every_checksum_algorithm_is_taken(bbb, algorithm):
    root = fetch(url(bbb.url, "create", algorithm=algorithm, meetingID="m", name="M"))
    assert [child.tag for child in root][0] == "returncode"
    assert text(root, "returncode") == "SUCCESS"
    assert text(root, "meetingID") == "m"


def test_checksum_is_over_the_query_as_sent(bbb):
    # Spaces as %20 rather than +, parameters in any order, an empty one.
    query = "name=Two%20words&empty=&meetingID=raw-1&muteOnStart=True"
    root = fetch(url(bbb.url, "create", query=query))
    assert text(root, "returncode") == "SUCCESS"
    assert text(call(bbb.url, "getMeetingInfo", meetingID="raw-1"), "meetingName") == (
        "Two words"
    )


def test_version_document_needs_no_checksum(bbb):
    root = fetch(f"{bbb.url}/bigbluebutton/api")
    assert [child.tag for child in root][:2] == ["returncode", "version"]
    assert text(root, "version") == "2.0"


def test_post_create_with_an_xml_body(bbb):
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><modules><module name="presentation">'
        b'<document url="https://example.org/slides.pdf"/></module></modules>'
    )
    root = fetch(
        url(bbb.url, "create", meetingID="post-1", name="Posted"),
        data=body,
        headers={"Content-Type": "application/xml"},
    )
    assert text(root, "returncode") == "SUCCESS"
    assert meeting_ids(bbb.url) == ["post-1"]


def test_create_again_warns_and_other_passwords_are_refused(bbb):
    first = call(bbb.url, "create", meetingID="d", attendeePW="a", moderatorPW="m")
    again = call(bbb.url, "create", meetingID="d", attendeePW="a", moderatorPW="m")
    assert text(again, "returncode") == "SUCCESS"
    assert text(again, "messageKey") == "duplicateWarning"
    assert text(again, "createTime") == text(first, "createTime")
    other = call(bbb.url, "create", meetingID="d", moderatorPW="other")
    assert text(other, "returncode") == "FAILED"
    assert text(other, "messageKey") == "idNotUnique"


# Bad requests: the documented FAILED answer, and nothing changes.


def failed(root, key: str) -> None:
    assert [child.tag for child in root][0] == "returncode"
    assert text(root, "returncode") == "FAILED", text(root, "message")
    assert text(root, "messageKey") == key


def test_bad_requests_get_failed_and_change_nothing(bbb):
    call(bbb.url, "create", meetingID="keep", attendeePW="ap", moderatorPW="mp")
    before = call(bbb.url, "getMeetingInfo", meetingID="keep")
    base = f"{bbb.url}/bigbluebutton/api"

    wrong = url(bbb.url, "create", meetingID="new").replace("checksum=", "checksum=0")
    failed(fetch(wrong), "checksumError")
    failed(fetch(f"{base}/create?meetingID=new"), "checksumError")
    failed(fetch(f"{base}/create?meetingID=new&checksum={'0' * 40}"), "checksumError")
    # Signed for another call: the call's name is part of the checksum.
    signed = url(bbb.url, "getMeetings", meetingID="new").split("?", 1)[1]
    failed(fetch(f"{base}/create?{signed}"), "checksumError")
    failed(call(bbb.url, "create", name="No id"), "missingParamMeetingID")
    failed(call(bbb.url, "create", meetingID="x" * 257), "paramTooLong")
    failed(call(bbb.url, "create", meetingID="big", meta_x="y" * 3000), "paramTooLong")
    failed(
        call(bbb.url, "create", meetingID="big", welcome="w" * 70000), "requestTooLarge"
    )
    failed(
        fetch(url(bbb.url, "create", query="meetingID=bad&meta_a%20b=c")),
        "invalidParams",
    )
    failed(
        fetch(url(bbb.url, "create", meetingID="big"), data=b"x" * (65 * 1024)),
        "requestTooLarge",
    )
    failed(call(bbb.url, "getMeetingInfo", meetingID="nope"), "notFound")
    failed(call(bbb.url, "end", meetingID="nope"), "notFound")
    failed(call(bbb.url, "end", meetingID="keep", password="ap"), "invalidPassword")
    failed(
        call(bbb.url, "join", meetingID="nope", fullName="A"),
        "invalidMeetingIdentifier",
    )
    failed(
        call(bbb.url, "join", meetingID="keep", password="ap"), "missingParamFullName"
    )
    failed(
        call(bbb.url, "join", meetingID="keep", fullName="A", password="zz"),
        "invalidPassword",
    )
    failed(
        call(
            bbb.url,
            "join",
            meetingID="keep",
            fullName="A",
            password="ap",
            createTime="1",
        ),
        "mismatchCreateTime",
    )
    failed(call(bbb.url, "sendChatMessage", meetingID="keep"), "missingParamMessage")
    failed(
        call(bbb.url, "publishRecordings", recordID="r1", publish="true"), "notFound"
    )
    failed(call(bbb.url, "deleteRecordings"), "missingParamRecordID")
    failed(call(bbb.url, "hooks/destroy", hookID="99"), "destroyMissingHook")
    failed(
        call(bbb.url, "hooks/create", callbackURL="file:///etc/passwd"),
        "createHookError",
    )
    failed(call(bbb.url, "noSuchCall"), "unsupportedRequest")

    assert meeting_ids(bbb.url) == ["keep"]
    after = call(bbb.url, "getMeetingInfo", meetingID="keep")
    assert text(after, "createTime") == text(before, "createTime")
    assert text(after, "moderatorPW") == "mp"
    assert text(call(bbb.url, "hooks/list"), "returncode") == "SUCCESS"
    assert list(call(bbb.url, "hooks/list").find("hooks")) == []


def test_api_is_off_without_a_secret(tmp_path):
    server = RunningServer(tmp_path / "data", temporary_rooms=False).start()
    try:
        root = call(server.url, "getMeetings")
        failed(root, "checksumError")
        assert "bbb_secret" in text(root, "message")
        assert text(fetch(f"{server.url}/bigbluebutton/api"), "returncode") == (
            "SUCCESS"
        )
    finally:
        server.stop()


# Create parameters mapped onto the meeting's rules.


async def test_create_parameters_rule_the_meeting(bbb):
    call(
        bbb.url,
        "create",
        meetingID="rules",
        name="Exam",
        moderatorPW="mp",
        attendeePW="ap",
        muteOnStart="true",
        maxParticipants="2",
        lockSettingsDisablePublicChat="true",
        lockSettingsDisableCam="true",
        welcome="Welcome to %%CONFNAME%%!",
    )

    def join_url(name: str, **extra: str) -> str:
        return url(bbb.url, "join", meetingID="rules", fullName=name, **extra)

    teacher = await join_with_ticket(bbb, join_url("T", role="MODERATOR"))
    pupil = await join_with_ticket(bbb, join_url("P", password="ap"))
    for client in (teacher, pupil):
        assert client.reply["chat"][0]["text"] == "Welcome to Exam!"
        assert "microphone" in client.reply["muted"]
    assert "camera" in pupil.reply["muted"]
    assert "camera" not in teacher.reply["muted"]

    # Locks hold attendees only.
    await pupil.send({"type": "chat", "text": "hi"})
    assert (await pupil.next("error"))["code"] == "permission_denied"
    await pupil.send({"type": "media_state", "microphone": False, "camera": True})
    assert (await pupil.next("error"))["code"] == "permission_denied"
    await teacher.send({"type": "chat", "text": "Quiet please"})
    assert (await pupil.next("chat"))["message"]["text"] == "Quiet please"

    # The meeting is full: the API says so, and so does the room.
    failed(
        call(bbb.url, "join", meetingID="rules", fullName="X", password="ap"),
        ("maxParticipantsReached"),
    )
    await pupil.close()
    await teacher.next("participant_left")
    slug, early = follow_join(join_url("Early", password="ap"))
    late = await join_with_ticket(bbb, join_url("Late", password="ap"))
    assert late.reply["type"] == "welcome"
    # A ticket given while there was room does not make more room.
    refused = await Client(bbb).join(slug, "Early", ticket=early)
    assert refused["code"] == "room_full"
    await teacher.close()
    await late.close()


async def test_a_guest_waits_when_the_policy_asks_a_moderator(bbb):
    call(bbb.url, "create", meetingID="g", guestPolicy="ASK_MODERATOR")
    host = await join_with_ticket(
        bbb, url(bbb.url, "join", meetingID="g", fullName="Host", role="MODERATOR")
    )
    guest = await join_with_ticket(
        bbb,
        url(
            bbb.url, "join", meetingID="g", fullName="Gus", role="VIEWER", guest="true"
        ),
    )
    assert guest.reply["type"] == "lobby_waiting"
    waiting = {"waiting": []}
    while not waiting["waiting"]:
        waiting = await host.next("lobby")
    assert [w["name"] for w in waiting["waiting"]] == ["Gus"]
    await host.send({"type": "admit", "participant_id": waiting["waiting"][0]["id"]})
    welcome = await guest.next("welcome")
    assert welcome["role"] == "attendee"
    await host.close()
    await guest.close()


async def test_a_forged_or_foreign_ticket_is_refused(bbb):
    call(bbb.url, "create", meetingID="t1")
    call(bbb.url, "create", meetingID="t2")
    slug1, ticket = follow_join(
        url(bbb.url, "join", meetingID="t1", fullName="Eve", role="VIEWER")
    )
    slug2, _ = follow_join(
        url(bbb.url, "join", meetingID="t2", fullName="Eve", role="VIEWER")
    )
    client = Client(bbb)
    reply = await client.join(slug2, "Eve", ticket=ticket)
    assert reply["code"] == "bad_ticket"
    body, signature = ticket.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    reply = await client.join(slug1, "Eve", ticket=forged)
    assert reply["code"] == "bad_ticket"
    await client.close()


# Webhooks and end callbacks.


class Receiver(http.server.ThreadingHTTPServer):
    """A small HTTP server on loopback keeping every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _keep(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append(
                    (self.command, self.path, self.rfile.read(length))
                )
                self.send_response(200)
                self.end_headers()

            do_GET = do_POST = _keep

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def events(self) -> list[dict]:
        found = []
        for method, _, body in self.requests:
            if method == "POST":
                form = parse_qs(body.decode())
                found += json.loads(form["event"][0])
        return found

    def wait_for(self, what, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out; got {self.requests!r}")


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.shutdown()


async def test_webhooks_hear_of_meetings_and_people_with_a_checksum(bbb, receiver):
    hook_url = receiver.url + "/hook"
    created = call(bbb.url, "hooks/create", callbackURL=hook_url, getRaw="false")
    assert text(created, "returncode") == "SUCCESS"
    again = call(bbb.url, "hooks/create", callbackURL=hook_url)
    assert text(again, "messageKey") == "duplicateWarning"
    assert text(again, "hookID") == text(created, "hookID")
    listed = call(bbb.url, "hooks/list")
    assert [h.findtext("callbackURL") for h in listed.iter("hook")] == [hook_url]

    call(
        bbb.url,
        "create",
        meetingID="hooked",
        meta_endCallbackUrl=receiver.url + "/ended?x=1",
        meetingEndedURL=receiver.url + "/ended2",
    )
    person = await join_with_ticket(
        bbb,
        url(
            bbb.url,
            "join",
            meetingID="hooked",
            fullName="Hu",
            role="VIEWER",
            userID="u-7",
        ),
    )
    await person.close()
    kinds = ["meeting-created", "user-joined", "user-left"]
    receiver.wait_for(lambda: [e["data"]["id"] for e in receiver.events()] == kinds)
    call(bbb.url, "end", meetingID="hooked")
    receiver.wait_for(lambda: len(receiver.events()) == 4)
    receiver.wait_for(lambda: len(receiver.requests) == 6)

    events = receiver.events()
    assert events[-1]["data"]["id"] == "meeting-ended"
    joined = events[1]["data"]["attributes"]
    assert joined["meeting"]["external-meeting-id"] == "hooked"
    assert joined["user"]["external-user-id"] == "u-7"
    assert joined["user"]["role"] == "VIEWER"
    for method, path, body in receiver.requests:
        if method != "POST":
            continue
        query = parse_qs(urlsplit(path).query)
        wanted = hashlib.sha1((hook_url + body.decode() + SECRET).encode())
        assert query["checksum"] == [wanted.hexdigest()]
        assert set(parse_qs(body.decode())) == {"domain", "event", "timestamp"}
    ends = sorted(p for m, p, _ in receiver.requests if m == "GET")
    assert ends[0].startswith("/ended2?meetingID=hooked&recordingmarks=false")
    assert ends[1].startswith("/ended?x=1&meetingID=hooked&recordingmarks=false")

    removed = call(bbb.url, "hooks/destroy", hookID=text(created, "hookID"))
    assert text(removed, "removed") == "true"


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
