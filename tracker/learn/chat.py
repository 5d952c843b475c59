"""The tutor chat panel: history, sending a message, and the answer streamed as Server-Sent Events."""
from flask import current_app, redirect, render_template, request, url_for

from tracker import chat, progress
from tracker.app_state import content_index, database, tutor
from tracker.http.htmx import fragment, wants_fragment
from tracker.http.identity import current_learner
from tracker.http.ratelimit import chat_answer_limits, chat_message_limits
from tracker.http.streaming import event_stream, sse

from . import bp
from .render import render_markdown


@bp.get("/modules/<slug>/<lens_ref>/chat")
def chat_history(slug: str, lens_ref: str):
    """The conversation so far, as the panel's message list."""
    module, section = progress.find_section(content_index(), slug, lens_ref)
    messages = chat.history(database(), current_learner(), module.id, section.lens.id)
    return fragment("learn/_chat_log.html", module=module, section=section, messages=messages)


@bp.post("/modules/<slug>/<lens_ref>/chat")
@chat_message_limits
def send_chat_message(slug: str, lens_ref: str):
    """Store the learner's message; htmx gets it at once, with the answer waiting to stream in."""
    module, section = progress.find_section(content_index(), slug, lens_ref)
    learner = current_learner()
    message = chat.send_message(database(), learner, module_id=module.id, lens_id=section.lens.id, text=request.form.get("message"))
    if not wants_fragment():
        return redirect(url_for("learn.lens", slug=slug, lens_ref=section.lens.name, _anchor="chat"), code=303)
    state = progress.get_module_state(database(), content_index(), learner, slug)  # a message unlocks a chat lens
    return fragment(
        "learn/_chat_sent.html", module=module, section=section, message=message, state=state,
        lens_state=progress.lens_in(state, section.lens.id),
        messages_sent=chat.messages_sent(database(), learner, section.lens.id),
    )


@bp.post("/modules/<slug>/<lens_ref>/chat/answer")
@chat_answer_limits
def stream_chat_answer(slug: str, lens_ref: str):
    """The tutor's answer to the learner's latest message: `chunk` events, then `done` or `error`."""
    module, section = progress.find_section(content_index(), slug, lens_ref)
    pending = chat.start_answer(
        database(), current_learner(), module_id=module.id, lens_id=section.lens.id,
        stream_timeout_s=current_app.config["TRACKER_CHAT_STREAM_TIMEOUT_S"],
    )
    events = chat.answer_events(database(), tutor(), chat.tutor_material(module, section.lens), pending)
    return event_stream(as_html_events(events))


def as_html_events(events):
    """Each chunk with the answer so far rendered, then the stored answer; all HTML is sanitised."""
    so_far = ""
    for event in events:
        if event.kind == "chunk":
            so_far += event.text
            # Uncached: partial answers would only push the content pages out of the cache.
            yield sse("chunk", {"text": event.text, "html": render_markdown.__wrapped__(so_far)})
            continue
        html = render_template("learn/_chat_message.html", message=event.message) if event.message else None
        yield sse(event.kind, {"html": html, "error": event.text or None})
