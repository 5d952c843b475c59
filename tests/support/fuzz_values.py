"""Values for the fuzz: valid ones from the document with real ids from the demo content, and hostile ones.

A placement is a bench.soak.plan.Spot: a lens where a module places it, with its LO and module ids.
"""
import json
import string

from hypothesis import strategies as st

from bench.soak.plan import Spot
from support.openapi import field_type

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


def placed_value(name: str, placement: Spot):
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


def valid_value(name: str, schema: dict, placement: Spot, high: bool):
    """A value the document says is valid, at the low or the high end of its range."""
    real = placed_value(name, placement)
    if real is not None:
        return real
    assert schema.get("format") != "uuid", f"{name}: a new id field needs a real value in placed_value()"
    if "enum" in schema:
        return schema["enum"][-1 if high else 0]
    if field_type(schema) == "integer":
        return schema["maximum"] if high else max(schema["minimum"], 1)
    if field_type(schema) == "boolean":
        return high
    if field_type(schema) == "string":
        return ("Why does this work? " * 400)[: schema["maxLength"]] if high else "Why?"[: max(1, schema.get("minLength", 1))]
    raise AssertionError(f"{name}: no valid value for {schema}")


def valid_strategy(schema: dict):
    """Valid values of a field that is not an id (ids come from the placement)."""
    if "enum" in schema:
        return st.sampled_from(tuple(schema["enum"]))
    if field_type(schema) == "integer":
        return st.integers(schema["minimum"], schema["maximum"])
    if field_type(schema) == "boolean":
        return st.booleans()
    return st.text(string.ascii_letters + " ?", min_size=1, max_size=60).filter(str.strip)


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
