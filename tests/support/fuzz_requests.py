"""The requests the fuzz sends: valid-looking ones built from the document, hostile bodies, and any route, method and identity.

Each strategy draws from a `Strategies` built once per test for its harness (support/fuzz_harness.py).
"""
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from bench.soak.plan import Spot
from support.fuzz_values import (
    ANY_CHARACTER,
    CONTENT_TYPES,
    JSON_SCALARS,
    JSON_VALUES,
    METHODS,
    UNICODE_TEXT,
    hostile_values,
    identities,
    one_in,
    placed_value,
    valid_strategy,
)
from support.openapi import ROUTE_ARGUMENT, doc_path

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


class Strategies:
    """Every strategy the fuzz draws from, built once per test.

    Hypothesis validates a strategy object the first time it is drawn from, which costs more
    than the request itself; strategies made inside each draw would pay that on every case.
    """

    def __init__(self, harness):
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
        for path, method, operation in harness.openapi.operations():
            schema = harness.openapi.request_schema(operation)
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
def route_and_path(draw, harness, placement: Spot, hostile_arguments: bool = False):
    rule = draw(harness.strategies.rule)
    arguments = {}
    for name in rule.arguments:
        real = placed_value(name, placement)
        assert real is not None, f"{rule.rule}: give the path argument {name!r} a real value in placed_value()"
        arguments[name] = draw(harness.strategies.hostile_argument) if hostile_arguments and one_in(draw, 2) else real
    return rule, build_path(rule.rule, arguments)


@st.composite
def valid_looking_requests(draw, harness):
    """A documented operation, a body built from its schema with real ids, some of it broken."""
    strategies = harness.strategies
    placement = draw(strategies.placement)
    rule, path = draw(route_and_path(harness, placement))
    method = draw(strategies.documented_method[rule.endpoint])
    operation = harness.doc["paths"][doc_path(rule.rule)][method.lower()]
    schema = harness.openapi.request_schema(operation)
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
def hostile_bodies(draw, harness):
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
def routes_methods_identities(draw, harness):
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
