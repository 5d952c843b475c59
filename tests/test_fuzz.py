"""Every JSON endpoint, fuzzed with Hypothesis and held to the OpenAPI document at /api/openapi.json.

The document comes first: every /api route is in it, a request built from each request schema
succeeds with the documented code, and each documented field is one the route reads (a wrong
value of it is refused naming it).

Then generated requests, on every /api route with every HTTP method: valid-looking bodies with
real ids from the demo content and some fields broken; hostile bodies (raw bytes, deep nesting,
duplicate keys, NaN, huge numbers and bodies, lone surrogates and NUL, wrong content types); and
random paths, methods and identities (none, bad tokens, random tokens, a logged-in account,
cross-site requests). Every request must get either

- a 4xx whose JSON body is `{"error": <non-empty str>, "status": <the code>}`, with a code the
  document lists for that operation (405 for a method the path lacks, 404 for a path no route
  matches), and no write: a fingerprint of every table is the same before and after; or
- the documented success code, with a body of the documented shape.

The app runs with TESTING, so an unhandled exception (a 500 in production) fails the case with
its traceback. Each fuzz test runs its Hypothesis function inside the test on purpose: the app,
its clients and the database are shared by all examples, which is safe because each example
checks its own before/after fingerprint (so Hypothesis's function-scoped-fixture check does not
apply). Runs are reproducible (derandomize, no example database) and count their cases.
"""
import json
import math
import re
import string
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import request, request_finished
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from admin_support import Account
from tracker.config import RATE_LIMIT_SETTINGS
from tracker.db import db

# Cases per run: the target on PostgreSQL; SQLite runs a smaller share of the same tests.
CASES_PER_RUN = {"postgresql": 10_000, "sqlite": 1_500}
SHARE_OF_CASES = {"valid_looking": 0.4, "hostile_bodies": 0.35, "routes_methods_identities": 0.25}
# The fuzz is about input, not rate limits (tests/test_rate_limits.py): no limit may refuse a case.
RAISED_LIMITS = {name: "1000000/minute" for name, _ in RATE_LIMIT_SETTINGS} | {"TRACKER_CHAT_MESSAGES_PER_MINUTE": 1_000_000}

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "text/plain;charset=UTF-8",
    None,
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "text/html",
    "application/octet-stream",
    "",
    "application/json\x00",
    "ÿ/ÿ",
]
ROUTE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
FINGERPRINT = text(
    """
    SELECT (SELECT COUNT(*) FROM users),
           (SELECT COUNT(*) FROM user_content_progress),
           (SELECT COALESCE(SUM(total_time_spent_s), 0) FROM user_content_progress),
           (SELECT COUNT(completed_at) FROM user_content_progress),
           (SELECT COALESCE(SUM(credited_until_ms), 0) FROM user_content_progress),
           (SELECT MAX(last_heartbeat_at) FROM user_content_progress),
           (SELECT COUNT(*) FROM chat_sessions),
           (SELECT MAX(streaming_until) FROM chat_sessions),
           (SELECT COUNT(*) FROM chat_messages),
           (SELECT COALESCE(SUM(LENGTH(text)), 0) FROM chat_messages)
    """
)


def backend_of(app) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


def doc_path(rule: str) -> str:
    """/api/modules/<slug>/progress -> /api/modules/{slug}/progress"""
    return ROUTE_ARGUMENT.sub(lambda match: "{" + match.group(1) + "}", rule)


def api_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]


# --- The document's schemas, read the way the tests need them ---------------------------------------

def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def is_type(value, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return {
        "integer": lambda v: isinstance(v, int),
        "number": lambda v: isinstance(v, (int, float)),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "null": lambda v: v is None,
    }[name](value)


def problems(doc: dict, value, schema: dict, where: str = "$") -> list[str]:
    """How `value` breaks the JSON Schema subset the document uses (no validator library is in the lock)."""
    schema = resolve(doc, schema)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(is_type(value, name) for name in types):
            return [f"{where}: {value!r:.80} is not {'/'.join(types)}"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r:.80} is not one of {schema['enum']}")
    if isinstance(value, str):
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", math.inf):
            found.append(f"{where}: length {len(value)} out of range")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r:.80} does not match {schema['pattern']}")
        if schema.get("format") == "date-time" and not RFC3339.match(value):
            found.append(f"{where}: {value!r:.80} is not an RFC 3339 date-time")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf):
            found.append(f"{where}: {value} out of range")
    if isinstance(value, dict):
        found += [f"{where}: {name} is missing" for name in schema.get("required", []) if name not in value]
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                found += problems(doc, item, properties[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: {name} is not documented")
    if isinstance(value, list) and "items" in schema:
        for position, item in enumerate(value):
            found += problems(doc, item, schema["items"], f"{where}[{position}]")
    return found


def success_code(operation: dict) -> int:
    (code,) = [int(code) for code in operation["responses"] if code.startswith("2")]
    return code


def request_schema(doc: dict, operation: dict) -> dict | None:
    body = operation.get("requestBody")
    return resolve(doc, body["content"]["application/json"]["schema"]) if body else None


# --- Real ids from the demo content ------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """A lens where it sits: its module and LO."""

    module_slug: str
    module_id: str
    lo_id: str
    lens_id: str
    lens_name: str
    lens_type: str


def placements(index) -> list[Placement]:
    return [
        Placement(module.slug, str(module.id), str(section.outcome.id), str(section.lens.id), section.lens.name, section.lens.type)
        for module in index.modules
        for section in module.sections
    ]


def placed_value(name: str, placement: Placement):
    """The real value a field or path argument takes for this placement; None for fields that are not ids."""
    return {
        "content_id": placement.lens_id,
        "contentId": placement.lens_id,
        "lo_id": placement.lo_id,
        "module_id": placement.module_id,
        "module_slug": placement.module_slug,
        "slug": placement.module_slug,
        "lens_ref": placement.lens_name,
    }.get(name)


def valid_value(name: str, schema: dict, placement: Placement, high: bool):
    """A value the document says is valid, at the low or the high end of its range."""
    real = placed_value(name, placement)
    if real is not None:
        return real
    assert schema.get("format") != "uuid", f"{name}: a new id field needs a real value in placed_value()"
    if "enum" in schema:
        return schema["enum"][-1 if high else 0]
    if schema["type"] == "integer":
        return schema["maximum"] if high else max(schema["minimum"], 1)
    if schema["type"] == "boolean":
        return high
    if schema["type"] == "string":
        return ("Why does this work? " * 400)[: schema["maxLength"]] if high else "Why?"[: max(1, schema.get("minLength", 1))]
    raise AssertionError(f"{name}: no valid value for {schema}")


def valid_strategy(schema: dict):
    """Valid values of a field that is not an id (ids come from the placement)."""
    if "enum" in schema:
        return st.sampled_from(tuple(schema["enum"]))
    if schema["type"] == "integer":
        return st.integers(schema["minimum"], schema["maximum"])
    if schema["type"] == "boolean":
        return st.booleans()
    return st.text(string.ascii_letters + " ?", min_size=1, max_size=60).filter(str.strip)


# --- Hostile values ----------------------------------------------------------------------------------

ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # surrogates, NUL and controls included
UNICODE_TEXT = st.text(ANY_CHARACTER, max_size=40)
PRINTABLE_LATIN_1 = st.sampled_from([c for c in map(chr, range(0x20, 0x100)) if c.isprintable()])  # what a header can carry
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**15, max_value=10**80),
    st.integers(max_value=-(10**15), min_value=-(10**80)),
    st.floats(),  # NaN and infinities too: json.dumps writes them as the non-JSON NaN and Infinity
    UNICODE_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(UNICODE_TEXT, inner, max_size=4),
    max_leaves=12,
)


FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
ONE_IN = {n: st.sampled_from((False,) * (n - 1) + (True,)) for n in range(2, 11)}  # the rare case last: see one_in()


def id_spellings(ids: list[str]):
    """Real ids, spelled canonically and in look-alike ways the API must refuse or read the same."""
    real = st.sampled_from(tuple(ids))
    return st.one_of(
        real,
        real.map(str.upper),
        real.map(lambda i: "{" + i + "}"),
        real.map(lambda i: "urn:uuid:" + i),
        real.map(lambda i: i.replace("-", "")),
        real.map(lambda i: i + "\x00"),
        real.map(lambda i: " " + i),
        real.map(lambda i: i.translate(FULLWIDTH_DIGITS)),
        st.uuids().map(str),
        st.just("00000000-0000-0000-0000-000000000000"),
    )


def hostile_values(ids: list[str], slugs: list[str]):
    return st.one_of(
        JSON_VALUES,
        id_spellings(ids),
        st.sampled_from(tuple(slugs)),
        st.sampled_from(("", " ", "\x00", "\ud800", "lens", "true", "30", "-1", "1e3", "０")),
        st.integers(0, 5000).map(lambda n: "x" * n),
        st.integers(1, 300).map(lambda depth: json.loads("[" * depth + "]" * depth)),
    )


# --- Requests ---------------------------------------------------------------------------------------

@dataclass
class Req:
    """One generated request; `kind` labels it in the statistics."""

    kind: str
    method: str
    path: str
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    as_account: bool = False

    @property
    def url(self) -> str:
        if not self.query:
            return self.path
        return self.path + "?" + urlencode(self.query, encoding="utf-8", errors="surrogatepass")


def path_segment(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def build_path(rule: str, arguments: dict) -> str:
    return ROUTE_ARGUMENT.sub(lambda match: path_segment(arguments[match.group(1)]), rule)


def encode_json(fields, duplicate: tuple | None = None) -> bytes:
    """JSON text; `duplicate` (key, value) adds a second value for a key already in `fields`."""
    if duplicate is None or not isinstance(fields, dict):
        return json.dumps(fields).encode()
    pairs = [*fields.items(), duplicate]
    return ("{" + ", ".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in pairs) + "}").encode()


def encode_form(fields) -> bytes:
    if not isinstance(fields, dict):
        return encode_json(fields)
    flat = {key: value if isinstance(value, str) else json.dumps(value) for key, value in fields.items()}
    return urlencode(flat, encoding="utf-8", errors="surrogatepass").encode()


class Harness:
    """Sends requests to the app and holds every answer to the document."""

    def __init__(self, app):
        self.app = app
        self.index = app.extensions["tracker.content"].index
        self.anonymous = app.test_client(use_cookies=False)
        self.doc = self.anonymous.get("/api/openapi.json").get_json()
        self.rules = api_rules(app)
        self.placements = placements(self.index)
        self.slugs = [module.slug for module in self.index.modules]
        self.ids = sorted({i for p in self.placements for i in (p.lens_id, p.lo_id, p.module_id)})
        self.account = Account(app, "fuzz@example.org")
        self.known_token = str(uuid.uuid4())
        with app.app_context():
            self.connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.last_fingerprint = None
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

    def fingerprint(self) -> tuple:
        return tuple(self.connection.execute(FINGERPRINT).one())

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
        before = self.last_fingerprint if self.last_fingerprint is not None else self.fingerprint()
        self.last_fingerprint = None  # until this case has passed
        response = self.send(req)
        after = self.fingerprint()
        status, rule = response.status_code, self.routed.get("rule")
        what = f"{req.method} {req.url[:200]} [{req.kind}] -> {status}: {response.get_data()[:300]!r}"
        assert status < 500, what
        operation = self.operation(rule, req.method)
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
                self.check_success_body(operation, response, what)
        self.statuses[status] += 1
        self.cases += 1
        self.last_fingerprint = after
        return response

    def operation(self, rule, method: str) -> dict | None:
        if rule is None or method == "OPTIONS":
            return None
        path = self.doc["paths"].get(doc_path(rule.rule))
        assert path is not None, f"{rule.rule} is not in the document"
        operation = path.get("get" if method == "HEAD" else method.lower())
        assert operation is not None, f"{method} {rule.rule} is routed but not documented"
        return operation

    def check_error(self, req: Req, response, what: str) -> None:
        assert response.is_json, what
        if req.method == "HEAD":  # the same answer as to a GET, without its body
            return
        payload = response.get_json()
        assert isinstance(payload.get("error"), str) and payload["error"].strip(), what
        assert payload["status"] == response.status_code, what
        assert not problems(self.doc, payload, {"$ref": "#/components/schemas/Error"}), what

    def check_success_body(self, operation: dict, response, what: str) -> None:
        content = operation["responses"][str(response.status_code)].get("content")
        if content is None:
            assert response.get_data() == b"", what
        elif "text/event-stream" in content:
            assert response.mimetype == "text/event-stream", what
            events = re.findall(r"^event: (\w+)$", response.get_data(as_text=True), re.MULTILINE)
            assert events and events[-1] in ("done", "error") and set(events[:-1]) <= {"chunk"}, what
        else:
            assert response.is_json, what
            found = problems(self.doc, response.get_json(), content["application/json"]["schema"])
            assert not found, f"{what}\n" + "\n".join(found[:10])


@pytest.fixture
def harness(app):
    harness = Harness(app)
    yield harness
    harness.close()


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

def identities(known_token: str):
    """Who the request claims to be, and how: (headers, query, as_account)."""
    known, fresh = st.just(known_token), st.uuids().map(str)
    bad = st.one_of(st.text(PRINTABLE_LATIN_1, max_size=50), id_spellings([known_token]).filter(str.isprintable))
    any_token = st.one_of(known, fresh, bad)
    return st.one_of(
        st.just(({}, {}, False)),
        st.one_of(known, fresh, bad).map(lambda t: ({"X-Anonymous-Token": t}, {}, False)),
        st.one_of(known, fresh, UNICODE_TEXT, id_spellings([known_token])).map(lambda t: ({}, {"anonymous_token": t}, False)),
        any_token.map(lambda t: ({"Cookie": f"tracker_anon={t}"}, {}, False)),
        st.just(({}, {}, True)),
        any_token.map(lambda t: ({"X-Anonymous-Token": t}, {}, True)),
        st.sampled_from(
            ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "same-site"})
        ).map(lambda headers: (headers, {}, True)),
    )


def one_in(draw, n: int) -> bool:
    """True about once in n draws. Hypothesis favours the first of a sampled list (and shrinks towards it)."""
    return draw(ONE_IN[n])


class Strategies:
    """Every strategy the fuzz draws from, built once per test.

    Hypothesis validates a strategy object the first time it is drawn from, which costs more
    than the request itself; strategies made inside each draw would pay that on every case.
    """

    def __init__(self, harness: "Harness"):
        self.placement = st.sampled_from(tuple(harness.placements))
        self.rule = st.sampled_from(tuple(harness.rules))
        # by endpoint: werkzeug's rules are not hashable
        self.documented_method = {
            rule.endpoint: st.sampled_from(tuple(sorted(rule.methods - {"HEAD", "OPTIONS"}))) for rule in harness.rules
        }
        self.any_method = {
            rule.endpoint: st.sampled_from(tuple(sorted(rule.methods))) | st.sampled_from(tuple(METHODS)) for rule in harness.rules
        }
        self.hostile_value = hostile_values(harness.ids, harness.slugs)
        self.identity = identities(harness.known_token)
        self.valid_looking_identity = st.one_of(
            st.just(({"X-Anonymous-Token": harness.known_token}, {}, False)),
            st.uuids().map(lambda t: ({"X-Anonymous-Token": str(t)}, {}, False)),
            st.just(({}, {}, True)),
            self.identity,
        )
        self.hostile_bodies_identity = st.just(({"X-Anonymous-Token": harness.known_token}, {}, False)) | self.identity
        names = tuple(harness.slugs + sorted({p.lens_name for p in harness.placements}))
        self.hostile_argument = st.one_of(
            st.sampled_from(names),
            UNICODE_TEXT,
            st.sampled_from(("", ".", "..", "a/b", "%2F", "\x00", "no-such-thing", "x" * 3000)),
        )
        self.field_value, self.broken_fields = {}, {}
        for path, method, operation in documented_operations(harness.doc):
            schema = request_schema(harness.doc, operation)
            if schema is None:
                continue
            key = (path, method)
            self.broken_fields[key] = st.lists(st.sampled_from(tuple(sorted(schema["properties"]))), max_size=3, unique=True)
            self.field_value[key] = {name: valid_strategy(field) for name, field in schema["properties"].items()}


VALID_LOOKING_CONTENT_TYPES = st.sampled_from(tuple(["application/json"] * 6 + CONTENT_TYPES))
ANY_CONTENT_TYPE = st.sampled_from(tuple(CONTENT_TYPES))
HOSTILE_BODY_METHODS = st.sampled_from(tuple(["POST"] * 4 + METHODS))
HOSTILE_BODY_KINDS = st.sampled_from(
    ("raw-bytes", "json-value", "deep-nesting", "duplicate-key", "huge-body", "number-literal", "bad-unicode")
)
EXTRA_FIELDS = st.dictionaries(UNICODE_TEXT, JSON_VALUES, max_size=3)
RAW_BYTES = st.binary(max_size=300)
NESTING_DEPTHS = st.sampled_from((100, 500, 800, 900, 950, 980, 1000, 1100, 5000, 30_000))
NESTING_OPENERS = st.sampled_from((b"[", b'{"a": ', b'{"content_id": '))
NESTING_SHAPES = st.sampled_from(("closed", "unclosed", "in-a-field"))
GOOD_KEYS = st.sampled_from(("content_id", "time_delta_s", "contentId", "message"))
SIZE_AROUND_THE_LIMIT = st.sampled_from((-200, -1, 0, 1, 2, 1000, "twice"))
NUMBER_LITERALS = st.sampled_from(
    ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "30.0", "3E1", "0x1e", "1" + "0" * 5000, "１")
)
FIELDS_FOR_LITERALS = st.sampled_from(("time_delta_s", "timeSpentS", "content_id", "message", "completed"))
ODD_TEXT = st.text(ANY_CHARACTER, min_size=1, max_size=30)
FIELDS_FOR_ODD_TEXT = st.sampled_from(("content_id", "message", "module_slug", "content_type", "time_delta_s", "as a key"))
ENCODINGS = st.sampled_from(("ascii-escaped", "utf-8", "utf-16", "latin-1"))
ODD_PATHS = st.sampled_from(("/api/", "/api/progress", "/api/modules/", "/api/openapi.yaml", "/api//progress/time"))
DELTAS = st.integers(-5, 200)


@st.composite
def route_and_path(draw, harness: "Harness", placement: Placement, hostile_arguments: bool = False):
    rule = draw(harness.strategies.rule)
    arguments = {}
    for name in rule.arguments:
        real = placed_value(name, placement)
        assert real is not None, f"{rule.rule}: give the path argument {name!r} a real value in placed_value()"
        arguments[name] = draw(harness.strategies.hostile_argument) if hostile_arguments and one_in(draw, 2) else real
    return rule, build_path(rule.rule, arguments)


@st.composite
def valid_looking_requests(draw, harness: "Harness"):
    """A documented operation, a body built from its schema with real ids, some of it broken."""
    strategies = harness.strategies
    placement = draw(strategies.placement)
    rule, path = draw(route_and_path(harness, placement))
    method = draw(strategies.documented_method[rule.endpoint])
    operation = harness.doc["paths"][doc_path(rule.rule)][method.lower()]
    schema = request_schema(harness.doc, operation)
    headers, query, as_account = draw(strategies.valid_looking_identity)
    body, content_type, duplicate = None, None, None
    if schema is not None:
        key = (doc_path(rule.rule), method.lower())
        fields = {}
        for name, value in strategies.field_value[key].items():
            if name in schema["required"] or one_in(draw, 2):
                real = placed_value(name, placement)
                fields[name] = draw(value) if real is None else real
        for name in draw(strategies.broken_fields[key]):
            if one_in(draw, 5):
                fields.pop(name, None)
            else:
                fields[name] = draw(strategies.hostile_value)
        if one_in(draw, 6):
            fields.update(draw(EXTRA_FIELDS))
        if fields and one_in(draw, 8):
            duplicate = (list(fields)[draw(DELTAS) % len(fields)], draw(JSON_SCALARS))
        content_type = draw(VALID_LOOKING_CONTENT_TYPES)
        form = content_type == "application/x-www-form-urlencoded" and duplicate is None
        body = encode_form(fields) if form else encode_json(fields, duplicate)
    return Req("valid-looking", method, path, query, headers, body, content_type, as_account)


@st.composite
def hostile_bodies(draw, harness: "Harness"):
    """Bodies no client should send, to every route with any method."""
    placement = draw(harness.strategies.placement)
    rule, path = draw(route_and_path(harness, placement))
    method = draw(HOSTILE_BODY_METHODS)
    good = {"content_id": placement.lens_id, "time_delta_s": 30, "contentId": placement.lens_id, "message": "Why?"}
    limit = harness.app.config["MAX_CONTENT_LENGTH"]
    kind = draw(HOSTILE_BODY_KINDS)
    if kind == "raw-bytes":
        body = draw(RAW_BYTES)
    elif kind == "json-value":
        body = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == "deep-nesting":
        depth, opener, shape = draw(NESTING_DEPTHS), draw(NESTING_OPENERS), draw(NESTING_SHAPES)
        closer = b"]" if opener == b"[" else b"}"
        nested = opener * depth + b"1" + closer * depth
        body = {"closed": nested, "unclosed": opener * depth, "in-a-field": b'{"time_delta_s": ' + nested + b"}"}[shape]
    elif kind == "duplicate-key":
        body = encode_json(good, (draw(GOOD_KEYS), draw(JSON_SCALARS)))
    elif kind == "huge-body":
        offset = draw(SIZE_AROUND_THE_LIMIT)
        size = limit * 2 if offset == "twice" else limit + offset
        padding = "x" * max(0, size - len(json.dumps({**good, "padding": ""})))
        body = json.dumps({**good, "padding": padding}).encode()
    elif kind == "number-literal":
        literal, name = draw(NUMBER_LITERALS), draw(FIELDS_FOR_LITERALS)
        body = ('{"content_id": "%s", "contentId": "%s", "%s": %s}' % (placement.lens_id, placement.lens_id, name, literal)).encode()
    else:
        value, name = draw(ODD_TEXT), draw(FIELDS_FOR_ODD_TEXT)
        fields = {**good, **({value: "x"} if name == "as a key" else {name: value})}
        encoding = draw(ENCODINGS)
        if encoding == "ascii-escaped":
            body = json.dumps(fields).encode()
        else:
            body = json.dumps(fields, ensure_ascii=False).encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace")
    content_type = draw(ANY_CONTENT_TYPE)
    headers, query, as_account = draw(harness.strategies.hostile_bodies_identity)
    return Req(kind, method, path, query, headers, body, content_type, as_account)


@st.composite
def routes_methods_identities(draw, harness: "Harness"):
    """Any method on any /api path, with hostile path arguments and every way of saying who one is."""
    placement = draw(harness.strategies.placement)
    rule, path = draw(route_and_path(harness, placement, hostile_arguments=True))
    if one_in(draw, 10):
        path = draw(ODD_PATHS)
    method = draw(harness.strategies.any_method[rule.endpoint])
    headers, query, as_account = draw(harness.strategies.identity)
    body = None
    if one_in(draw, 2):
        fields = {
            "content_id": placement.lens_id, "time_delta_s": draw(DELTAS), "lo_id": placement.lo_id,
            "module_id": placement.module_id, "contentId": placement.lens_id, "content_type": "lens",
            "completed": one_in(draw, 2), "message": "What is this about?",
        }
        body = json.dumps(fields).encode()
    content_type = "application/json" if body else None
    return Req("routes-methods-identities", method, path, query, headers, body, content_type, as_account)


# --- The document ------------------------------------------------------------------------------------

def test_every_api_route_and_method_is_documented_and_nothing_else(app, client):
    doc = client.get("/api/openapi.json").get_json()
    routed = {
        (doc_path(rule.rule), method.lower())
        for rule in api_rules(app)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert routed == documented
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["anonymousToken"] == {
        "type": "apiKey", "in": "header", "name": "X-Anonymous-Token"
    }


def test_documented_limits_follow_the_settings(app, client):
    doc = client.get("/api/openapi.json").get_json()
    heartbeat = doc["components"]["schemas"]["Heartbeat"]["properties"]["time_delta_s"]
    assert (heartbeat["minimum"], heartbeat["maximum"]) == (1, app.config["TRACKER_MAX_DELTA_S"])
    assert str(app.config["MAX_CONTENT_LENGTH"]) in doc["components"]["responses"]["413"]["description"]


def test_every_4xx_is_documented_with_the_error_shape(client):
    doc = client.get("/api/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema = resolve(doc, response)["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


def documented_operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


@pytest.mark.app_config(**RAISED_LIMITS)
@pytest.mark.parametrize("high", [False, True], ids=["low-end", "high-end"])
def test_a_request_built_from_the_document_succeeds(app, client, high):
    """Each operation, with every documented field set to a valid value and with the required ones only."""
    harness = Harness(app)
    try:
        placement = next(p for p in harness.placements if p.lens_type == "article")
        for path, method, operation in documented_operations(harness.doc):
            schema = request_schema(harness.doc, operation)
            bodies = [None]
            if schema is not None:
                full = {name: valid_value(name, s, placement, high) for name, s in schema["properties"].items()}
                bodies = [full, {name: full[name] for name in schema["required"]}]
            arguments = {name: placed_value(name, placement) for name in re.findall(r"\{(\w+)\}", path)}
            for body in bodies:
                req = Req(
                    "from-the-document", method.upper(), path.format(**arguments),
                    headers={"X-Anonymous-Token": str(uuid.uuid4())},
                    body=None if body is None else json.dumps(body).encode(), content_type="application/json",
                )
                response = harness.check(req)  # which also holds the body to the documented shape
                assert response.status_code == success_code(operation), (path, method, body, response.get_data()[:300])
    finally:
        harness.close()


@pytest.mark.app_config(**RAISED_LIMITS)
def test_each_documented_field_is_read_by_the_route(app, client):
    """A missing required field, a wrong type or a value out of the documented range is refused naming the field."""
    harness = Harness(app)
    try:
        placement = next(p for p in harness.placements if p.lens_type == "article")
        headers = {"X-Anonymous-Token": str(uuid.uuid4())}
        for path, method, operation in documented_operations(harness.doc):
            schema = request_schema(harness.doc, operation)
            if schema is None:
                continue
            url = path.format(**{name: placed_value(name, placement) for name in re.findall(r"\{(\w+)\}", path)})
            good = {name: valid_value(name, s, placement, high=False) for name, s in schema["properties"].items()}
            for name, field_schema in schema["properties"].items():
                wrong = [{"wrong": "type"}]
                if field_schema["type"] == "integer":
                    wrong += [field_schema["minimum"] - 1, field_schema["maximum"] + 1, 1.5, str(field_schema["minimum"])]
                if field_schema["type"] == "string":
                    wrong += [12345] + ([field_schema["enum"][0].upper() + "x"] if "enum" in field_schema else [])
                    if field_schema.get("format") == "uuid":
                        wrong.append("not-a-uuid")
                    if "maxLength" in field_schema:
                        wrong.append("x" * (field_schema["maxLength"] + 1))
                if field_schema["type"] == "boolean":
                    wrong += ["yes", 1]
                cases = [("missing", {k: v for k, v in good.items() if k != name})] if name in schema["required"] else []
                cases += [(repr(value)[:40], {**good, name: value}) for value in wrong]
                for label, body in cases:
                    before = harness.fingerprint()
                    response = harness.send(Req("field", method.upper(), url, headers=headers, body=json.dumps(body).encode(), content_type="application/json"))
                    assert response.status_code == 422, (path, name, label, response.get_data()[:200])
                    assert name.lower() in response.get_json()["error"].lower(), (path, name, label, response.get_json())
                    assert harness.fingerprint() == before, (path, name, label)
    finally:
        harness.close()


# --- Fuzzing -----------------------------------------------------------------------------------------

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


@pytest.mark.app_config(**RAISED_LIMITS)
def test_fuzz_valid_looking_bodies_with_broken_fields(app, harness):
    run_fuzz(app, harness, "valid_looking", "valid-looking", valid_looking_requests(harness))
    assert any(200 <= status < 300 for status in harness.statuses), "no valid-looking request succeeded"


@pytest.mark.app_config(**RAISED_LIMITS)
def test_fuzz_hostile_bodies(app, harness):
    run_fuzz(app, harness, "hostile_bodies", "hostile bodies", hostile_bodies(harness))
    assert {400, 413, 422} <= set(harness.statuses)


@pytest.mark.app_config(**RAISED_LIMITS)
def test_fuzz_routes_methods_and_identities(app, harness):
    run_fuzz(app, harness, "routes_methods_identities", "routes, methods, identities", routes_methods_identities(harness))
    assert {400, 401, 403, 404, 405} <= set(harness.statuses)


def test_the_fuzz_budget_reaches_the_target():
    assert sum(SHARE_OF_CASES.values()) == pytest.approx(1)
    assert sum(round(CASES_PER_RUN["postgresql"] * share) for share in SHARE_OF_CASES.values()) >= 10_000
