"""Time truth in a real browser: three ordinary learners whose every active second is credited.

Each learner does what a reader does, at a shortened heartbeat interval and inactivity timeout,
with the other protections as an operator sets them: a burst of a few intervals, the rate limits
on. The test keeps its own clock of when the learner was active, and the database must hold that
time to within one heartbeat interval, on the lens, its LO and its module alike.
"""
import time

import pytest

from support.browser import HIDE
from support.players import serve_fake_youtube
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content

INDEX = load_content(DEMO_CONTENT_DIR)
MODULE = "how-memory-works"
ARTICLE = "memory-in-three-stages"
VIDEO = "focused-and-diffuse-thinking"  # a YouTube video lens of 1,060 s


def levels(lens_name: str) -> tuple[str, str, str]:
    module = INDEX.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == lens_name)
    return str(section.lens.id), str(section.outcome.id), str(module.id)


def totals(time_spent, lens_name: str) -> tuple[int, int, int]:
    spent = time_spent()
    return tuple(spent.get(key, 0) for key in levels(lens_name))


def keep_reading(page, seconds: float) -> None:
    """Scroll and move the mouse now and then, as a reader does, for `seconds`."""
    deadline = time.monotonic() + seconds
    step = 0
    while time.monotonic() < deadline:
        page.mouse.move(200 + 40 * (step % 5), 300 + 25 * (step % 3))
        step += 1
        page.wait_for_timeout(min(500, max(1, (deadline - time.monotonic()) * 1000)))


def leave(page) -> float:
    """Hide the tab, so that the page sends what it has not sent yet; return when that happened."""
    page.evaluate(HIDE)
    return time.monotonic()


# interval 3 s, burst 10 s: the first learner of the issue.
@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=3, TRACKER_INACTIVITY_TIMEOUT_S=6, TRACKER_BURST_S=10)
def test_seconds_read_offline_are_credited_in_full_once_back_online(
    page, context, heartbeats, received, time_spent, wait_until, screenshot
):
    page.goto(f"/modules/{MODULE}/{ARTICLE}")
    started = time.monotonic()
    keep_reading(page, 6)

    context.set_offline(True)
    offline_at = time.monotonic()
    keep_reading(page, 30)
    queued = page.evaluate("tracker.queue()")
    assert queued and sum(entry["seconds"] for entry in queued) >= 25, queued
    screenshot(page, "truth-offline", note=(
        f"offline for {time.monotonic() - offline_at:.0f} s, still reading: "
        f"{sum(e['seconds'] for e in queued)} s in the retry queue, in {len(queued)} chunk(s)"))

    context.set_offline(False)
    keep_reading(page, 6)
    left = leave(page)
    truth = left - started
    wait_until(lambda: page.evaluate("tracker.queue()") == [], page=page, message="the queue to empty")
    wait_until(lambda: all(r.status for r in received), page=page, message="every heartbeat answered")

    backlog = [r for r in received if "backlog_age_s" in r.body]
    assert backlog and all(r.status == 204 and r.credited == r.seconds for r in backlog), backlog
    assert max(r.body["backlog_age_s"] for r in backlog) >= 28  # the oldest queued second, on the page's clock
    credited = wait_until(lambda: (t := totals(time_spent, ARTICLE)) and t[0] >= truth - 3 and t, page=page,
                          message=f"the lens to hold about {truth:.0f} s")
    assert credited[0] == credited[1] == credited[2], credited
    assert abs(credited[0] - truth) <= 3, (credited, truth)  # within one heartbeat interval
    assert not [h for h in heartbeats.all if h.failure and h.resource_type == "xhr"], "nothing was sent while offline"
    screenshot(page, "truth-back-online", note=(
        f"6 s online, {left - offline_at - 6:.0f} s offline, 6 s online: active {truth:.1f} s\n"
        f"database: lens {credited[0]} s · LO {credited[1]} s · module {credited[2]} s\n"
        f"the backlog went out as {len(backlog)} chunk(s), ages "
        f"{', '.join(str(r.body['backlog_age_s']) + ' s' for r in backlog)}, each credited in full"))


# interval 30 s: the first heartbeat would come after the learner has already clicked.
@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=30, TRACKER_INACTIVITY_TIMEOUT_S=60, TRACKER_BURST_S=90)
def test_marking_complete_before_the_first_heartbeat_counts_the_seconds_read(
    page, heartbeats, learner_rows, wait_until, screenshot
):
    page.goto(f"/modules/{MODULE}/{ARTICLE}")
    started = time.monotonic()
    keep_reading(page, 10)
    assert heartbeats.all == [], "no heartbeat before the interval"
    page.evaluate("window.samePage = true")
    clicked = time.monotonic()
    page.get_by_role("button", name="Mark complete").click()
    page.locator("#completion .done").wait_for()
    assert page.evaluate("window.samePage === true")

    lens_id, lo_id, module_id = levels(ARTICLE)
    rows = learner_rows()
    truth = clicked - started
    assert abs(rows[lens_id]["time_to_complete_s"] - truth) <= 1.5, (rows[lens_id], truth)
    assert rows[lens_id]["total_time_spent_s"] == rows[lens_id]["time_to_complete_s"]
    assert rows[lo_id]["total_time_spent_s"] == rows[module_id]["total_time_spent_s"] == rows[lens_id]["total_time_spent_s"]
    # The seconds sent with the completion left the page's count: they are not sent again.
    assert page.evaluate("tracker.pendingSeconds()") <= 2
    assert "after 10 s" in page.locator("#completion").inner_text() or "after 9 s" in page.locator("#completion").inner_text()
    screenshot(page, "truth-complete-before-heartbeat", note=(
        f"read for {truth:.1f} s, clicked Mark complete before the first heartbeat (interval 30 s)\n"
        f"time_to_complete_s = {rows[lens_id]['time_to_complete_s']} (lens, LO and module hold it)"))


# interval 3 s, timeout 6 s: watching for 20 s is far past the timeout.
@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=3, TRACKER_INACTIVITY_TIMEOUT_S=6, TRACKER_BURST_S=10)
def test_watching_an_embedded_video_without_touching_the_page_is_active_time(
    page, heartbeats, received, time_spent, wait_until, screenshot
):
    player = serve_fake_youtube(page)
    page.goto(f"/modules/{MODULE}/{VIDEO}")
    started = time.monotonic()
    keep_reading(page, 3)
    frame = page.frame_locator("iframe[data-tracker-player]")
    frame.locator("#play").click()  # inside the player: the page itself sees no input from here on
    wait_until(lambda: page.evaluate("tracker.watching()"), page=page, message="the page to hear the player play")
    page.wait_for_timeout(20_000)
    assert page.evaluate("tracker.isActive()"), "still watching, 20 s after the last input on the page"
    screenshot(page, "truth-watching", note=(
        "clicked play in the player, then 20 s without touching the page (inactivity timeout 6 s)\n"
        f"tracker.isActive() = true · {len(heartbeats)} heartbeats so far"))

    frame.locator("#pause").click()
    paused = time.monotonic()
    wait_until(lambda: not page.evaluate("tracker.watching()"), page=page, message="pausing to stop the count")
    assert not page.evaluate("tracker.isActive()"), "paused: the count stops at once"
    page.wait_for_timeout(4000)
    late = [h for h in heartbeats.all if h.at > paused + 1]
    assert late == [], f"nothing is sent once paused: {late}"
    leave(page)
    truth = paused - started
    wait_until(lambda: all(r.status for r in received), page=page, message="every heartbeat answered")
    credited = wait_until(lambda: (t := totals(time_spent, VIDEO)) and t[0] >= truth - 3 and t, page=page,
                          message=f"the lens to hold about {truth:.0f} s")
    assert credited[0] == credited[1] == credited[2], credited
    assert abs(credited[0] - truth) <= 3, (credited, truth)
    assert player.messages_from_page, "the page told the player it listens"
    screenshot(page, "truth-watched", note=(
        f"3 s reading, {paused - started - 3:.0f} s watching, then pause: active {truth:.1f} s\n"
        f"database: lens {credited[0]} s · LO {credited[1]} s · module {credited[2]} s"))
