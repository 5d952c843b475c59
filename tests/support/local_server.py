"""An HTTP server on a free local port, in a thread of its own, for the peers the tests stand up."""
import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    """Serves `handler` (a BaseHTTPRequestHandler class) on 127.0.0.1 while the `with` block runs."""

    def __init__(self, handler, name: str):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
