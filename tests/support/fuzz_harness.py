"""The fuzz harness: it sends each generated request to the app and holds every answer to the document.

Every request must get either a 4xx whose JSON body is `{"error": <non-empty str>, "status": <the
code>}`, with a code the document lists for that operation (405 for a method the path lacks, 404
for a path no route matches), and no write: every row of every table is the same before and
after; or the documented success code, with a body of the documented shape.
"""
import json
import re
import uuid
from collections import Counter
from urllib.parse import urlsplit

from flask import request, request_finished
from hypothesis import HealthCheck, given, settings

from bench.soak.plan import Plan
from support.admin import Account
from support.app import RAISED_LIMITS as RAISED_RATE_LIMITS
from support.database import every_row
from support.fuzz_requests import Req, Strategies
from support.openapi import ERROR_SCHEMA, OpenApi, api_rules, doc_path, response_schema_pointer, success_code
from tracker.db import db

# Cases per run: the target on PostgreSQL; SQLite runs a smaller share of the same tests.
CASES_PER_RUN = {"postgresql": 10_000, "sqlite": 1_500}
SHARE_OF_CASES = {"valid_looking": 0.4, "hostile_bodies": 0.35, "routes_methods_identities": 0.25}
# The fuzz is about input, not rate limits (tests/test_rate_limits_*.py): no limit may refuse a case.
RAISED_LIMITS = RAISED_RATE_LIMITS | {"TRACKER_CHAT_MESSAGES_PER_MINUTE": 1_000_000}


def backend_of(app) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


class Harness:
    """Sends requests to the app and holds every answer to the document."""

    def __init__(self, app):
        self.app = app
        self.index = app.extensions["tracker.content"].index
        self.anonymous = app.test_client(use_cookies=False)
        self.openapi = OpenApi(self.anonymous.get("/api/openapi.json").get_json())
        self.doc = self.openapi.doc
        self.rules = api_rules(app)
        self.placements = [spot for spots in Plan.load(app.config["TRACKER_CONTENT_DIR"]).spots.values() for spot in spots]
        self.slugs = [module.slug for module in self.index.modules]
        self.ids = sorted({i for p in self.placements for i in (p.lens_id, p.lo_id, p.module_id)})
        self.account = Account(app, "fuzz@example.org")
        self.known_token = str(uuid.uuid4())
        with app.app_context():
            self.connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.last_snapshot = None
        self.cases, self.statuses = 0, Counter()
        self.routed = {}
        request_finished.connect(self.record_route, app)
        self.seed()
        self.strategies = Strategies(self)

    def close(self):
        request_finished.disconnect(self.record_route, self.app)
        self.connection.close()

    def record_route(self, sender, response, **extra):
        self.routed["rule"] = request.url_rule

    def seed(self):
        """A learner and the account have progress and a chat, so a request that wrongly wrote would change them."""
        p = next(p for p in self.placements if p.lens_type == "chat")
        heartbeat = {"content_id": p.lens_id, "time_delta_s": 30, "lo_id": p.lo_id, "module_id": p.module_id}
        for headers, as_account in (({"X-Anonymous-Token": self.known_token}, False), ({}, True)):
            sent = self.send(Req("seed", "POST", "/api/progress/time", {}, headers, json.dumps(heartbeat).encode(), "application/json", as_account))
            assert sent.status_code == 204
            chat = self.send(Req("seed", "POST", f"/api/modules/{p.module_slug}/{p.lens_name}/chat", {}, headers, b'{"message": "Why?"}', "application/json", as_account))
            assert chat.status_code == 200 and b"event: done" in chat.get_data()

    def snapshot(self) -> dict:
        """Every row of every table (support.database.every_row): equal before and after means nothing was written."""
        return every_row(self.connection)

    def send(self, req: Req):
        self.routed.clear()
        if req.as_account:
            return self.account.client.open(
                req.url, method=req.method, data=req.body, content_type=req.content_type, headers=req.headers
            )
        with self.app.app_context():  # each request gets its own `g`, as in production
            response = self.anonymous.open(
                req.url, method=req.method, data=req.body, content_type=req.content_type, headers=req.headers
            )
            response.get_data()  # a streamed answer runs to its end, as a client would read it
            return response

    def check(self, req: Req):
        before = self.last_snapshot if self.last_snapshot is not None else self.snapshot()
        self.last_snapshot = None  # until this case has passed
        response = self.send(req)
        after = self.snapshot()
        status, rule = response.status_code, self.routed.get("rule")
        what = f"{req.method} {req.url[:200]} [{req.kind}] -> {status}: {response.get_data()[:300]!r}"
        assert status < 500, what
        key = self.operation_key(rule, req.method)
        operation = self.doc["paths"][key[0]][key[1]] if key else None
        if 400 <= status < 500:
            self.check_error(req, response, what)
            if rule is None:
                assert status in (404, 405), what
            elif operation is not None:
                assert str(status) in operation["responses"], f"undocumented status: {what}"
            assert after == before, f"a refused request wrote: {what}"
        elif 300 <= status < 400:  # the router's redirect of a path with doubled slashes to its tidy spelling
            assert status == 308 and rule is None and urlsplit(response.headers["Location"]).path.startswith("/api/"), what
        elif req.method == "OPTIONS":
            assert status == 200 and rule is not None, what
            allowed = {method for other in self.rules if other.rule == rule.rule for method in other.methods}
            assert set(response.headers["Allow"].split(", ")) == allowed, what
        else:
            assert operation is not None, f"succeeded without a documented operation: {what}"
            assert status == success_code(operation), what
            if req.method != "HEAD":
                self.check_success_body(key, operation, response, what)
        self.statuses[status] += 1
        self.cases += 1
        self.last_snapshot = after
        return response

    def operation_key(self, rule, method: str) -> tuple[str, str] | None:
        """(path, method) of the documented operation a request was routed to; None for OPTIONS or no route."""
        if rule is None or method == "OPTIONS":
            return None
        path = doc_path(rule.rule)
        assert path in self.doc["paths"], f"{rule.rule} is not in the document"
        documented = "get" if method == "HEAD" else method.lower()
        assert documented in self.doc["paths"][path], f"{method} {rule.rule} is routed but not documented"
        return path, documented

    def check_error(self, req: Req, response, what: str) -> None:
        assert response.is_json, what
        if req.method == "HEAD":  # the same answer as to a GET, without its body
            return
        payload = response.get_json()
        assert isinstance(payload.get("error"), str) and payload["error"].strip(), what
        assert payload["status"] == response.status_code, what
        assert not self.openapi.problems(payload, ERROR_SCHEMA), what

    def check_success_body(self, key: tuple[str, str], operation: dict, response, what: str) -> None:
        content = operation["responses"][str(response.status_code)].get("content")
        if content is None:
            assert response.get_data() == b"", what
        elif "text/event-stream" in content:
            assert response.mimetype == "text/event-stream", what
            events = re.findall(r"^event: (\w+)$", response.get_data(as_text=True), re.MULTILINE)
            assert events and events[-1] in ("done", "error") and set(events[:-1]) <= {"chunk"}, what
        else:
            assert response.is_json, what
            found = self.openapi.problems(response.get_json(), response_schema_pointer(*key, response.status_code))
            assert not found, f"{what}\n" + "\n".join(found[:10])


def fuzz_settings(app, share: str):
    examples = round(CASES_PER_RUN[backend_of(app)] * SHARE_OF_CASES[share])
    return examples, settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=False,
    )


# --- Strategies --------------------------------------------------------------------------------------


def run_fuzz(app, harness, share: str, name: str, requests) -> None:
    """Send this share of the run's cases, drawn from `requests`; the harness checks each answer."""
    examples, fuzz = fuzz_settings(app, share)

    @fuzz
    @given(req=requests)
    def case(req):
        harness.check(req)

    case()
    print(f"\n{name}: {harness.cases} cases, statuses {dict(sorted(harness.statuses.items()))}")
    assert harness.cases >= examples
