"""Answers to a lens's questions: saved per learner, lens and question, shown back, and part of the learner's data.

Through the real routes on the test vault (tests/vaults/lens-course), which asks questions that
tracker's own content format cannot. The service's rules at explicit moments are in tests/unit/test_answers.py.
"""
import io
import json
import re
import uuid
from functools import partial

import pytest
from flask import render_template
from werkzeug.security import generate_password_hash

from support.admin import Account, OwnContextClient
from support.chat import executable_parts
from support.csrf import csrf_token
from support.questions import (
    LENS, MODULE, PAGE, QUESTION, SAVE, SHARED_IN, SHARED_QUESTION, answer_rows, box_text, question_html, save,
)
from support.rate_limits import HERE, MINUTE, PASSWORD, on, refused_as_html
from support.vaults import GOOD_VAULT, SHOWCASE
from tracker.clock import as_utc
from tracker.config import RATE_LIMIT_SETTINGS
from tracker.content.model import QuestionSegment
from tracker.learn.answers import question_anchor

SHIPPED = dict(RATE_LIMIT_SETTINGS)
EMAIL = "ada@example.org"


@pytest.fixture
def content_dir():
    return GOOD_VAULT


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Salted hashes that are quick to make and check: scrypt's deliberate cost adds up over many sign-ups."""
    monkeypatch.setattr("tracker.accounts.generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000"))


def token_of(browser) -> uuid.UUID:
    browser.get(PAGE)
    return uuid.UUID(getattr(browser, "client", browser).get_cookie("tracker_anon").value)


def without_csrf_token(html: str) -> str:
    """The HTML with its CSRF token's value taken out: the token is signed anew every second."""
    return re.sub(r'(name="csrf_token" value=")[^"]*', r"\1", html)


# --- Saving and showing back ---------------------------------------------------------------------


def test_an_answer_is_saved_and_the_box_holds_it_with_when_it_was_saved(app, client):
    token = token_of(client)
    response = save(client, "  Encoding, then storage, then retrieval.\n")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}#question-{QUESTION}", "back to the question on the lens page"

    [row] = answer_rows(app)
    assert (row["anonymous_token"], row["user_id"], row["lens_id"], row["question_id"]) == (token, None, SHOWCASE, QUESTION)
    assert row["text"] == "Encoding, then storage, then retrieval."
    question = question_html(client.get(PAGE).get_data(as_text=True))
    assert box_text(question) == "Encoding, then storage, then retrieval."
    assert f"Saved on <time datetime=\"{as_utc(row['updated_at']).isoformat()}\">" in question
    assert "first answered" not in question


def test_changing_an_answer_replaces_the_text_and_keeps_the_first_answered_time(app, client):
    save(client, "A first try.")
    [first] = answer_rows(app)
    assert save(client, "A better answer.").status_code == 303

    [row] = answer_rows(app)
    assert row["id"] == first["id"] and row["text"] == "A better answer."
    assert row["answered_at"] == first["answered_at"] and row["updated_at"] > first["updated_at"]
    question = question_html(client.get(PAGE).get_data(as_text=True))
    assert box_text(question) == "A better answer." and "; first answered on <time" in question


def test_with_htmx_saving_swaps_just_that_question_and_announces_it(app, client):
    response = save(client, "Saved in place.", htmx=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="question-{QUESTION}" class="question">'), "the question, not the page"
    assert "<html" not in html and box_text(html) == "Saved in place." and "Saved on <time" in html
    assert '<div id="announcer" class="visually-hidden" aria-live="polite" hx-swap-oob="true">Your answer is saved.</div>' in html
    page = client.get(PAGE).get_data(as_text=True)
    assert without_csrf_token(question_html(html)) == without_csrf_token(question_html(page)), "the page includes the same partial"


def test_the_lens_page_shows_the_question_as_a_form_that_works_without_javascript(client):
    question = question_html(client.get(PAGE).get_data(as_text=True))
    assert f'<form class="question-form" method="post" action="{SAVE}"' in question and f'hx-post="{SAVE}"' in question
    assert 'name="csrf_token"' in question and '<button type="submit" class="button">Save</button>' in question
    assert f'<label for="question-{QUESTION}-answer">Your answer</label>' in question
    assert 'maxlength="4000"' in question and box_text(question) == "" and "Not answered yet." in question
    assert "<p>In two or three sentences, describe what happens" in question, "the prompt, rendered from Markdown"
    assert "assessment-instructions" not in question and "A full answer names" not in question, "graders' notes stay hidden"


def test_an_optional_question_says_it_is_optional(app, demo):
    module = demo.modules_by_slug[MODULE]
    section = module.section_named(LENS)
    optional = QuestionSegment(id="extra", prompt="Anything to add? **Only if you like.**", optional=True)
    with app.test_request_context(PAGE):
        html = render_template(
            "learn/segments/question.html", segment=optional, lens=section.lens, module=module, section=section, answers={}
        )
    assert 'Your answer <span class="tag">optional</span>' in html
    assert "<strong>Only if you like.</strong>" in html


def test_a_question_id_unsafe_in_a_url_fragment_gets_a_stable_anchor_of_its_own():
    assert question_anchor(QUESTION) == f"question-{QUESTION}"
    odd = question_anchor("Q 1: why?")
    assert re.fullmatch(r"question-[0-9a-f]{16}", odd)
    assert odd == question_anchor("Q 1: why?") != question_anchor("Q 2: why?")


def test_the_same_question_id_in_two_lenses_keeps_an_answer_for_each(app, client):
    for lens in SHARED_IN:
        assert save(client, f"About {lens}.", lens=lens, question=SHARED_QUESTION).status_code == 303
    assert sorted((row["question_id"], row["text"]) for row in answer_rows(app)) == [
        (SHARED_QUESTION, f"About {lens}.") for lens in sorted(SHARED_IN)
    ]
    for lens in SHARED_IN:
        assert box_text(client.get(f"/modules/{MODULE}/{lens}").get_data(as_text=True), SHARED_QUESTION) == f"About {lens}."


def test_answering_credits_no_time(client, database_snapshot):
    save(client, "No seconds for this.")
    assert database_snapshot().count("user_content_progress") == 0


def test_an_answer_with_markup_shows_as_text_and_never_runs(client):
    hostile = "<script>alert('answer')</script><img src=x onerror=alert(1)></textarea><svg onload=alert(2)> **bold**"
    saved = save(client, hostile, htmx=True).get_data(as_text=True)
    page = client.get(PAGE).get_data(as_text=True)
    for html in (question_html(saved), question_html(page)):
        assert executable_parts(html) == [], html
        assert box_text(html) == (
            "&lt;script&gt;alert(&#39;answer&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
            "&lt;/textarea&gt;&lt;svg onload=alert(2)&gt; **bold**"
        )


# --- What is refused ------------------------------------------------------------------------------

BAD_ANSWERS = [
    pytest.param("", "Write an answer first: it cannot be empty.", id="0-characters"),
    pytest.param(None, "Write an answer first: it cannot be empty.", id="no-answer-field"),
    pytest.param(" \r\n\t  \n", "Write an answer first: it cannot be empty.", id="whitespace-only"),
    pytest.param("x" * 4001, "Your answer is 4,001 characters long; the most is 4,000.", id="4001-characters"),
    pytest.param("before\x00after", "Your answer contains a NUL character, which cannot be stored.", id="nul"),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("text, message", BAD_ANSWERS)
def test_a_refused_answer_gets_422_naming_the_problem_and_nothing_is_written(client, database_snapshot, text, message, htmx):
    save(client, "The answer that stays.")
    before = database_snapshot()
    response = save(client, text, htmx=htmx)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if htmx:  # questions.js shows it in the question's status line
        assert html.strip() == f'<p class="error" role="alert">{message}</p>'
    assert database_snapshot() == before
    assert box_text(client.get(PAGE).get_data(as_text=True)) == "The answer that stays."


def test_an_answer_of_exactly_4000_characters_after_stripping_is_kept(app, client):
    assert save(client, "\n  " + "x" * 4000 + "  \n").status_code == 303
    assert len(answer_rows(app)[0]["text"]) == 4000


def test_an_unknown_question_gets_404_naming_it_and_nothing_is_written(client, database_snapshot):
    client.get(PAGE)
    before = database_snapshot()
    response = save(client, "An answer to nothing.", question="no-such-question")
    assert response.status_code == 404
    assert "The lens “How a memory is made” has no question “no-such-question”." in response.get_data(as_text=True)
    moved = save(client, "Asked in another lens.", question=SHARED_QUESTION)
    assert moved.status_code == 404, "a question of another lens is not this lens's"
    assert database_snapshot() == before


FORM = "application/x-www-form-urlencoded"
MALFORMED = [  # each a function, so that every run gets a fresh body (a file is read once)
    pytest.param(lambda: {"json": {"answer": "as JSON"}}, 422, id="json-body"),
    pytest.param(lambda: {"data": {"answer": (io.BytesIO(b"a file"), "answer.txt")}}, 422, id="a-file-for-the-answer"),
    pytest.param(lambda: {"data": "answer=" + "x" * 70_000, "content_type": FORM}, 413, id="too-large"),
    pytest.param(lambda: {"data": b"answer=%FF%FE%00", "content_type": FORM}, 422, id="bad-bytes-and-nul"),
    pytest.param(lambda: {"data": b"answer=%zz%", "content_type": FORM}, 303, id="broken-escapes-kept-as-text"),
]


@pytest.mark.parametrize("body, status", MALFORMED)
def test_a_malformed_request_is_answered_without_a_server_error(client, body, status):
    token = csrf_token(client, PAGE)
    response = client.post(SAVE, headers={"X-CSRFToken": token}, **body())
    assert response.status_code == status, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("question", ["%00", "a" * 5000, "..%2F..%2Fme", "%E2%80%AE"])
def test_a_strange_question_id_in_the_url_is_a_404(client, question):
    response = client.post(f"{PAGE}/questions/{question}", data={"csrf_token": csrf_token(client, PAGE), "answer": "x"})
    assert response.status_code == 404


def test_saving_without_a_csrf_token_is_refused_and_writes_nothing(client, database_snapshot):
    client.get(PAGE)
    before = database_snapshot()
    response = client.post(SAVE, data={"answer": "From another site."})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert database_snapshot() == before


@pytest.mark.app_config(
    TRACKER_RATELIMIT_ANSWER_PER_LEARNER=SHIPPED["TRACKER_RATELIMIT_ANSWER_PER_LEARNER"],
    TRACKER_RATELIMIT_ANSWER_PER_IP=SHIPPED["TRACKER_RATELIMIT_ANSWER_PER_IP"],
)
def test_at_the_shipped_limit_the_eleventh_answer_in_a_minute_gets_429_and_writes_nothing(app, client, database_snapshot):
    assert SHIPPED["TRACKER_RATELIMIT_ANSWER_PER_LEARNER"] == "10/minute"
    assert [save(client, f"Draft {n}.").status_code for n in range(10)] == [303] * 10
    before = database_snapshot()

    refused = save(client, "Draft 11.")
    refused_as_html(refused, "Too many answers to questions from this learner: the limit is 10 a minute.", MINUTE)
    assert database_snapshot() == before
    assert answer_rows(app)[0]["text"] == "Draft 9."
    assert save(OwnContextClient(app), "Someone else's first.").status_code == 303, "another learner has their own allowance"


@pytest.mark.app_config(TRACKER_RATELIMIT_ANSWER_PER_IP="2/minute")
def test_answers_from_one_address_are_limited_together(app, database_snapshot):
    browsers = [OwnContextClient(app) for _ in range(3)]
    assert [save(browser, "Mine.").status_code for browser in browsers[:2]] == [303, 303]
    before = database_snapshot()
    refused_as_html(save(browsers[2], "Mine too."), "Too many answers to questions from this network address", MINUTE)
    assert database_snapshot() == before


# --- The learner's data: download, delete, and into the account -----------------------------------


def test_download_my_data_includes_the_answers(client):
    save(client, "For the export.")
    exported = json.loads(client.get("/me/export.json").get_data(as_text=True))["question_answers"]
    assert [{k: v for k, v in answer.items() if not k.endswith("_at")} for answer in exported] == [{
        "lens_id": str(SHOWCASE), "question_id": QUESTION, "text": "For the export.", "lens_title": "How a memory is made",
        "question": "In two or three sentences, describe what happens to something you learn today, from the moment you"
                    " read it until you need it in an exam.",
    }]
    assert exported[0]["answered_at"] == exported[0]["updated_at"] and exported[0]["answered_at"].endswith("+00:00")


def test_delete_my_data_removes_my_answers_and_no_one_elses(app, client):
    save(client, "Mine, to delete.")
    save(OwnContextClient(app), "Someone else's, to keep.")
    response = client.post("/me/delete", data={"csrf_token": csrf_token(client, "/me/delete")})
    assert response.status_code == 303
    assert "Deleted your progress (1 records)." in client.get("/me").get_data(as_text=True)
    assert [row["text"] for row in answer_rows(app)] == ["Someone else's, to keep."]
    assert box_text(client.get(PAGE).get_data(as_text=True)) == ""


def log_in(browser, email=EMAIL, password=PASSWORD):
    data = {"csrf_token": csrf_token(browser, "/login"), "email": email, "password": password}
    assert browser.post("/login", data=data, **on(HERE)).status_code == 303


def test_signing_up_moves_the_anonymous_answer_into_the_account(app, browser_like):
    token = token_of(browser_like.client)
    save(browser_like.client, "Before I had an account.")
    assert browser_like.signup(email=EMAIL, password=PASSWORD).status_code == 303

    [row] = answer_rows(app)
    assert row["anonymous_token"] is None and row["user_id"] is not None and row["text"] == "Before I had an account."
    assert box_text(browser_like.client.get(PAGE).get_data(as_text=True)) == "Before I had an account."
    assert all(r["anonymous_token"] != token for r in answer_rows(app))


@pytest.mark.parametrize("saved_last", ["account", "anonymous"])
def test_logging_in_keeps_the_answer_saved_last_when_both_answered_the_same_question(app, saved_last):
    account = Account(app, EMAIL, password=PASSWORD)
    anonymous = OwnContextClient(app)
    first, second = (anonymous, account.client) if saved_last == "account" else (account.client, anonymous)
    save(first, "Saved first.")
    save(second, "Saved last.")
    answered_first = min(row["answered_at"] for row in answer_rows(app))

    log_in(anonymous)
    [row] = answer_rows(app)
    assert row["anonymous_token"] is None and row["text"] == "Saved last."
    assert row["answered_at"] == answered_first, "the first answered time of either is kept"
    assert box_text(anonymous.get(PAGE).get_data(as_text=True)) == "Saved last."


def test_an_answer_that_lands_under_the_old_token_after_sign_up_reaches_the_account_with_the_next_page(app):
    browser = OwnContextClient(app)
    token = token_of(browser)
    data = {"csrf_token": csrf_token(browser, "/signup"), "email": EMAIL, "password": PASSWORD}
    assert browser.post("/signup", data=data).status_code == 303
    other_tab = OwnContextClient(app)  # its form was loaded before the sign-up, with the old cookie
    other_tab.client.set_cookie("tracker_anon", str(token))
    assert save(other_tab, "Sent while signing up.").status_code == 303
    assert [row["anonymous_token"] for row in answer_rows(app)] == [token]

    assert browser.get("/me").status_code == 200
    [row] = answer_rows(app)
    assert row["anonymous_token"] is None and row["user_id"] is not None


# --- Nobody reads or writes another learner's answers ---------------------------------------------

CHANNELS = ["header", "query", "cookie", "fields"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_learner_never_reads_or_changes_another_learners_answers(app, channel):
    """A is A whatever token or id A sends: A's own answer on the page and in the export, B's rows untouched."""
    a, b = Account(app, "ann@example.org"), Account(app, "bea@example.org")
    b_anonymous = OwnContextClient(app)
    save(a.client, "A-ANSWER-2d4b")
    save(b.client, "B-ANSWER-7f3a")
    save(b_anonymous, "B-ANON-ANSWER-c91e")
    b_token = str(token_of(b_anonymous))
    b_user_id = next(row["user_id"] for row in answer_rows(app) if row["text"] == "B-ANSWER-7f3a")
    theirs = [row for row in answer_rows(app) if row["text"].startswith("B-")]

    headers, query, fields = {}, None, {}
    if channel == "header":
        headers = {"X-Anonymous-Token": b_token}
    elif channel == "query":
        query = {"anonymous_token": b_token, "user_id": b_user_id}
    elif channel == "cookie":
        a.client.client.set_cookie("tracker_anon", b_token)
    else:
        fields = {"user_id": b_user_id, "anonymous_token": b_token}
    page = a.client.get(PAGE, headers=headers, query_string=query).get_data(as_text=True)
    exported = a.client.get("/me/export.json", headers=headers, query_string=query).get_data(as_text=True)
    data = {"csrf_token": csrf_token(a.client, PAGE), "answer": "A-CHANGED-2d4b", **fields}
    saved = a.client.post(SAVE, data=data, headers={**headers, "HX-Request": "true"}, query_string=query).get_data(as_text=True)

    for html in (page, exported, saved):
        assert "B-ANSWER" not in html and "B-ANON-ANSWER" not in html
    assert box_text(page) == "A-ANSWER-2d4b" and "A-ANSWER-2d4b" in exported and box_text(saved) == "A-CHANGED-2d4b"
    assert [row for row in answer_rows(app) if row["text"].startswith("B-")] == theirs
    assert sorted(row["text"] for row in answer_rows(app)) == ["A-CHANGED-2d4b", "B-ANON-ANSWER-c91e", "B-ANSWER-7f3a"]
