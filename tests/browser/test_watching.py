"""Watching is activity, within limits: only while the video can still be playing, and only in sight.

Embedded players come from tests/support/players.py: one that reports its state as YouTube's
player does, and one that says nothing. The inactivity timeout is 3 s (see conftest.py), so
everything past the first seconds below is watching, or nothing.
"""
import time

import pytest

from support.browser import HIDE
from support.media import make_webm, place_lens, write_lens
from support.players import serve_fake_youtube, serve_silent_player

MODULE = "how-memory-works"
VIDEO = "focused-and-diffuse-thinking"
SHORT_VIDEO_S = 8


@pytest.fixture
def content_dir(editable_content):
    """The demo course, with its video cut to 8 s, so that the end of watching comes within a test,
    and a lens that plays a 12 s WebM from the content directory, made for the test."""
    path = editable_content / "lenses" / f"{VIDEO}.md"
    path.write_text(path.read_text().replace("duration_s: 1060", f"duration_s: {SHORT_VIDEO_S}"))
    make_webm(editable_content / "media" / "clip.webm", seconds=12)
    write_lens(editable_content, "a-short-clip", "## Transcript\n\nA short clip, for watching.",
               type="video", video_url="media/clip.webm", duration_s=12)
    place_lens(editable_content, "a-short-clip")
    return editable_content


def lens_seconds(learner_rows, page) -> int:
    lens_id = page.locator("#tracker").get_attribute("data-lens-id")
    return learner_rows().get(lens_id, {}).get("total_time_spent_s", 0)


@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=1, TRACKER_INACTIVITY_TIMEOUT_S=3, TRACKER_BURST_S=5)
def test_a_player_that_reports_nothing_counts_while_it_holds_the_focus_for_at_most_the_video_length(
    page, heartbeats, learner_rows, wait_until, screenshot
):
    serve_silent_player(page)
    page.goto(f"/modules/{MODULE}/{VIDEO}")
    page.frame_locator("iframe[data-tracker-player]").locator("#play").click()
    clicked = time.monotonic()
    wait_until(lambda: page.evaluate("document.activeElement.tagName") == "IFRAME", page=page,
               message="the focus to be in the player")
    assert page.evaluate("tracker.watching()")
    page.wait_for_timeout(5000)  # past the 3 s timeout: still watching
    assert page.evaluate("tracker.isActive()")
    screenshot(page, "watching-focus", note=(
        f"a player with no events, focused 5 s ago, inactivity timeout 3 s: still active\n"
        f"counting stops {SHORT_VIDEO_S} s after the click, the video's length"))
    wait_until(lambda: not page.evaluate("tracker.isActive()"), timeout=10, page=page, message="the video's length to pass")
    stopped = time.monotonic() - clicked
    assert SHORT_VIDEO_S - 1 <= stopped <= SHORT_VIDEO_S + 1.5, stopped
    page.wait_for_timeout(2000)
    assert page.evaluate("document.activeElement.tagName") == "IFRAME", "the player still has the focus"
    page.evaluate(HIDE)
    credited = wait_until(lambda: lens_seconds(learner_rows, page) >= SHORT_VIDEO_S - 1 and lens_seconds(learner_rows, page),
                          page=page, message="the watched seconds in the database")
    assert credited <= SHORT_VIDEO_S + 2, credited  # the load and the click, then the video's length; no more


@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=1, TRACKER_INACTIVITY_TIMEOUT_S=3, TRACKER_BURST_S=5)
def test_a_video_that_plays_to_its_end_stops_counting_there(page, learner_rows, wait_until):
    serve_fake_youtube(page, duration_s=SHORT_VIDEO_S)
    page.goto(f"/modules/{MODULE}/{VIDEO}")
    frame = page.frame_locator("iframe[data-tracker-player]")
    frame.locator("#play").click()
    clicked = time.monotonic()
    wait_until(lambda: page.evaluate("tracker.watching()"), page=page, message="the page to hear the player play")
    wait_until(lambda: not page.evaluate("tracker.isActive()"), timeout=15, page=page, message="the video to end")
    assert SHORT_VIDEO_S - 1 <= time.monotonic() - clicked <= SHORT_VIDEO_S + 1.5
    page.evaluate(HIDE)
    credited = wait_until(lambda: lens_seconds(learner_rows, page) >= SHORT_VIDEO_S - 1 and lens_seconds(learner_rows, page),
                          page=page, message="the watched seconds in the database")
    assert credited <= SHORT_VIDEO_S + 2, credited


@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=1, TRACKER_INACTIVITY_TIMEOUT_S=3, TRACKER_BURST_S=5)
def test_a_video_playing_in_a_hidden_tab_counts_nothing(page, received, learner_rows, wait_until):
    serve_fake_youtube(page)
    page.goto(f"/modules/{MODULE}/{VIDEO}")
    page.frame_locator("iframe[data-tracker-player]").locator("#play").click()
    wait_until(lambda: page.evaluate("tracker.watching()"), page=page, message="the page to hear the player play")
    page.wait_for_timeout(1500)
    page.evaluate(HIDE)
    page.wait_for_timeout(1500)  # the flush of the last unsent second, if there was one, lands
    wait_until(lambda: all(r.status for r in received), page=page, message="every heartbeat answered")
    before, sent_before = lens_seconds(learner_rows, page), len(received)
    page.wait_for_timeout(5000)
    assert page.evaluate("tracker.watching()"), "the player still plays"
    assert not page.evaluate("tracker.isActive()"), "but nobody can see it"
    assert len(received) == sent_before and page.evaluate("tracker.pendingSeconds()") == 0
    assert lens_seconds(learner_rows, page) == before <= 4, before


@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=1, TRACKER_INACTIVITY_TIMEOUT_S=3, TRACKER_BURST_S=5)
def test_a_playing_video_file_is_activity_and_a_paused_one_is_not(page, learner_rows, wait_until, screenshot):
    page.goto(f"/modules/{MODULE}/a-short-clip")
    video = page.locator("video")
    assert video.get_attribute("src") == "/media/media/clip.webm"
    video.evaluate("v => { v.muted = true; return v.play(); }")  # no input on the page: only the playing counts
    started = time.monotonic()
    wait_until(lambda: page.evaluate("tracker.watching()"), page=page, message="the page to see the video play")
    page.wait_for_timeout(6000)  # twice the inactivity timeout
    assert page.evaluate("tracker.isActive()"), "playing keeps the learner active"
    screenshot(page, "watching-video-file", note="a WebM from the content directory, playing; nothing touched for 6 s: active")
    video.evaluate("v => v.pause()")
    paused = time.monotonic()
    assert not page.evaluate("tracker.isActive()"), "paused: not active, at once"
    page.evaluate(HIDE)
    truth = paused - started
    credited = wait_until(lambda: lens_seconds(learner_rows, page) >= truth - 1.5 and lens_seconds(learner_rows, page),
                          page=page, message=f"about {truth:.0f} s in the database")
    assert credited <= truth + 3.5, (credited, truth)  # the first 3 s after the load count as reading
