"""The tutor chat for API clients: the history as JSON, and a message answered as Server-Sent Events."""
from flask import current_app, jsonify

from tracker import chat, progress
from tracker.app_state import content_index, database, tutor
from tracker.http.body import RequestBody
from tracker.http.identity import current_learner
from tracker.http.ratelimit import chat_message_limits
from tracker.http.streaming import event_stream, sse

from . import bp


def message_json(message: chat.Message | None) -> dict | None:
    if message is None:
        return None
    return {"id": message.id, "role": message.role, "text": message.text, "status": message.status, "created_at": message.created_at}


@bp.get("/modules/<slug>/<lens_ref>/chat")
def chat_history(slug: str, lens_ref: str):
    """The learner's conversation with the tutor about one lens of a module."""
    learner = current_learner()
    module, section = progress.find_section(content_index(), slug, lens_ref)
    messages = chat.history(database(), learner, module.id, section.lens.id)
    return jsonify(messages=[message_json(m) for m in messages])


@bp.post("/modules/<slug>/<lens_ref>/chat")
@chat_message_limits
def send_chat_message(slug: str, lens_ref: str):
    """Store `{"message": ...}` and stream the answer: `chunk` events, then `done` or `error`."""
    learner = current_learner()
    text = RequestBody.read().fields.get("message")
    module, section = progress.find_section(content_index(), slug, lens_ref)
    pending = chat.ask(
        database(), learner, module_id=module.id, lens_id=section.lens.id, text=text,
        stream_timeout_s=current_app.config["TRACKER_CHAT_STREAM_TIMEOUT_S"],
    )
    events = chat.answer_events(database(), tutor(), chat.tutor_material(module, section.lens), pending)
    return event_stream(as_json_events(events))


def as_json_events(events):
    for event in events:
        if event.kind == "chunk":
            yield sse("chunk", {"text": event.text})
        else:
            yield sse(event.kind, {"message": message_json(event.message), "error": event.text or None})
