"""Helpers for the chat tests: the lens page's requests, a scripted tutor, Server-Sent Events, and a check for runnable markup."""
import json
import threading
from html.parser import HTMLParser

from support.csrf import csrf_token

MODULE = "how-memory-works"
CHAT_LENS = "talk-through-how-memory-works"
ARTICLE = "the-forgetting-curve"
PAGE = f"/modules/{MODULE}/{CHAT_LENS}"


def send(client, text: str, lens: str = CHAT_LENS, htmx: bool = True):
    """Send a message from the lens page, as its htmx form does."""
    headers = {"HX-Request": "true", "HX-Target": "chat-log"} if htmx else {}
    data = {"csrf_token": csrf_token(client, PAGE), "message": text}
    return client.post(f"/modules/{MODULE}/{lens}/chat", data=data, headers=headers)


def stream_answer(client, lens: str = CHAT_LENS, **kwargs):
    """Ask for the answer to the latest message, as chat.js does."""
    headers = {"X-CSRFToken": csrf_token(client, PAGE), "HX-Request": "true"}
    return client.post(f"/modules/{MODULE}/{lens}/chat/answer", headers=headers, **kwargs)


def token_of(client) -> str:
    client.get("/")
    return client.get_cookie("tracker_anon").value


class ExecutableParts(HTMLParser):
    """Collects whatever in a page could run: inline scripts, on* handlers, javascript: URLs, svg, iframes."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.found.append(f"<script {attrs}>")
        if tag in ("svg", "iframe", "object", "embed", "img"):
            self.found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")


def executable_parts(html: str) -> list[str]:
    parser = ExecutableParts()
    parser.feed(html)
    return parser.found


class ScriptedTutor:
    """A tutor that says exactly what the test wants; `gate` holds it after its first chunk."""

    def __init__(self, *chunks: str, gate: threading.Event | None = None):
        self.chunks, self.gate, self.started = chunks, gate, threading.Event()

    def stream(self, lens, history, question):
        for i, chunk in enumerate(self.chunks):
            yield chunk
            if i == 0 and self.gate is not None:
                self.started.set()
                assert self.gate.wait(10), "the test never let the tutor go on"


def sse_events(response) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a Server-Sent Events body whose data is JSON."""
    events = []
    for block in response.get_data(as_text=True).split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        fields = dict(line.split(": ", 1) for line in lines)
        if "data" in fields:
            events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events
