"""The tutor chat for API clients: the history as JSON, and a message answered as Server-Sent Events."""
from flask import current_app, jsonify

from tracker import chat
from tracker.app_state import content_index, tutor
from tracker.db import db, transaction
from tracker.identity import current_learner
from tracker.progress import LensNotInModule
from tracker.progress.lookup import find_module
from tracker.ratelimit import chat_message_limits
from tracker.streaming import event_stream, sse

from . import bp
from .body import RequestBody


def placed_lens(slug: str, lens_ref: str):
    module = find_module(content_index(), slug)
    section = module.section_named(lens_ref)
    if section is None:
        raise LensNotInModule(f"module {slug!r} has no lens {lens_ref!r}")
    return module, section


def message_json(message: chat.Message | None) -> dict | None:
    if message is None:
        return None
    return {"id": message.id, "role": message.role, "text": message.text, "status": message.status, "created_at": message.created_at}


@bp.get("/modules/<slug>/<lens_ref>/chat")
def chat_history(slug: str, lens_ref: str):
    """The learner's conversation with the tutor about one lens of a module."""
    learner = current_learner()
    module, section = placed_lens(slug, lens_ref)
    with transaction() as conn:
        messages = chat.history(conn, learner, module.id, section.lens.id)
    return jsonify(messages=[message_json(m) for m in messages])


@bp.post("/modules/<slug>/<lens_ref>/chat")
@chat_message_limits
def send_chat_message(slug: str, lens_ref: str):
    """Store `{"message": ...}` and stream the answer: `chunk` events, then `done` or `error`."""
    learner = current_learner()
    text = RequestBody.read().fields.get("message")
    module, section = placed_lens(slug, lens_ref)
    with transaction() as conn:  # the message and the claim on the answer commit together
        chat.send_message(conn, learner, module_id=module.id, lens_id=section.lens.id, text=text)
        pending = chat.start_answer(
            conn, learner, module_id=module.id, lens_id=section.lens.id,
            stream_timeout_s=current_app.config["TRACKER_CHAT_STREAM_TIMEOUT_S"],
        )
    events = chat.answer_events(db.engine, tutor(), chat.tutor_material(module, section.lens), pending)
    return event_stream(as_json_events(events))


def as_json_events(events):
    for event in events:
        if event.kind == "chunk":
            yield sse("chunk", {"text": event.text})
        else:
            yield sse(event.kind, {"message": message_json(event.message), "error": event.text or None})
