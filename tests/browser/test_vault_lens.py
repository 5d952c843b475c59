"""The test vault's showcase lens in a real browser: every kind of segment, tracked on the vault's ids.

The app serves tests/vaults/lens-course (a Lens vault, recognised by its folders). Its showcase lens,
Lenses/Every Kind of Segment.md in module memory-basics, is a text, an article excerpt, a YouTube
clip (0:04.5–0:31) with its transcript, a tutor chat and an open question, in that order. YouTube
cannot be reached from the tests, so the embed is answered by the stand-in player of
support/players.py. The tutor is the offline tutor (no model is configured), which answers from the
lens itself and streams its answer a few words at a time.

Timing is that of the browser time-truth tests: a heartbeat every 3 s, inactive after 6 s, a burst
of 10 s; the rate limits are the operator's defaults. Screenshots go to tests/screenshots/:
vault-lens.png (the lens as first opened) and vault-lens-completed.png (after chat and completion).
"""
from urllib.parse import parse_qs, urlsplit

import pytest

from support.browser import HEARTBEAT_PATH, anonymous_token, stay_active
from support.players import serve_fake_youtube
from support.questions import answer_rows
from support.vaults import GOOD_VAULT, LO_STAGES, MEMORY_BASICS, SHOWCASE

MODULE = "memory-basics"
LENS = "every-kind-of-segment"
PAGE = f"/modules/{MODULE}/{LENS}"
QUESTION = "stages-in-your-words"
SAVE_URL = f"{PAGE}/questions/{QUESTION}"
IDS = {"content_id": str(SHOWCASE), "lo_id": str(LO_STAGES), "module_id": str(MEMORY_BASICS)}
CLIP_S = 27  # 0:04.5 to 0:31

pytestmark = pytest.mark.app_config(
    TRACKER_HEARTBEAT_INTERVAL_S=3, TRACKER_INACTIVITY_TIMEOUT_S=6, TRACKER_BURST_S=10
)

# Records the tutor's answer as it grows: the text of the last tutor message after every change.
WATCH_THE_ANSWER = """() => {
    window.answerSoFar = [];
    new MutationObserver(() => {
        const last = [...document.querySelectorAll("#chat-log .message-tutor")].pop();
        if (!last || !last.classList.contains("streaming")) return;
        const text = last.querySelector(".message-body").textContent.trim();
        if (text && text !== "Thinking…" && text !== window.answerSoFar.at(-1)) window.answerSoFar.push(text);
    }).observe(document.getElementById("chat-log"), {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture
def content_dir():
    return GOOD_VAULT


@pytest.fixture
def showcase(app):
    """The showcase lens as the app loaded it from the vault."""
    return app.extensions["tracker.content"].index.lenses_by_name[LENS]


@pytest.fixture
def player(page):
    """The stand-in YouTube player, for the clip's length."""
    return serve_fake_youtube(page, duration_s=CLIP_S)


def no_page_errors(page) -> list:
    return [m for m in page.console_messages if m.startswith("pageerror") or "Content Security Policy" in m]


def open_lens(page):
    page.goto(PAGE)
    page.locator("article.lens h1").wait_for()


def test_every_segment_is_on_the_page_in_the_order_the_lens_lists_them(page, player, showcase, screenshot):
    open_lens(page)
    lens = page.locator("article.lens")
    assert lens.locator("h1").inner_text() == "How a memory is made"
    assert [segment.kind for segment in showcase.segments] == ["text", "article", "video", "chat", "question"]

    text = lens.locator("div.prose", has_text="Memory is not one thing but three jobs").first
    excerpt = lens.locator("figure.excerpt")
    iframe = lens.locator("iframe[data-tracker-player=youtube]")
    transcript_heading = lens.locator("h2", has_text="Transcript")
    transcript = transcript_heading.locator("xpath=following-sibling::div[1]")
    chat_heading = lens.get_by_role("heading", name="Talk it through with the tutor")
    chat = lens.get_by_role("region", name="Conversation with the tutor")
    question = lens.locator(f"section#question-{QUESTION}")
    completion = lens.locator("#completion")
    parts = {
        "text": text, "excerpt": excerpt, "video": iframe, "transcript": transcript, "chat heading": chat_heading,
        "chat": chat, "question": question, "completion": completion,
    }
    for name, part in parts.items():
        assert part.count() == 1, f"one {name} on the page"
        part.scroll_into_view_if_needed()
        assert part.is_visible(), f"the {name} is visible"

    # In order, both in the document and down the page as the learner sees it.
    handles = [part.element_handle() for part in parts.values()]
    document_order = page.evaluate(
        "nodes => nodes.every((node, i) => i === 0 || (nodes[i - 1].compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING))",
        handles,
    )
    assert document_order, "segments are in the document in the order the lens lists them"
    tops = [part.bounding_box()["y"] + page.evaluate("window.scrollY") for part in parts.values()]
    assert tops == sorted(tops), dict(zip(parts, tops))

    # Text: the paragraphs, without the block id written after the first.
    assert "Read the passage below, then watch the clip" in text.inner_text()
    assert "^three-jobs" not in text.inner_text()

    # Article: the excerpt from "### Three jobs, one system" to the ^retrieval-end block, with its caption.
    quoted = excerpt.locator("blockquote").inner_text()
    assert quoted.startswith("Three jobs, one system")
    assert "Encoding is the first job" in quoted and quoted.rstrip().endswith("the path to it gets easier to find.")
    assert "People often talk about memory" not in quoted, "the excerpt starts at its heading"
    assert "^retrieval-end" not in quoted and "{==" not in quoted
    caption = excerpt.locator("figcaption")
    assert "Dana Whitlock" in caption.inner_text()
    link = caption.get_by_role("link", name="How Memories Form")
    assert link.get_attribute("href") == "https://example.org/articles/how-memories-form"
    assert link.locator("cite").count() == 1, "the title is cited"

    # Video: the YouTube embed starts at 4 s and ends at 31 s.
    src = iframe.get_attribute("src")
    embed = urlsplit(src)
    assert embed.netloc == "www.youtube-nocookie.com" and embed.path == "/embed/Qm3vXb7LpT0", src
    query = parse_qs(embed.query)
    assert query["start"] == ["4"] and query["end"] == ["31"], src
    assert iframe.get_attribute("data-duration-s") == str(CLIP_S)
    page.frame_locator("iframe[data-tracker-player]").locator("#play").wait_for()  # the stand-in player loaded
    assert any("start=4" in url and "end=31" in url for url in player.requests), player.requests

    # Transcript: the clip's span only, not the whole video's.
    assert "(0:04–0:31)" in transcript_heading.inner_text()
    shown = " ".join(transcript.inner_text().split())
    clip = showcase.segments[2]
    assert shown == " ".join(clip.transcript.split())
    assert shown.startswith("encoding: taking things in") and "Retrieval is the one you can train." in shown
    assert "welcome back to Study Lab" not in shown and "See you next time" not in shown

    # Chat: an empty conversation and a message box.
    assert chat.locator(".message").count() == 0
    assert chat.get_by_label("Your message to the tutor").is_editable()
    assert chat.get_by_role("button", name="Send").is_enabled()

    # Question: its prompt and an empty answer box.
    assert "describe what happens to something you learn today" in question.locator(".question-prompt").inner_text()
    assert question.get_by_label("Your answer").input_value() == ""
    assert "Not answered yet." in question.inner_text()
    assert question.get_by_role("button", name="Save").is_enabled()

    # Completion waits for a message to the tutor.
    assert completion.get_by_role("button", name="Mark complete").is_disabled()
    assert "Send the tutor at least one message first." in completion.inner_text()

    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, "vault-lens", full_page=True)
    print(f"screenshot: {path}")
    assert not no_page_errors(page), page.console_messages


def test_heartbeats_carry_the_vault_lens_lo_and_module_ids(page, player, heartbeats, received, time_spent, wait_until):
    open_lens(page)
    tracker = page.locator("#tracker")
    assert tracker.get_attribute("data-interval-s") == "3" and tracker.get_attribute("data-inactivity-timeout-s") == "6"
    assert {key: tracker.get_attribute(f"data-{attr}") for key, attr in
            (("content_id", "lens-id"), ("lo_id", "lo-id"), ("module_id", "module-id"))} == IDS

    stay_active(page, lambda: sum(h.delivered for h in heartbeats.all) >= 2, timeout=30,
                message="two delivered heartbeats")
    for heartbeat in heartbeats.all:
        assert heartbeat.url.endswith(HEARTBEAT_PATH), heartbeat
        assert {key: heartbeat.body.get(key) for key in IDS} == IDS, heartbeat
        assert 1 <= heartbeat.seconds <= 10, heartbeat  # never more than the burst
    wait_until(lambda: received and all(r.status for r in received), page=page, message="every heartbeat answered")
    assert all(r.status == 204 and {key: r.body.get(key) for key in IDS} == IDS for r in received), received

    # The database holds the time on exactly those three rows, the same on each.
    credited = lambda: sum(r.credited or 0 for r in received)
    spent = wait_until(lambda: (s := time_spent()) and set(s) == set(IDS.values())
                       and all(v == credited() for v in s.values()) and s,
                       page=page, message="the lens, LO and module rows to hold the credited seconds")
    assert credited() >= 2, (received, spent)
    assert not no_page_errors(page), page.console_messages


def test_an_answer_is_saved_kept_after_a_reload_and_an_empty_one_is_refused(app, page, context, player, wait_until):
    open_lens(page)
    question = page.locator(f"#question-{QUESTION}")
    answer = "Reading it encodes it.\nSleep helps store it.\nIn the exam I retrieve it."
    question.get_by_label("Your answer").fill(answer)
    question.get_by_role("button", name="Save").click()
    wait_until(lambda: "Saved on" in question.inner_text(), page=page, message="the question to say it is saved")
    saved = question.locator(f"#question-{QUESTION}-saved").inner_text()
    assert saved.startswith("Saved on ") and "UTC" in saved, saved
    assert question.get_by_label("Your answer").input_value() == answer
    assert page.locator("#announcer").inner_text() == "Your answer is saved."
    rows = answer_rows(app)
    assert [(r["lens_id"], r["question_id"], r["text"]) for r in rows] == [(SHOWCASE, QUESTION, answer)]
    assert str(rows[0]["anonymous_token"]) == anonymous_token(context)

    page.reload()
    question = page.locator(f"#question-{QUESTION}")
    assert question.get_by_label("Your answer").input_value() == answer, "the answer is there after a reload"
    assert question.locator(f"#question-{QUESTION}-saved").inner_text().startswith("Saved on ")

    # An empty box: the browser itself stops the form (`required`) and says why; nothing is sent.
    posts = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith(SAVE_URL) and posts.append(r))
    box = question.get_by_label("Your answer")
    box.fill("")
    question.get_by_role("button", name="Save").click()
    page.wait_for_timeout(500)
    assert posts == [], "an empty answer never leaves the browser"
    assert box.evaluate("el => el.validity.valueMissing")
    assert box.evaluate("el => el.validationMessage"), "the browser says the box must be filled in"

    # Only spaces pass `required`: the server refuses them, and says so in the question.
    box.fill("   ")
    question.get_by_role("button", name="Save").click()
    status = question.locator(".question-status")
    wait_until(lambda: "cannot be empty" in status.inner_text(), page=page, message="the refusal to show")
    assert status.inner_text() == "Write an answer first: it cannot be empty."
    assert status.get_attribute("aria-live") == "polite", "the refusal is read out too"
    assert len(posts) == 1
    assert box.input_value() == "   ", "what the learner typed stays in the box"
    assert question.get_by_role("button", name="Save").is_enabled()
    assert [r["text"] for r in answer_rows(app)] == [answer], "the saved answer is kept"

    page.reload()
    assert page.locator(f"#question-{QUESTION}").get_by_label("Your answer").input_value() == answer
    assert not no_page_errors(page), page.console_messages


def test_chatting_with_the_tutor_unlocks_completion_and_the_outline_ticks_the_lens(
    page, player, learner_rows, wait_until, screenshot
):
    open_lens(page)
    chat = page.get_by_role("region", name="Conversation with the tutor")
    mark_complete = page.get_by_role("button", name="Mark complete")
    assert mark_complete.is_disabled()
    page.evaluate(WATCH_THE_ANSWER)
    page.evaluate("window.samePage = true")

    message = "What are the three jobs of memory?"
    chat.get_by_label("Your message to the tutor").fill(message)
    chat.get_by_role("button", name="Send").click()
    chat.locator(".message-learner").wait_for()
    assert chat.locator(".message-learner").last.inner_text().endswith(message)
    done = chat.locator(".message-tutor:not(.pending)").last
    done.wait_for(timeout=30_000)
    answer = done.locator(".message-body").inner_text()
    assert "How a memory is made" in answer, answer  # the offline tutor quotes the lens, naming it
    so_far = page.evaluate("window.answerSoFar")
    assert len(so_far) >= 3, f"the answer came in pieces: {so_far}"
    assert all(len(a) < len(b) for a, b in zip(so_far, so_far[1:])), so_far
    assert len(so_far[0]) < len(" ".join(answer.split())) / 2, "the first piece is a small part of the answer"
    assert chat.get_by_label("Your message to the tutor").input_value() == ""

    assert mark_complete.is_enabled(), "a message to the tutor unlocks completion"
    mark_complete.click()
    completion = page.locator("#completion")
    completion.locator(".done").wait_for()
    assert "Completed on" in completion.inner_text()
    assert page.evaluate("window.samePage === true"), "htmx swapped it in: no page load"

    current = page.locator("#outline li.lens.current")
    assert "done" in current.get_attribute("class")
    assert current.locator(".tick").inner_text() == "✓"
    assert "completed" in current.inner_text()
    assert "1 of 4 required lenses done" in page.locator("#module-progress").inner_text()
    row = wait_until(lambda: learner_rows().get(str(SHOWCASE)), page=page, message="the lens's row")
    assert row["completed_at"] is not None

    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, "vault-lens-completed", full_page=True)
    print(f"screenshot: {path}")

    page.reload()
    assert "Completed on" in page.locator("#completion").inner_text(), "still completed after a reload"
    assert "done" in page.locator("#outline li.lens.current").get_attribute("class")
    assert page.locator("#chat-log .message-tutor").count() == 1, "the conversation is kept"
    assert not no_page_errors(page), page.console_messages
