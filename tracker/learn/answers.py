"""A lens's questions: saving the learner's answer to one."""
import hashlib
import re

from flask import redirect, request, url_for

from tracker import answers, progress
from tracker.app_state import content_index, database
from tracker.http.htmx import fragment, wants_fragment
from tracker.http.identity import current_learner
from tracker.http.ratelimit import question_answer_limits

from . import bp

ANCHOR_SAFE = re.compile(r"[A-Za-z0-9_-]+")
bp.add_app_template_global(answers.MAX_ANSWER_CHARS, "max_answer_chars")


@bp.app_template_filter("question_anchor")
def question_anchor(question_id: str) -> str:
    """The question's element id on the page: its own id when that is safe in a URL fragment, else a digest of it."""
    if ANCHOR_SAFE.fullmatch(question_id):
        return f"question-{question_id}"
    return f"question-{hashlib.sha256(question_id.encode()).hexdigest()[:16]}"


@bp.post("/modules/<slug>/<lens_ref>/questions/<question_id>")
@question_answer_limits
def save_answer(slug: str, lens_ref: str, question_id: str):
    """Save the learner's answer to one question; htmx gets that question back, a form goes back to it."""
    module, section = progress.find_section(content_index(), slug, lens_ref)
    lens = section.lens
    saved = answers.save_answer(database(), current_learner(), lens, question_id, request.form.get("answer"))
    if not wants_fragment():
        anchor = question_anchor(question_id)
        return redirect(url_for("learn.lens", slug=slug, lens_ref=lens.name, _anchor=anchor), code=303)
    return fragment(
        "learn/_answer_saved.html", module=module, section=section, lens=lens,
        segment=lens.questions[question_id], answers={question_id: saved},
    )
