"""Server-rendered learner pages. An htmx request gets only the partial it swaps."""
from flask import abort, current_app, redirect, render_template, request, url_for

from tracker import chat, progress
from tracker.api.body import RequestBody
from tracker.app_state import budget, content_index
from tracker.auth.late_claims import claim_late_anonymous_progress
from tracker.db import transaction
from tracker.identity import current_learner, give_visitor_a_token, set_anonymous_cookie
from tracker.ratelimit import completion_limits

from . import bp

bp.before_request(give_visitor_a_token)
bp.before_request(claim_late_anonymous_progress)
bp.after_request(set_anonymous_cookie)


def wants_fragment() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


@bp.get("/")
def index():
    """The courses, with the learner's modules completed and time spent in each."""
    with transaction() as conn:
        overview = progress.courses_overview(conn, content_index(), current_learner())
    return render_template("learn/index.html", overview=overview)


@bp.get("/courses/<slug>")
def course(slug: str):
    """A course's modules in order, with status, counts, time and estimates."""
    index = content_index()
    course = index.courses_by_slug.get(slug) or abort(404, f"There is no course called “{slug}”.")
    with transaction() as conn:
        states = progress.course_state(conn, index, current_learner(), course)
    return render_template("learn/course.html", course=course, states=states)


@bp.get("/modules/<slug>")
def module(slug: str):
    """A module's introduction, outcomes and lenses, with a link to go on where the learner left off."""
    index = content_index()
    module = index.modules_by_slug.get(slug) or abort(404, f"There is no module called “{slug}”.")
    with transaction() as conn:
        state = progress.module_state(conn, index, current_learner(), module)
    return render_template("learn/module.html", module=module, state=state)


def find_section(slug: str, lens_ref: str):
    module = content_index().modules_by_slug.get(slug) or abort(404, f"There is no module called “{slug}”.")
    section = module.section_named(lens_ref) or abort(404, f"The module “{module.title}” has no lens “{lens_ref}”.")
    return module, section


@bp.get("/modules/<slug>/<lens_ref>")
def lens(slug: str, lens_ref: str):
    """One lens: its content, the tutor chat, the module outline, and the tracker that sends heartbeats."""
    module, section = find_section(slug, lens_ref)
    learner = current_learner()
    with transaction() as conn:
        state = progress.module_state(conn, content_index(), learner, module)
        messages = chat.history(conn, learner, module.id, section.lens.id)
    position = module.sections.index(section)
    return render_template(
        "learn/lens.html",
        module=module,
        section=section,
        state=state,
        previous=module.sections[position - 1] if position > 0 else None,
        next=module.sections[position + 1] if position + 1 < len(module.sections) else None,
        messages=messages,
        chat_started=any(message.role == "learner" for message in messages),
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
    module, section = find_section(slug, lens_ref)
    body = RequestBody.read()
    pending_s, chunk_id = body.integer("time_delta_s", required=False) or 0, body.integer("chunk_id", required=False)
    with transaction() as conn:
        result = progress.complete_lens(
            conn, content_index(), current_learner(), lens_id=section.lens.id, module_slug=slug,
            pending_s=pending_s, chunk_id=chunk_id, budget=budget(),
        )
    if not wants_fragment():
        return redirect(url_for("learn.lens", slug=slug, lens_ref=section.lens.name), code=303)
    state = result["modules"][0]
    response = current_app.make_response(
        render_template("learn/_completed.html", module=module, section=section, state=state)
    )
    response.vary.add("HX-Request")
    return response
