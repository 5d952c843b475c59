"""Server-Sent Events responses that hold no database connection while they stream."""
from collections.abc import Iterable

from flask import Response, current_app, stream_with_context

from tracker.db import db


def sse(event: str, data) -> str:
    """One event; the data is JSON on a single line, so no line of it can end the event early.

    Written by the app's JSON provider, so that a timestamp reads as it does in every JSON answer
    (ISO 8601, as the API's document says), not as Python's str() of it.
    """
    return f"event: {event}\ndata: {current_app.json.dumps(data)}\n\n"


def event_stream(events: Iterable[str]) -> Response:
    """Stream formatted events, opening with a comment so that the client sees the stream at once.

    The ORM session (which Flask-Login may have used) gives its connection back first: a stream
    can wait on a slow tutor for minutes, and must not hold a pooled connection meanwhile.
    """
    db.session.close()

    def body():
        yield ": stream open\n\n"
        yield from events

    return Response(
        stream_with_context(body()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},  # no proxy buffering either
    )
