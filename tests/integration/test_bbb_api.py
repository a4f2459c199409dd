"""The BigBlueButton-compatible API, driven by BigBlueButton clients that
nobody here wrote (bigbluebutton-api-python, bbbctl, bigbluebutton-js) and
by hand for what they do not send: every checksum algorithm, POST with an
XML body, bad requests, the mapped create parameters and webhooks. The
recording calls are in test_bbb_recordings.py."""

from __future__ import annotations

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

import pytest
from bigbluebutton_api_python import BigBlueButton
from bigbluebutton_api_python.exception.bbbexception import BBBException

from tests.bbb.client import (
    JS_CLIENT,
    SECRET,
    call,
    failed,
    fetch,
    follow_join,
    join_with_ticket,
    meeting_ids,
    text,
    url,
)
from tests.server import RunningServer
from tests.signalling import Client

BBBCTL = Path(sys.executable).with_name("bbbctl")


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
