"""People who follow a BigBlueButton join link in Chromium land in the
meeting straight away, with the role the link asked for, and the API lists
them as attendees."""

from __future__ import annotations

import pytest

from tests.bbb.client import SECRET, call, url
from tests.browser.test_meeting import joined, sees_video_of, until
from tests.server import RunningServer


@pytest.fixture
def bbb(tmp_path):
    running = RunningServer(
        tmp_path / "data", "--bbb-secret", SECRET, temporary_rooms=False
    ).start()
    yield running
    running.stop()


async def test_join_links_land_a_moderator_and_an_attendee_in_the_meeting(
    bbb, new_page
):
    call(bbb.url, "create", meetingID="lms-7", name="Biology", moderatorPW="mp")
    teacher = await new_page(
        url(bbb.url, "join", meetingID="lms-7", fullName="Prof Oak", password="mp")
    )
    teacher_id = await joined(teacher)
    pupil = await new_page(
        url(bbb.url, "join", meetingID="lms-7", fullName="Ash", role="VIEWER")
    )
    pupil_id = await joined(pupil)

    # Straight in: the name is the link's, the role the one it asked for.
    assert await teacher.evaluate("smeeton.state().role") == "moderator"
    assert await pupil.evaluate("smeeton.state().role") == "attendee"
    assert await pupil.input_value("#name") == "Ash"
    assert "/r/" in pupil.url
    await sees_video_of(teacher, {pupil_id})
    await sees_video_of(pupil, {teacher_id})

    async def attendees():
        info = call(bbb.url, "getMeetingInfo", meetingID="lms-7")
        found = {
            a.findtext("fullName"): a.findtext("role") for a in info.iter("attendee")
        }
        return found if len(found) == 2 else None

    listed = await until("both attendees listed", attendees)
    assert listed == {"Prof Oak": "MODERATOR", "Ash": "VIEWER"}
    info = call(bbb.url, "getMeetingInfo", meetingID="lms-7")
    assert info.findtext("running") == "true"
    assert info.findtext("moderatorCount") == "1"

    # Ending it through the API ends it in the browsers.
    call(bbb.url, "end", meetingID="lms-7")
    for page in (teacher, pupil):
        await until(
            "the ended view",
            lambda page=page: page.evaluate("document.body.dataset.view === 'ended'"),
        )


async def test_leaving_a_meeting_created_with_logout_url_goes_there(bbb, new_page):
    goodbye = f"{bbb.url}/test?goodbye=1"
    call(bbb.url, "create", meetingID="lms-8", name="Chem", logoutURL=goodbye)
    pupil = await new_page(
        url(bbb.url, "join", meetingID="lms-8", fullName="Misty", role="VIEWER")
    )
    await joined(pupil)

    await pupil.get_by_role("button", name="Leave").click()
    await pupil.wait_for_url(goodbye, timeout=10000)
