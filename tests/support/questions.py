"""What the question-answer tests share: the test vault's questions, saving an answer as the lens page does, and the rows.

The vault (tests/vaults/lens-course) asks "stages-in-your-words" in its showcase lens, and
"recall-check" in two lenses of the same module, each of which keeps its own answer.
"""
import re

from sqlalchemy import select

from support.csrf import csrf_token
from tracker.db import db
from tracker.models import QuestionAnswer

MODULE = "memory-basics"
LENS = "every-kind-of-segment"  # Lenses/Every Kind of Segment.md
QUESTION = "stages-in-your-words"
PAGE = f"/modules/{MODULE}/{LENS}"
SAVE = f"{PAGE}/questions/{QUESTION}"
SHARED_QUESTION = "recall-check"
SHARED_IN = ("self-testing", "spaced-review")  # two lenses of MODULE that both ask SHARED_QUESTION

answers = QuestionAnswer.__table__


def save(client, text, *, lens: str = LENS, question: str = QUESTION, htmx: bool = False, **extra):
    """Save an answer from the lens page, as its form does (htmx: as its hx-post does)."""
    page = f"/modules/{MODULE}/{lens}"
    headers = {"HX-Request": "true", "HX-Target": f"question-{question}"} if htmx else {}
    data = {"csrf_token": csrf_token(client, page), **({} if text is None else {"answer": text}), **extra}
    return client.post(f"{page}/questions/{question}", data=data, headers=headers)


def answer_rows(app) -> list[dict]:
    """Every stored answer, straight from the database, oldest first."""
    with app.app_context(), db.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(answers).order_by(answers.c.id)).mappings()]


def question_html(page: str, question: str = QUESTION) -> str:
    """The question's own part of a page: its <section>."""
    found = re.search(rf'<section id="question-{re.escape(question)}" class="question">.*?</section>', page, re.S)
    assert found, f"no question {question!r} on the page"
    return found.group(0)


def box_text(page: str, question: str = QUESTION) -> str:
    """What the question's textarea holds, as written in the HTML (escaped)."""
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", question_html(page, question), re.S)
    return found.group(1)
