"""A real local HTTP server that speaks OpenAI's streaming chat-completions protocol, for tests.

`POST /v1/chat/completions` with `"stream": true` answers `text/event-stream`, chunked: one
`data: {"object": "chat.completion.chunk", ...}` line per piece of `chunks`, a last chunk with
`finish_reason: "stop"`, then `data: [DONE]`. `mode` scripts what goes wrong:

- "ok": the whole answer, with `delay_s` between chunks;
- "drop": half the chunks, then the connection is cut mid-body;
- "error": HTTP 500 with an OpenAI-style error body;
- "slow": nothing at all for `delay_s`, then the answer.
"""
import json
import socket
import time
from http.server import BaseHTTPRequestHandler

from bench.processes import free_port
from support.local_server import LocalServer


class FakeOpenAI(LocalServer):
    def __init__(self, chunks=("Memory ", "is a ", "process, ", "not a ", "recording."), delay_s: float = 0):
        self.chunks, self.delay_s, self.mode = list(chunks), delay_s, "ok"
        self.requests: list[dict] = []  # {"path", "headers" (lower-cased names), "body"} of every request
        super().__init__(self.handler_class(), "fake-openai")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                if self.path != "/v1/chat/completions" or fake.mode == "error":
                    return self.send_json(500, {"error": {"message": "the model crashed", "type": "server_error"}})
                if fake.mode == "slow":
                    time.sleep(fake.delay_s)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = fake.chunks[: len(fake.chunks) // 2] if fake.mode == "drop" else fake.chunks
                for i, piece in enumerate(pieces):
                    if i and fake.mode == "ok":
                        time.sleep(fake.delay_s)
                    self.send_event(chunk_json({"content": piece}, None))
                if fake.mode == "drop":  # cut the connection without ending the chunked body
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.send_event(chunk_json({}, "stop"))
                self.send_chunk(b"data: [DONE]\n\n")
                self.send_chunk(b"")

            def send_event(self, data: dict):
                self.send_chunk(f"data: {json.dumps(data)}\n\n".encode())

            def send_chunk(self, payload: bytes):
                self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
                self.wfile.flush()

            def send_json(self, status: int, data: dict):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def chunk_json(delta: dict, finish_reason: str | None) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def unused_port_url() -> str:
    """A base URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/v1"
