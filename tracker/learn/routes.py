"""Server-rendered learner pages. An htmx request gets only the partial it swaps."""
from flask import current_app, redirect, render_template, url_for

from tracker import answers, chat, progress
from tracker.app_state import budget, content_index, database, lrs_statements
from tracker.auth.late_claims import claim_late_anonymous_progress
from tracker.http.body import RequestBody
from tracker.http.htmx import fragment, wants_fragment
from tracker.http.identity import current_learner, give_visitor_a_token, set_anonymous_cookie
from tracker.http.ratelimit import completion_limits

from . import bp

bp.before_request(give_visitor_a_token)
bp.before_request(claim_late_anonymous_progress)
bp.after_request(set_anonymous_cookie)


@bp.get("/")
def index():
    """The courses, with the learner's modules completed and time spent in each."""
    overview = progress.courses_overview(database(), content_index(), current_learner())
    return render_template("learn/index.html", overview=overview)


@bp.get("/courses/<slug>")
def course(slug: str):
    """A course's modules in order, with status, counts, time and estimates."""
    index = content_index()
    course = progress.find_course(index, slug)
    states = progress.course_state(database(), index, current_learner(), course)
    return render_template("learn/course.html", course=course, states=states)


@bp.get("/modules/<slug>")
def module(slug: str):
    """A module's introduction, outcomes and lenses, with a link to go on where the learner left off."""
    index = content_index()
    module = progress.find_module(index, slug)
    state = progress.get_module_state(database(), index, current_learner(), slug)
    return render_template("learn/module.html", module=module, state=state)


@bp.get("/modules/<slug>/<lens_ref>")
def lens(slug: str, lens_ref: str):
    """One lens: its content, the tutor chat, the module outline, and the tracker that sends heartbeats."""
    index = content_index()
    module, section = progress.find_section(index, slug, lens_ref)
    state, messages = progress.lens_page(database(), index, current_learner(), module, section.lens.id)
    position = module.sections.index(section)
    return render_template(
        "learn/lens.html",
        module=module,
        section=section,
        state=state,
        lens_state=progress.lens_in(state, section.lens.id),
        previous=module.sections[position - 1] if position > 0 else None,
        next=module.sections[position + 1] if position + 1 < len(module.sections) else None,
        messages=messages,
        messages_sent=chat.messages_sent(database(), current_learner(), section.lens.id),
        answers=answers.answers_to_lens(database(), current_learner(), section.lens),
        tracker_settings={
            "interval_s": current_app.config["TRACKER_HEARTBEAT_INTERVAL_S"],
            "inactivity_timeout_s": current_app.config["TRACKER_INACTIVITY_TIMEOUT_S"],
            "max_delta_s": current_app.config["TRACKER_MAX_DELTA_S"],
            "max_backlog_s": current_app.config["TRACKER_MAX_BACKLOG_S"],
        },
    )


@bp.post("/modules/<slug>/<lens_ref>/complete")
@completion_limits
def complete(slug: str, lens_ref: str):
    """Mark a lens complete; htmx gets the new state of the lens, outline and progress bar at once.

    The form carries the active seconds the page had not sent yet (tracker.js fills them in), so
    that the completion's time_to_complete_s includes them.
    """
    module, section = progress.find_section(content_index(), slug, lens_ref)
    body = RequestBody.read()
    pending_s, chunk_id = body.integer("time_delta_s", required=False) or 0, body.integer("chunk_id", required=False)
    result = progress.complete_lens(
        database(), content_index(), current_learner(), lens_id=section.lens.id, module_slug=slug,
        pending_s=pending_s, chunk_id=chunk_id, budget=budget(), lrs=lrs_statements(),
    )
    if not wants_fragment():
        return redirect(url_for("learn.lens", slug=slug, lens_ref=section.lens.name), code=303)
    state = result["modules"][0]
    return fragment(
        "learn/_completed.html", module=module, section=section, state=state, lens_state=progress.lens_in(state, section.lens.id)
    )
