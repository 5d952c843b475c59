"""A lens's question in a real browser: saving with htmx swaps just the question, and a refusal shows in it.

On the test vault (tests/vaults/lens-course), whose showcase lens asks one question.
"""
import pytest

from support.questions import PAGE, QUESTION, answer_rows
from support.vaults import GOOD_VAULT


@pytest.fixture
def content_dir():
    return GOOD_VAULT


def test_saving_an_answer_swaps_the_question_in_place_and_a_refusal_keeps_the_text(app, page, wait_until):
    page.goto(PAGE)
    question = page.locator(f"#question-{QUESTION}")
    box = question.get_by_label("Your answer")
    box.fill("Encoding,\nthen storage,\nthen retrieval.")
    page.evaluate("() => { window.scrollTo(0, 0); document.body.dataset.sameDocument = 'yes'; }")
    question.get_by_role("button", name="Save").click()

    wait_until(lambda: "Saved on" in question.inner_text(), message="the question says it is saved", page=page)
    assert page.evaluate("() => document.body.dataset.sameDocument") == "yes", "htmx swapped it: no page load"
    assert page.locator("#announcer").inner_text() == "Your answer is saved."
    assert [row["text"] for row in answer_rows(app)] == ["Encoding,\nthen storage,\nthen retrieval."]

    question.get_by_label("Your answer").fill("   ")  # passes `required`, and the server refuses it
    question.get_by_role("button", name="Save").click()
    status = question.locator(".question-status")
    wait_until(lambda: "cannot be empty" in status.inner_text(), message="the refusal shows in the question", page=page)
    assert question.get_by_label("Your answer").input_value() == "   ", "what the learner typed stays in the box"
    assert question.get_by_role("button", name="Save").is_enabled()
    assert [row["text"] for row in answer_rows(app)] == ["Encoding,\nthen storage,\nthen retrieval."]
    assert not [m for m in page.console_messages if "Content Security Policy" in m or m.startswith("pageerror")]
