"""The tutor chat in a real browser: a streamed answer keeps a silent learner's heartbeats going.

The app counts a learner inactive after 3 s without activity (see conftest.py). The learner sends
one message and then does nothing while a fake OpenAI-compatible server streams a slow answer for
longer than that; every chunk counts as activity, so heartbeats go on until the stream ends and
stop a little later. A screenshot of the panel is saved to tests/screenshots/chat.png.
"""
import time
from pathlib import Path

import pytest
from support.fake_openai import FakeOpenAI

from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content

MODULE, LENS = "how-memory-works", "talk-through-how-memory-works"
INACTIVITY_S = 3
ANSWER = (
    "Good start! ", "Rereading makes the words **familiar**, ", "and familiarity feels like knowing. ",
    "But memory is a process, ", "not a recording: ", "what you read is encoded, ", "consolidated over time, ",
    "and has to be *retrieved* ", "when you need it. ", "Forgetting is fast at first, ", "then slows down, ",
    "and each review you do ", "by recalling, not rereading, ", "flattens the curve.\n\n",
    "> Recall without notes is the honest test.\n\n", "So: how could your friend check ", "whether they really know the chapter?",
)
SCREENSHOTS_DIR = Path(__file__).resolve().parents[1] / "screenshots"
CHUNK_DELAY_S = 0.5  # the answer takes about 8 s, well past the inactivity timeout

FAKE = FakeOpenAI(chunks=ANSWER, delay_s=CHUNK_DELAY_S)
pytestmark = pytest.mark.app_config(
    TRACKER_LLM_BASE_URL=FAKE.url, TRACKER_LLM_MODEL="fake-model", TRACKER_INACTIVITY_TIMEOUT_S=INACTIVITY_S
)


@pytest.fixture(scope="module")
def fake_llm():
    with FAKE:
        yield FAKE


def lens_id() -> str:
    return str(load_content(DEMO_CONTENT_DIR).lenses_by_name[LENS].id)


def test_a_streamed_answer_keeps_a_silent_learner_active_until_it_ends(
    fake_llm, page, heartbeats, time_spent, wait_until, screenshot
):
    page.goto(f"/modules/{MODULE}/{LENS}")
    mark_complete = page.get_by_role("button", name="Mark complete")
    assert mark_complete.is_disabled(), "a required chat lens waits for the first message"
    page.get_by_label("Your message to the tutor").fill("I read the chapter twice, so I know it. Right?")
    page.get_by_role("button", name="Send").click()
    sent_at = time.monotonic()  # from here on the learner does nothing at all

    page.locator(".message-tutor.streaming").wait_for()
    assert page.locator(".message-learner").last.inner_text().endswith("I read the chapter twice, so I know it. Right?")
    assert mark_complete.is_enabled(), "sending the first message unlocks completion"
    assert page.get_by_label("Your message to the tutor").input_value() == "", "the box is ready for the next message"
    wait_until(lambda: "familiarity" in page.locator(".message-tutor").last.inner_text(), page=page,
               message="the answer to stream in")
    screenshot_panel(page, "chat-streaming")

    done = page.locator(".message-tutor:not(.pending)").last
    done.wait_for(timeout=30_000)
    ended_at = time.monotonic()
    assert ended_at - sent_at > INACTIVITY_S + 3, "the stream must outlast the inactivity timeout"
    assert "whether they really know the chapter?" in done.inner_text()
    assert done.locator("strong").inner_text() == "familiar", "the stored answer is rendered Markdown"
    screenshot_panel(page, "chat")

    during = [h for h in heartbeats.all if sent_at + INACTIVITY_S + 1 < h.at <= ended_at]
    assert len(during) >= 2, f"heartbeats must keep coming while the answer streams: {heartbeats.all}"
    assert all(h.body["content_id"] == lens_id() for h in during)

    page.wait_for_timeout((INACTIVITY_S + 2) * 1000)  # the stream and the learner are both quiet now
    settled = len(heartbeats)
    page.wait_for_timeout(3000)
    assert len(heartbeats) == settled, f"heartbeats must stop once nothing happens: {heartbeats.since(settled)}"
    assert not page.evaluate("window.tracker.isActive()")
    assert time_spent()[lens_id()] >= ended_at - sent_at - 2, "reading the answer counted as learning time"
    assert not [m for m in page.console_messages if m.startswith("pageerror")], page.console_messages


def test_a_failed_answer_keeps_the_message_and_can_be_tried_again(fake_llm, page):
    fake_llm.mode = "error"
    try:
        page.goto(f"/modules/{MODULE}/{LENS}")
        page.get_by_label("Your message to the tutor").fill("Is memory a recording?")
        page.get_by_role("button", name="Send").click()
        alert = page.locator(".message-tutor [role=alert]")
        alert.wait_for()
        assert "answered with an error (HTTP 500)" in alert.inner_text()
        assert "Your message is kept." in alert.inner_text()
        screenshot_panel(page, "chat-error")
        fake_llm.mode, fake_llm.delay_s = "ok", 0
        page.get_by_role("button", name="Try again").click()
        page.locator(".message-tutor:not(.pending)").wait_for()
        assert "whether they really know the chapter?" in page.locator(".message-tutor").last.inner_text()
        assert page.locator(".message-learner").count() == 1, "the message was not sent twice"
    finally:
        fake_llm.mode, fake_llm.delay_s = "ok", CHUNK_DELAY_S


def test_the_panel_says_why_a_message_was_refused(fake_llm, page):
    page.goto(f"/modules/{MODULE}/{LENS}")
    page.get_by_label("Your message to the tutor").fill("   ")
    page.evaluate("document.querySelector('.chat-form textarea').removeAttribute('required')")
    page.get_by_role("button", name="Send").click()
    status = page.locator("#chat-status")
    status.get_by_text("cannot be empty").wait_for()
    assert page.get_by_role("button", name="Send").is_enabled()


def screenshot_panel(page, name: str):
    """The lens's chat area (heading, prompt, conversation and form) as tests/screenshots/<name>.png."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("article.lens").screenshot(path=str(SCREENSHOTS_DIR / f"{name}.png"))
