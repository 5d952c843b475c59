"""JSON routes. Each reads its input, calls one progress service function, and shapes the answer."""
from flask import jsonify
from werkzeug.exceptions import UnprocessableEntity

from tracker import progress
from tracker.app_state import budget, content_index, database, lrs_statements
from tracker.http.identity import current_learner
from tracker.http.ratelimit import completion_limits, completion_limits_when_completing, heartbeat_limits

from . import bp
from tracker.http.body import RequestBody


@bp.post("/progress/time")
@heartbeat_limits
def record_time():
    """Heartbeat: credit active seconds to a lens and, when given, its LO and module."""
    learner = current_learner()
    body = RequestBody.read()
    lens_id, delta_s = body.uuid("content_id"), body.integer("time_delta_s")
    lo_id, module_id = body.uuid("lo_id", required=False), body.uuid("module_id", required=False)
    backlog_age_s, chunk_id = body.integer("backlog_age_s", required=False), body.integer("chunk_id", required=False)
    credited = progress.record_heartbeat(
        database(), content_index(), learner, budget(),
        lens_id=lens_id, delta_s=delta_s, lo_id=lo_id, module_id=module_id,
        backlog_age_s=backlog_age_s, chunk_id=chunk_id,
    )
    return "", 204, {"X-Credited-Seconds": str(credited)}


@bp.post("/progress/complete")
@completion_limits
def complete():
    """Complete a lens and propagate to its LO and module, in one module or in all that hold it."""
    learner = current_learner()
    body = RequestBody.read()
    lens_id, content_type = body.uuid("content_id"), body.text("content_type")
    if content_type != "lens":
        raise UnprocessableEntity(
            "content_type must be 'lens': learning outcomes and modules complete when their lenses do"
        )
    module_slug = body.text("module_slug", required=False)
    pending_s, chunk_id = body.integer("time_delta_s", required=False) or 0, body.integer("chunk_id", required=False)
    result = progress.complete_lens(
        database(), content_index(), learner, lens_id=lens_id, module_slug=module_slug,
        pending_s=pending_s, chunk_id=chunk_id, budget=budget(), lrs=lrs_statements(),
    )
    headers = {} if result["credited_s"] is None else {"X-Credited-Seconds": str(result["credited_s"])}
    return jsonify(completion_payload(result, single_module=module_slug is not None)), 200, headers


def completion_payload(result: dict, single_module: bool) -> dict:
    payload = {
        "completed_at": result["completed_at"],
        "modules": [{key: state[key] for key in ("module", "status", "progress")} for state in result["modules"]],
    }
    if single_module or len(result["modules"]) == 1:
        state = result["modules"][0]
        payload.update(
            module=state["module"],
            module_status=state["status"],
            module_progress=state["progress"],
            learning_outcomes=state["learning_outcomes"],
            lenses=state["lenses"],
        )
    return payload


@bp.post("/modules/<slug>/progress")
@heartbeat_limits
@completion_limits_when_completing
def update_module_progress(slug: str):
    """Heartbeat and/or completion for one lens of a module; answers with the module state."""
    learner = current_learner()
    body = RequestBody.read()
    lens_id = body.uuid("contentId")
    time_spent_s = body.integer("timeSpentS", required=False) or 0
    completed = body.boolean("completed")
    try:
        credited, state = progress.update_module_progress(
            database(), content_index(), learner, budget(),
            module_slug=slug, lens_id=lens_id, time_spent_s=time_spent_s, completed=completed, lrs=lrs_statements(),
        )
    except progress.InvalidDelta as error:
        raise UnprocessableEntity(error.describe("timeSpentS")) from None
    headers = {} if credited is None else {"X-Credited-Seconds": str(credited)}
    return jsonify(state), 200, headers


@bp.get("/modules/<slug>/progress")
def module_progress(slug: str):
    """The learner's state in one module."""
    learner = current_learner()
    state = progress.get_module_state(database(), content_index(), learner, slug)
    return jsonify(state)
