"""Time tracking in a real browser: a lens page, htmx heartbeats and tracker.js, down to the database.

The app sends a heartbeat every second and counts a learner inactive after 3 s without activity
(see conftest.py). Every test saves a screenshot in tests/screenshots/. Waits are bounded polls;
the only fixed waits are the quiet spells that show that nothing is sent.
"""
import pytest

from support.browser import HIDE, SHOW, stay_active
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content

MODULE = "how-memory-works"
FIRST, SECOND = "memory-in-three-stages", "working-memory-limits"
QUIET_S = 4  # longer than the heartbeat interval plus the inactivity timeout's slack


@pytest.fixture(scope="module")
def index():
    return load_content(DEMO_CONTENT_DIR)


@pytest.fixture
def lens_url():
    return lambda slug, name: f"/modules/{slug}/{name}"


def ids(index, slug: str, name: str) -> dict:
    """What a heartbeat for this lens of this module must carry."""
    module = index.modules_by_slug[slug]
    section = next(s for s in module.sections if s.lens.name == name)
    return {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id)}


def is_active(page) -> bool:
    return page.evaluate("window.tracker.isActive()")


def totals(time_spent, lens: dict) -> tuple:
    """(lens, LO, module) time in the database."""
    spent = time_spent()
    return tuple(spent.get(lens[key], 0) for key in ("content_id", "lo_id", "module_id"))


def state(page) -> str:
    """tracker.js's view, for screenshot notes."""
    active, pending, queue = page.evaluate("[tracker.isActive(), tracker.pendingSeconds(), tracker.queue()]")
    queued = ", ".join(f"{entry['seconds']} s" for entry in queue) or "empty"
    return f"tracker.isActive() = {str(active).lower()} · unsent {pending} s · retry queue: {queued}"


def rows_note(time_spent, lens: dict) -> str:
    lens_s, lo_s, module_s = totals(time_spent, lens)
    return f"database: lens {lens_s} s · LO {lo_s} s · module {module_s} s"


def quiet_spell(page, heartbeats, seconds: float = QUIET_S) -> list:
    """Wait `seconds` without touching the page; return the heartbeats sent meanwhile."""
    before = len(heartbeats)
    page.wait_for_timeout(seconds * 1000)
    return heartbeats.since(before)


def test_heartbeats_carry_the_lens_lo_and_module_and_all_three_rows_hold_the_time(
    page, heartbeats, time_spent, wait_until, screenshot, index, lens_url
):
    lens = ids(index, MODULE, FIRST)
    page.goto(lens_url(MODULE, FIRST))
    stay_active(page, lambda: sum(h.delivered for h in heartbeats.all) >= 3, message="three delivered heartbeats")

    for heartbeat in heartbeats.all:
        assert heartbeat.resource_type == "xhr", heartbeat  # sent by htmx, as a form
        assert {key: heartbeat.body[key] for key in lens} == lens
        assert 1 <= heartbeat.seconds <= 120
    # The rows hold what the delivered heartbeats carried, the same on all three levels.
    expected = lambda: heartbeats.seconds(delivered_only=True)
    wait_until(lambda: totals(time_spent, lens) == (expected(),) * 3, page=page,
               message=f"lens, LO and module rows to hold the heartbeats' {expected()} s")
    assert expected() >= 3
    # The module's progress, rendered by the server on a fresh load, shows the time too.
    page.reload()
    screenshot(page, "tracking-heartbeats", note=(
        f"{sum(h.delivered for h in heartbeats.all)} heartbeats delivered (htmx, form-encoded)\n"
        f"content_id / lo_id / module_id as in the content index\n{rows_note(time_spent, lens)}"))


def test_inactivity_stops_heartbeats_and_activity_starts_them_again(
    page, heartbeats, time_spent, wait_until, screenshot, index, lens_url
):
    page.goto(lens_url(MODULE, FIRST))
    stay_active(page, lambda: len(heartbeats) >= 1, message="a first heartbeat")

    # Hands off: the learner goes inactive after the timeout, and then nothing more is sent.
    wait_until(lambda: not is_active(page), timeout=10, page=page, message="the learner to go inactive")
    page.wait_for_timeout(1500)  # a heartbeat already on its way may still land
    assert quiet_spell(page, heartbeats) == []
    assert not is_active(page)
    screenshot(page, "tracking-inactive", note=(
        f"no activity for over 3 s: no heartbeat in the last {QUIET_S} s\n{state(page)}"))

    # A mouse move makes the learner active again and heartbeats resume.
    before = len(heartbeats)
    page.mouse.move(400, 400)
    page.mouse.move(420, 430)
    assert is_active(page)
    heartbeats.wait_for(page, before + 1)

    # So does a key press, after another inactive spell.
    wait_until(lambda: not is_active(page), timeout=10, page=page, message="the learner to go inactive again")
    page.wait_for_timeout(1500)
    before = len(heartbeats)
    page.keyboard.press("ArrowDown")
    assert is_active(page)
    heartbeats.wait_for(page, before + 1)
    lens = ids(index, MODULE, FIRST)
    assert all(h.body["content_id"] == lens["content_id"] for h in heartbeats.all)
    screenshot(page, "tracking-active-again", note=(
        f"a mouse move, later a key press: heartbeats resumed each time\n{state(page)}\n"
        f"{len(heartbeats)} heartbeats in all · {rows_note(time_spent, lens)}"))


# A long inactivity timeout: here only the hidden tab may stop the heartbeats.
@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=3, TRACKER_INACTIVITY_TIMEOUT_S=60)
def test_a_hidden_tab_flushes_once_then_sends_nothing_until_visible_again(
    page, heartbeats, time_spent, wait_until, screenshot, index, lens_url
):
    lens = ids(index, MODULE, FIRST)
    page.goto(lens_url(MODULE, FIRST))
    # Hide the tab between two heartbeats, with a second or more not yet sent.
    stay_active(page, lambda: any(h.delivered for h in heartbeats.all) and page.evaluate("tracker.pendingSeconds()") >= 1,
                message="a heartbeat, then a second not yet sent")
    before = len(heartbeats)
    page.evaluate(HIDE)

    # Exactly one flush of the unsent seconds, as a beacon, then silence while hidden.
    heartbeats.wait_for(page, before + 1)
    page.wait_for_timeout(QUIET_S * 1000)  # more than a heartbeat interval
    flush = heartbeats.since(before)
    assert len(flush) == 1, flush
    assert flush[0].resource_type == "ping" and flush[0].content_type == "text/plain", flush[0]
    assert {key: flush[0].body[key] for key in lens} == lens
    assert flush[0].body["time_delta_s"] >= 1
    page.mouse.move(300, 300)  # activity in a hidden tab does not count either
    assert not is_active(page)
    assert quiet_spell(page, heartbeats) == []
    assert page.evaluate("tracker.pendingSeconds()") == 0
    # Everything sent so far arrived, on all three levels.
    sent = heartbeats.seconds()
    wait_until(lambda: totals(time_spent, lens) == (sent,) * 3, page=page,
               message=f"the rows to hold the {sent} s sent, the flush included")

    # Visible and active again: heartbeats resume.
    page.evaluate(SHOW)
    before = len(heartbeats)
    stay_active(page, lambda: len(heartbeats) > before, message="heartbeats to resume")
    assert heartbeats.all[-1].resource_type == "xhr"
    screenshot(page, "tracking-hidden-then-visible", note=(
        f"tab hidden: one beacon of {flush[0].seconds} s, then nothing for {QUIET_S} s\n"
        f"visible and active again: heartbeats resumed\n{rows_note(time_spent, lens)}"))


@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=4, TRACKER_INACTIVITY_TIMEOUT_S=30)
def test_navigating_to_the_next_lens_sends_the_last_partial_interval(
    page, heartbeats, received, time_spent, wait_until, screenshot, index, lens_url
):
    first, second = ids(index, MODULE, FIRST), ids(index, MODULE, SECOND)
    page.goto(lens_url(MODULE, FIRST))
    stay_active(page, lambda: any(r.status == 204 for r in received), message="a first delivered heartbeat")
    # Half an interval later, the learner moves on with some seconds not yet sent.
    stay_active(page, lambda: page.evaluate("tracker.pendingSeconds()") >= 2, message="2 s not yet sent")
    before = len(received)
    for_first = lambda: [r for r in received[before:] if r.body.get("content_id") == first["content_id"]]

    page.click(f'a[rel="next"][href$="/{SECOND}"]')
    page.wait_for_url(f"**/{SECOND}")
    # The partial interval reaches the server once, as a beacon, for the first lens, all three levels.
    wait_until(for_first, page=page, message="the first lens's last partial interval")
    page.wait_for_timeout(1500)
    last = for_first()
    assert len(last) == 1, last  # hidden and pagehide both fire on navigation: still one flush
    assert last[0].content_type == "text/plain" and last[0].sec_fetch_mode == "no-cors", last[0]
    assert {key: last[0].body[key] for key in first} == first
    assert last[0].seconds >= 2 and last[0].status == 204, last[0]
    # The first lens's total grew to include it; its LO and module (which the second lens shares)
    # hold that and whatever the second lens sent since.
    credited_before = sum(r.credited for r in received[:before] if r.body["content_id"] == first["content_id"])
    assert credited_before >= 1 and last[0].credited == last[0].seconds

    def expected():
        lens_total = sum(r.credited or 0 for r in received if r.body.get("content_id") == first["content_id"])
        shared = sum(r.credited or 0 for r in received if r.body.get("lo_id") == first["lo_id"])
        return (lens_total, shared, shared)

    wait_until(lambda: totals(time_spent, first) == expected(), page=page,
               message=f"the first lens to hold {credited_before} + {last[0].seconds} s")
    assert totals(time_spent, first)[0] == credited_before + last[0].seconds

    # The new page tracks the second lens.
    stay_active(page, lambda: any(r.body.get("content_id") == second["content_id"] for r in received),
                message="a heartbeat for the second lens")
    screenshot(page, "tracking-navigated", note=(
        f"on leaving the first lens: one beacon of {last[0].seconds} s (the partial interval)\n"
        f"first lens in the database: {credited_before} s + {last[0].seconds} s = "
        f"{totals(time_spent, first)[0]} s\nthis page now sends heartbeats for the second lens"))


@pytest.mark.app_config(TRACKER_MAX_DELTA_S=5)
def test_offline_seconds_are_queued_in_chunks_and_delivered_once_back_online(
    page, context, heartbeats, received, time_spent, wait_until, screenshot, index, lens_url
):
    lens = ids(index, MODULE, FIRST)
    page.goto(lens_url(MODULE, FIRST))
    stay_active(page, lambda: any(h.delivered for h in heartbeats.all), message="a first delivered heartbeat")

    # Offline, the page sends nothing: the seconds go to the queue, in chunks of at most max-delta
    # (5 s here), never yet sent, each with its own id and the moment its oldest second was accrued.
    context.set_offline(True)
    sent_before = len(heartbeats)
    stay_active(page, lambda: sum(e["seconds"] for e in page.evaluate("tracker.queue()")) >= 12,
                message="12 s queued offline")
    queue = page.evaluate("tracker.queue()")
    assert len(heartbeats) == sent_before, "nothing is sent while offline"
    assert all({key: entry[key] for key in lens} == lens for entry in queue), queue
    assert all(1 <= entry["seconds"] <= 5 and not entry["sent"] for entry in queue), queue
    assert len({entry["chunk_id"] for entry in queue}) == len(queue)
    assert [e["accrued_at"] for e in queue] == sorted(e["accrued_at"] for e in queue), "oldest first"
    queued = sum(entry["seconds"] for entry in queue)
    screenshot(page, "tracking-offline-queued", note=(
        f"offline: nothing sent, {queued} s kept in localStorage in {len(queue)} chunks of at most 5 s\n{state(page)}"))

    context.set_offline(False)
    stay_active(page, lambda: page.evaluate("tracker.queue()") == [], message="the queue to empty")
    retries = [r for r in received if r.content_type == "application/json" and "backlog_age_s" in r.body]
    wait_until(lambda: all(r.status for r in retries), page=page, message="the retries to be answered")
    # Each queued chunk went out once, oldest first, with its id and its age, and was credited in full.
    assert [r.body["chunk_id"] for r in retries][:len(queue)] == [e["chunk_id"] for e in queue]
    assert [r.body["backlog_age_s"] for r in retries] == sorted((r.body["backlog_age_s"] for r in retries), reverse=True)
    assert all(r.status == 204 and r.credited == r.seconds for r in retries), retries
    # Nothing lost and nothing doubled: the rows hold exactly what the server credited.
    wait_until(lambda: all(r.status for r in received), page=page, message="every heartbeat answered")
    credited = lambda: sum(r.credited or 0 for r in received)
    wait_until(lambda: totals(time_spent, lens) == (credited(),) * 3, page=page,
               message="the rows to hold every credited second")
    assert sum(r.seconds for r in received if r.status == 204) == credited()
    screenshot(page, "tracking-back-online", note=(
        f"back online: the {queued} queued s went out as {len(retries)} chunk(s), oldest first, each credited once\n"
        f"{state(page)}\n{rows_note(time_spent, lens)}"))


@pytest.mark.app_config(TRACKER_HEARTBEAT_INTERVAL_S=2, TRACKER_INACTIVITY_TIMEOUT_S=30)
def test_a_heartbeat_whose_answer_is_lost_is_sent_again_and_credited_once(
    page, heartbeats, received, time_spent, wait_until, screenshot, index, lens_url
):
    """The server credits a heartbeat, the answer never reaches the page, the page sends it again."""
    lens = ids(index, MODULE, FIRST)
    lost = []

    def lose_the_answer(route):
        if route.request.resource_type == "xhr" and len(lost) < 2:
            route.fetch()  # it reaches the server, which credits it ...
            lost.append(route.request.post_data)
            route.abort("connectionreset")  # ... and the page sees the connection drop
        else:
            route.continue_()

    page.route("**/api/progress/time", lose_the_answer)
    page.goto(lens_url(MODULE, FIRST))
    stay_active(page, lambda: len(lost) == 2 and page.evaluate("tracker.queue()") == []
                and any(r.body.get("backlog_age_s") is not None for r in received),
                message="two lost answers, and their chunks sent again", timeout=30)
    wait_until(lambda: all(r.status for r in received), page=page, message="every heartbeat answered")

    by_chunk = {}
    for r in received:
        by_chunk.setdefault(int(r.body["chunk_id"]), []).append(r)  # a string in a form, a number in JSON
    repeated = {chunk: rs for chunk, rs in by_chunk.items() if len(rs) > 1}
    assert len(repeated) >= 1, by_chunk
    for chunk, deliveries in repeated.items():
        assert [r.credited for r in deliveries] == [deliveries[0].seconds] + [0] * (len(deliveries) - 1), deliveries
    credited = sum(r.credited or 0 for r in received)
    wait_until(lambda: totals(time_spent, lens) == (credited,) * 3, page=page, message="the rows to hold each chunk once")
    assert credited == sum(rs[0].seconds for rs in by_chunk.values())  # every chunk once, none twice
    assert any("credited 0 of the" in m for m in page.console_messages), page.console_messages
    screenshot(page, "tracking-lost-answer", note=(
        f"{len(lost)} answers lost on the way back: {len(repeated)} chunk(s) sent again, credited 0 the second time\n"
        f"{rows_note(time_spent, lens)} = each chunk once"))


@pytest.mark.app_config(TRACKER_MAX_DELTA_S=60, TRACKER_BURST_S=1000)
def test_the_queue_left_by_an_earlier_visit_is_sent_on_load_in_max_delta_chunks(
    page, heartbeats, received, time_spent, wait_until, screenshot, index, lens_url
):
    """Seconds queued on an earlier visit go out on the next page load, at most max-delta per
    request; an entry the server refuses (an unknown lens) is dropped with a warning."""
    first, other = ids(index, MODULE, FIRST), ids(index, MODULE, "the-forgetting-curve")
    unknown = {**first, "content_id": "00000000-0000-4000-8000-000000000000"}
    page.goto(lens_url(MODULE, FIRST))
    queue = [
        {**other, "url": "/api/progress/time", "seconds": 150, "attempts": 3, "retry_at": 0},
        {**unknown, "url": "/api/progress/time", "seconds": 5, "attempts": 0, "retry_at": 0},
    ]
    page.evaluate("queue => localStorage.setItem('tracker.queue', JSON.stringify(queue))", queue)
    before = len(received)
    page.reload()

    wait_until(lambda: page.evaluate("tracker.queue()") == [], page=page, message="the queue to empty")
    retried = [r for r in received[before:] if r.content_type == "application/json"]
    assert [r.seconds for r in retried if r.body["content_id"] == other["content_id"]] == [60, 60, 30]
    assert [(r.seconds, r.status) for r in retried if r.body["content_id"] == unknown["content_id"]] == [(5, 404)]
    wait_until(lambda: any("refused" in m and "HTTP 404" in m for m in page.console_messages), page=page,
               message="a warning about the refused entry")
    # The lens, its LO and module got the 150 s (the LO and module also hold this page's time).
    wait_until(lambda: totals(time_spent, other)[0] == 150, page=page, message="150 s on the other lens")
    _, lo_s, module_s = totals(time_spent, other)
    assert lo_s >= 150 and module_s >= 150
    screenshot(page, "tracking-queue-on-load", note=(
        "queued on an earlier visit: 150 s for another lens, 5 s for an unknown lens\n"
        "on load: sent as 60 + 60 + 30 s (max delta 60); the unknown lens got 404 and was dropped\n"
        f"{state(page)}\n{rows_note(time_spent, other)} (LO and module include this page's time)"))
