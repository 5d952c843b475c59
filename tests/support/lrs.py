"""A real LRS for the tests (Ralph, with its filesystem backend) and an HTTP server that fails on purpose.

Ralph's filesystem backend writes each POST to its target's file, which must not exist yet: it
takes one write per target. So the LRS here has several users, each with a target of its own,
and a test gives each batch it sends its own user. A POST of statements it has already, all of
them, writes nothing (204), which is what a resent batch is.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import bcrypt

from bench.processes import free_port
from support.local_server import LocalServer
from support.required import missing

USERS = 6


class RalphLrs:
    """Ralph's LRS on a port of its own; users lrs1 … lrs6 (password: the name backwards), each with its own target."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory, self.port = directory, port or free_port()
        self.data = directory / "data"
        self.process = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    @staticmethod
    def credentials(number: int) -> tuple[str, str]:
        name = f"lrs{number}"
        return name, name[::-1]

    def start(self) -> "RalphLrs":
        users = []
        for number in range(1, USERS + 1):
            name, password = self.credentials(number)
            (self.data / name).mkdir(parents=True, exist_ok=True)
            users.append({
                "username": name,
                "hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode(),
                "scopes": ["all"],
                "agent": {"account": {"homePage": "https://lrs.example.org/", "name": name}},
                "target": name,
            })
        (self.directory / "auth.json").write_text(json.dumps(users))
        env = os.environ | {
            "RALPH_APP_DIR": str(self.directory),
            "RALPH_AUTH_FILE": str(self.directory / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data),
        }
        self.log = open(self.directory / "ralph.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "ralph.api:app", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        missing(f"Ralph's LRS did not start: {(self.directory / 'ralph.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
            self.log.close()

    def stored(self) -> list[dict]:
        """Every statement the LRS holds, in all targets."""
        statements = []
        for file in sorted(self.data.glob("*/fs_lrs.jsonl")):
            statements += [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
        return statements


class ScriptedLrs(LocalServer):
    """An HTTP server that answers statement POSTs as a test scripts it: `answer(body) -> (status, text)`.

    It records every body it got, parsed. The default answer accepts everything.
    """

    def __init__(self):
        self.received: list[list[dict]] = []
        self.answer = lambda statements: (200, json.dumps([s["id"] for s in statements]))
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                scripted.received.append(body)
                status, text = scripted.answer(body)
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        super().__init__(Handler, "scripted-lrs")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"


class HoldingProxy(LocalServer):
    """Forwards statement POSTs to a real LRS; while `hold` is set, it forwards, then never answers.

    A worker killed while it waits is a worker killed after the LRS stored the batch and before
    the worker could mark it sent.
    """

    def __init__(self, upstream: str):
        self.hold = threading.Event()
        self.forwarded = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = urllib.request.Request(
                    upstream.rstrip("/") + "/statements", data=body, method="POST",
                    headers={k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "x-experience-api-version")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, payload = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, payload = error.code, error.read()
                if proxy.hold.is_set():
                    proxy.forwarded.set()
                    time.sleep(60)  # the worker is killed meanwhile
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        super().__init__(Handler, "holding-proxy")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"


@contextmanager
def worker_process(env: dict, *args: str):
    """`flask tracker lrs-push` in a process of its own, with these settings."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "lrs-push", *args],
        env=os.environ | {"FLASK_APP": "wsgi", "TRACKER_LOG_FORMAT": "text"} | env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        process.stdout.close()


def post_statements(endpoint: str, username: str, password: str, statements: list[dict]) -> tuple[int, list | None]:
    """POST statements to an LRS as one request: its status, and the ids it says it stored (sorted)."""
    request = urllib.request.Request(
        endpoint + "statements", data=json.dumps(statements).encode(), method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Experience-API-Version": "1.0.3",
            "Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = response.read()
        return response.status, sorted(json.loads(payload)) if payload else None
