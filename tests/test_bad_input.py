"""Malformed requests get the documented 4xx, a JSON error that names the problem, and write nothing.

Every case runs on SQLite and PostgreSQL through the parametrized `app` fixture. Before each
case the learner sends one good heartbeat, so the lens, LO and module rows exist and a request
that wrongly got through would change them. Ids that only exist at run time are written as
placeholders such as "{lens}" and resolved from the `demo` content index inside the test.

The second half shows the accepted shapes (JSON, raw JSON without a Content-Type, text/plain
from navigator.sendBeacon, form-encoded from htmx) and the three places a token may come from
all write the same rows.
"""
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest

MODULE = "how-memory-works"
LENS = "memory-in-three-stages"
OTHER_MODULE = "retrieval-practice"  # does not hold LENS
SHARED_LENS = "the-forgetting-curve"  # in how-memory-works and in spacing-and-interleaving
SHARED_LENS_OTHER_MODULE = "spacing-and-interleaving"
UNKNOWN_ID = "5b0c8f8e-3c1d-4e57-9a8b-0d6f2c4e1a99"  # no lens, LO or module has it

TIME = "/api/progress/time"
COMPLETE = "/api/progress/complete"
MODULE_PROGRESS = f"/api/modules/{MODULE}/progress"

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BEACON = "text/plain;charset=UTF-8"
NO_TYPE = None
TOKEN_HEADER = {"X-Anonymous-Token": "{token}"}

# Valid bodies that the cases below break one field at a time.
HEARTBEAT = {"content_id": "{lens}", "time_delta_s": 30, "lo_id": "{lo}", "module_id": "{module}"}
MODULE_UPDATE = {"contentId": "{lens}", "timeSpentS": 30}
COMPLETION = {"content_id": "{lens}", "content_type": "lens", "module_slug": MODULE}
OVERSIZED = "x" * (70 * 1024)  # the app refuses bodies over 64 KiB

DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def with_(body: dict, **changes) -> dict:
    return {**body, **changes}


def without(body: dict, *names: str) -> dict:
    return {key: value for key, value in body.items() if key not in names}


@dataclass(frozen=True)
class Case:
    """One malformed request and what the API must answer."""

    id: str
    status: int
    mentions: tuple[str, ...]  # substrings the error message must contain (case-insensitive)
    method: str = "POST"
    path: str = TIME
    json: object = None  # serialised with json.dumps, unless `raw` or `form` is given
    raw: bytes | None = None  # sent as is
    form: dict | None = None  # sent url-encoded
    content_type: str | None = JSON
    headers: dict = field(default_factory=lambda: dict(TOKEN_HEADER))
    cookies: dict = field(default_factory=dict)


CASES = [
    # --- /api/progress/time: the body is not a JSON object ---------------------------------------
    Case("time-malformed-json", 400, ("JSON",), raw=b'{"content_id": "{lens}", "time_delta_s": 30'),
    Case("time-trailing-comma", 400, ("JSON",), raw=b'{"content_id": "{lens}", "time_delta_s": 30,}'),
    Case("time-single-quoted-json", 400, ("JSON",), raw=b"{'content_id': '{lens}', 'time_delta_s': 30}"),
    Case("time-json-array", 400, ("JSON object",), json=[HEARTBEAT]),
    Case("time-json-string", 400, ("JSON object",), json="content_id"),
    Case("time-json-number", 400, ("JSON object",), json=30),
    Case("time-json-null", 400, ("JSON object",), json=None, raw=b"null"),
    Case("time-empty-body", 400, ("empty",), raw=b""),
    Case("time-empty-body-no-content-type", 400, ("empty",), raw=b"", content_type=NO_TYPE),
    Case("time-whitespace-body", 400, ("empty",), raw=b" \r\n\t "),
    Case(
        "time-duplicate-key",
        400,
        ("duplicate", "time_delta_s"),
        raw=b'{"content_id": "{lens}", "time_delta_s": 30, "time_delta_s": 120}',
    ),
    Case(
        "time-duplicate-key-nested",
        400,
        ("duplicate",),
        raw=b'{"content_id": "{lens}", "time_delta_s": 30, "meta": {"tab": 1, "tab": 2}}',
    ),
    Case("time-invalid-utf8", 400, ("JSON",), raw=b'{"content_id": "\xff\xfe\xc3\x28", "time_delta_s": 30}'),
    Case("time-nested-60000-levels", 400, ("JSON",), raw=b"[" * 60_000),
    Case(
        "time-nested-20000-levels-in-a-field",
        400,
        ("JSON",),
        raw=b'{"time_delta_s": 30, "content_id": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    ),
    Case("time-nested-100000-levels-over-size-cap", 413, ("over the limit",), raw=b"[" * 100_000),
    # --- /api/progress/time: missing fields and wrong types --------------------------------------
    Case("time-missing-content_id", 422, ("content_id",), json=without(HEARTBEAT, "content_id")),
    Case("time-missing-time_delta_s", 422, ("time_delta_s",), json=without(HEARTBEAT, "time_delta_s")),
    Case("time-content_id-null", 422, ("content_id",), json=with_(HEARTBEAT, content_id=None)),
    Case("time-content_id-not-uuid", 422, ("content_id",), json=with_(HEARTBEAT, content_id="not-a-uuid")),
    Case("time-content_id-number", 422, ("content_id",), json=with_(HEARTBEAT, content_id=12345)),
    Case("time-content_id-list", 422, ("content_id",), json=with_(HEARTBEAT, content_id=["{lens}"])),
    Case("time-content_id-emoji", 422, ("content_id",), json=with_(HEARTBEAT, content_id="💥🦄\u202e\u0000")),
    Case("time-content_id-lone-surrogate", 422, ("content_id",), raw=b'{"content_id": "\\ud800", "time_delta_s": 30}'),
    # Python's UUID() accepts any Unicode decimal digit; the API must only take the ASCII spelling.
    Case("time-content_id-fullwidth-digits", 422, ("content_id",), json=with_(HEARTBEAT, content_id="{lens_fullwidth}")),
    Case("time-lo_id-not-uuid", 422, ("lo_id",), json=with_(HEARTBEAT, lo_id="lo-1")),
    Case("time-module_id-not-uuid", 422, ("module_id",), json=with_(HEARTBEAT, module_id=7)),
    Case("time-delta-zero", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=0)),
    Case("time-delta-negative", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=-30)),
    Case("time-delta-over-max-121", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=121)),
    Case("time-delta-float", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=30.5)),
    Case("time-delta-string", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s="30")),
    Case("time-delta-true", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=True)),
    Case("time-delta-false", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=False)),
    Case("time-delta-null", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=None)),
    Case("time-delta-object", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s={"s": 30})),
    Case("time-delta-10e30", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s=10**30)),
    # Valid JSON (an integer literal), so an out-of-range delta (422), not "not valid JSON" (400).
    Case(
        "time-delta-5000-digit-integer",
        422,
        ("time_delta_s",),
        raw=b'{"content_id": "{lens}", "time_delta_s": 1' + b"0" * 4999 + b"}",
    ),
    # --- /api/progress/time: a queued chunk's backlog age and id --------------------------------
    Case("time-backlog-negative", 422, ("backlog_age_s",), json=with_(HEARTBEAT, backlog_age_s=-1)),
    Case("time-backlog-over-a-year", 422, ("backlog_age_s",), json=with_(HEARTBEAT, backlog_age_s=366 * 86400 + 1)),
    Case("time-backlog-float", 422, ("backlog_age_s",), json=with_(HEARTBEAT, backlog_age_s=30.5)),
    Case("time-backlog-string", 422, ("backlog_age_s",), json=with_(HEARTBEAT, backlog_age_s="30")),
    Case("time-backlog-true", 422, ("backlog_age_s",), json=with_(HEARTBEAT, backlog_age_s=True)),
    Case("time-backlog-10e30", 422, ("backlog_age_s",), json=with_(HEARTBEAT, backlog_age_s=10**30)),
    Case("time-form-backlog-word", 422, ("backlog_age_s",), form=with_(HEARTBEAT, backlog_age_s="old"), content_type=FORM),
    Case("time-chunk-zero", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id=0)),
    Case("time-chunk-negative", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id=-7)),
    Case("time-chunk-over-2-53", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id=2**53)),
    Case("time-chunk-float", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id=1.5)),
    Case("time-chunk-uuid-string", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id="{lens}")),
    Case("time-chunk-list", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id=[1])),
    Case("time-form-chunk-20-digits", 422, ("chunk_id",), form=with_(HEARTBEAT, chunk_id="1" * 20), content_type=FORM),
    Case("time-beacon-chunk-string", 422, ("chunk_id",), json=with_(HEARTBEAT, chunk_id="12"), content_type=BEACON),
    # --- /api/progress/time: ids that exist but do not fit together ------------------------------
    Case("time-unknown-lens", 404, ("lens", UNKNOWN_ID), json=with_(HEARTBEAT, content_id=UNKNOWN_ID, lo_id=None, module_id=None)),
    Case("time-content_id-is-an-lo", 404, ("lens",), json=with_(HEARTBEAT, content_id="{lo}", lo_id=None, module_id=None)),
    Case("time-lo_id-of-another-lens", 422, ("lo_id",), json=with_(HEARTBEAT, lo_id="{other_lo}", module_id=None)),
    Case("time-lo_id-is-the-module", 422, ("lo_id",), json=with_(HEARTBEAT, lo_id="{module}", module_id=None)),
    Case("time-module_id-not-holding-lens", 422, ("module_id",), json=with_(HEARTBEAT, lo_id=None, module_id="{other_module}")),
    Case(
        "time-lo_id-and-module_id-from-different-placements",
        422,
        ("lo_id", "module_id"),
        json={"content_id": "{shared_lens}", "time_delta_s": 30, "lo_id": "{shared_lo}", "module_id": "{shared_other_module}"},
    ),
    # --- /api/progress/time: form-encoded (htmx) and text/plain (sendBeacon) ---------------------
    Case("time-form-delta-word", 422, ("time_delta_s",), form=with_(HEARTBEAT, time_delta_s="thirty"), content_type=FORM),
    Case("time-form-delta-float", 422, ("time_delta_s",), form=with_(HEARTBEAT, time_delta_s="30.5"), content_type=FORM),
    Case("time-form-delta-over-max", 422, ("time_delta_s",), form=with_(HEARTBEAT, time_delta_s="121"), content_type=FORM),
    Case("time-form-delta-empty", 422, ("time_delta_s",), form=with_(HEARTBEAT, time_delta_s=""), content_type=FORM),
    Case("time-form-delta-double-minus", 422, ("time_delta_s",), form=with_(HEARTBEAT, time_delta_s="--5"), content_type=FORM),
    Case("time-form-delta-superscript-two", 422, ("time_delta_s",), form=with_(HEARTBEAT, time_delta_s="²"), content_type=FORM),
    Case("time-form-missing-content_id", 422, ("content_id",), form=without(HEARTBEAT, "content_id"), content_type=FORM),
    Case("time-form-lo_id-not-uuid", 422, ("lo_id",), form=with_(HEARTBEAT, lo_id="x"), content_type=FORM),
    Case("time-beacon-delta-string", 422, ("time_delta_s",), json=with_(HEARTBEAT, time_delta_s="30"), content_type=BEACON),
    Case("time-beacon-malformed-json", 400, ("JSON",), raw=b"content_id={lens}&time_delta_s=30", content_type=BEACON),
    Case("time-no-content-type-json-array", 400, ("JSON object",), json=[], content_type=NO_TYPE),
    # --- /api/progress/time: identity, size and method -------------------------------------------
    Case("time-no-identity", 401, ("anonymous token",), json=HEARTBEAT, headers={}),
    Case("time-token-header-not-uuid", 400, ("anonymous token",), json=HEARTBEAT, headers={"X-Anonymous-Token": "abc"}),
    Case("time-token-cookie-not-uuid", 400, ("anonymous token",), json=HEARTBEAT, headers={}, cookies={"tracker_anon": "abc"}),
    # A token in the URL is not read at all (access logs keep URLs): such a request names no learner.
    Case("time-token-in-query-names-nobody", 401, ("anonymous token",), json=HEARTBEAT, headers={}, path=f"{TIME}?anonymous_token={{token}}"),
    Case(
        "time-token-header-not-uuid-with-valid-query",
        400,
        ("anonymous token",),
        json=HEARTBEAT,
        headers={"X-Anonymous-Token": "{token}x"},
        path=f"{TIME}?anonymous_token={{token}}",
    ),
    Case("time-oversized-json", 413, ("over the limit",), json=with_(HEARTBEAT, padding=OVERSIZED)),
    Case("time-oversized-form", 413, ("over the limit",), form=with_(HEARTBEAT, padding=OVERSIZED), content_type=FORM),
    Case("time-oversized-beacon", 413, ("over the limit",), json=with_(HEARTBEAT, padding=OVERSIZED), content_type=BEACON),
    Case("time-get", 405, ("method",), method="GET", content_type=NO_TYPE),
    Case("time-put", 405, ("method",), method="PUT", json=HEARTBEAT),
    # --- POST /api/modules/<slug>/progress -------------------------------------------------------
    Case("module-post-unknown-slug", 404, ("no-such-module",), path="/api/modules/no-such-module/progress", json=MODULE_UPDATE),
    Case("module-post-unicode-slug", 404, ("module",), path=f"/api/modules/{quote('модуль-💥')}/progress", json=MODULE_UPDATE),
    Case("module-post-lens-not-in-module", 404, (OTHER_MODULE,), path=f"/api/modules/{OTHER_MODULE}/progress", json=MODULE_UPDATE),
    Case("module-post-unknown-lens", 404, (UNKNOWN_ID,), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, contentId=UNKNOWN_ID)),
    Case("module-post-missing-contentId", 422, ("contentId",), path=MODULE_PROGRESS, json=without(MODULE_UPDATE, "contentId")),
    Case("module-post-contentId-not-uuid", 422, ("contentId",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, contentId="lens-1")),
    Case("module-post-completed-string-yes", 422, ("completed",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, completed="yes")),
    Case("module-post-completed-number", 422, ("completed",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, completed=1)),
    Case("module-post-timeSpentS-negative", 422, ("timeSpentS",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, timeSpentS=-5)),
    Case("module-post-timeSpentS-over-max", 422, ("timeSpentS",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, timeSpentS=121)),
    Case("module-post-timeSpentS-string", 422, ("timeSpentS",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, timeSpentS="30")),
    Case("module-post-timeSpentS-float", 422, ("timeSpentS",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, timeSpentS=2.5)),
    Case("module-post-malformed-json", 400, ("JSON",), path=MODULE_PROGRESS, raw=b'{"contentId": '),
    Case("module-post-json-array", 400, ("JSON object",), path=MODULE_PROGRESS, json=[MODULE_UPDATE]),
    Case("module-post-empty-body", 400, ("empty",), path=MODULE_PROGRESS, raw=b""),
    Case(
        "module-post-duplicate-key",
        400,
        ("duplicate", "contentId"),
        path=MODULE_PROGRESS,
        raw=b'{"contentId": "{lens}", "contentId": "{other_lens}", "timeSpentS": 30}',
    ),
    Case("module-post-form-completed-yes", 422, ("completed",), path=MODULE_PROGRESS, form=with_(MODULE_UPDATE, completed="yes"), content_type=FORM),
    Case("module-post-no-identity", 401, ("anonymous token",), path=MODULE_PROGRESS, json=MODULE_UPDATE, headers={}),
    Case("module-post-token-not-uuid", 400, ("anonymous token",), path=MODULE_PROGRESS, json=MODULE_UPDATE, headers={"X-Anonymous-Token": "{token}{token}"}),
    Case("module-post-oversized", 413, ("over the limit",), path=MODULE_PROGRESS, json=with_(MODULE_UPDATE, padding=OVERSIZED)),
    Case("module-delete", 405, ("method",), method="DELETE", path=MODULE_PROGRESS, content_type=NO_TYPE),
    # --- GET /api/modules/<slug>/progress --------------------------------------------------------
    Case("module-get-unknown-slug", 404, ("no-such-module",), method="GET", path="/api/modules/no-such-module/progress", content_type=NO_TYPE),
    Case("module-get-no-identity", 401, ("anonymous token",), method="GET", path=MODULE_PROGRESS, content_type=NO_TYPE, headers={}),
    Case(
        "module-get-token-in-query-names-nobody",
        401,
        ("anonymous token",),
        method="GET",
        path=f"{MODULE_PROGRESS}?anonymous_token={{token}}",
        content_type=NO_TYPE,
        headers={},
    ),
    # --- POST /api/progress/complete -------------------------------------------------------------
    Case("complete-content_type-lo", 422, ("content_type",), path=COMPLETE, json=with_(COMPLETION, content_type="lo")),
    Case("complete-content_type-module", 422, ("content_type",), path=COMPLETE, json=with_(COMPLETION, content_type="module")),
    Case("complete-content_type-missing", 422, ("content_type",), path=COMPLETE, json=without(COMPLETION, "content_type")),
    Case("complete-content_type-capitalised", 422, ("content_type",), path=COMPLETE, json=with_(COMPLETION, content_type="Lens")),
    Case("complete-content_type-number", 422, ("content_type",), path=COMPLETE, json=with_(COMPLETION, content_type=1)),
    Case("complete-missing-content_id", 422, ("content_id",), path=COMPLETE, json=without(COMPLETION, "content_id")),
    Case("complete-content_id-not-uuid", 422, ("content_id",), path=COMPLETE, json=with_(COMPLETION, content_id="{lens}-x")),
    Case("complete-module_slug-number", 422, ("module_slug",), path=COMPLETE, json=with_(COMPLETION, module_slug=42)),
    Case("complete-module_slug-list", 422, ("module_slug",), path=COMPLETE, json=with_(COMPLETION, module_slug=[MODULE])),
    Case("complete-module_slug-empty", 422, ("module_slug",), path=COMPLETE, json=with_(COMPLETION, module_slug="")),
    Case("complete-unknown-lens", 404, (UNKNOWN_ID,), path=COMPLETE, json=with_(COMPLETION, content_id=UNKNOWN_ID)),
    Case("complete-content_id-is-the-module", 404, ("lens",), path=COMPLETE, json=with_(COMPLETION, content_id="{module}")),
    Case("complete-lens-not-in-module", 404, (OTHER_MODULE,), path=COMPLETE, json=with_(COMPLETION, module_slug=OTHER_MODULE)),
    Case("complete-unknown-module", 404, ("no-such-module",), path=COMPLETE, json=with_(COMPLETION, module_slug="no-such-module")),
    # Seconds sent with a completion go through the heartbeat's rules.
    Case("complete-time_delta_s-negative", 422, ("time_delta_s",), path=COMPLETE, json=with_(COMPLETION, time_delta_s=-5)),
    Case("complete-time_delta_s-over-max", 422, ("time_delta_s",), path=COMPLETE, json=with_(COMPLETION, time_delta_s=121)),
    Case("complete-time_delta_s-string", 422, ("time_delta_s",), path=COMPLETE, json=with_(COMPLETION, time_delta_s="30")),
    Case("complete-chunk_id-zero", 422, ("chunk_id",), path=COMPLETE, json=with_(COMPLETION, time_delta_s=5, chunk_id=0)),
    Case(
        "complete-seconds-for-a-shared-lens-without-module",
        422,
        ("module_slug",),
        path=COMPLETE,
        json={"content_id": "{shared_lens}", "content_type": "lens", "time_delta_s": 5},
    ),
    Case("complete-malformed-json", 400, ("JSON",), path=COMPLETE, raw=b'{"content_id": "{lens}", "content_type": lens}'),
    Case("complete-json-null", 400, ("JSON object",), path=COMPLETE, raw=b"null"),
    Case("complete-form-content_type-lo", 422, ("content_type",), path=COMPLETE, form=with_(COMPLETION, content_type="lo"), content_type=FORM),
    Case("complete-no-identity", 401, ("anonymous token",), path=COMPLETE, json=COMPLETION, headers={}),
    Case("complete-oversized", 413, ("over the limit",), path=COMPLETE, json=with_(COMPLETION, padding=OVERSIZED)),
    Case("complete-get", 405, ("method",), method="GET", path=COMPLETE, content_type=NO_TYPE),
]


def placements(demo) -> dict:
    """Real ids for the placeholders, from the content the app is serving."""
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    shared = demo.lenses_by_name[SHARED_LENS]
    shared_here = next(s for s in module.sections if s.lens.id == shared.id)
    return {
        "lens": str(section.lens.id),
        "lo": str(section.outcome.id),
        "module": str(module.id),
        "other_lens": str(next(s.lens.id for s in module.sections if s.lens.id != section.lens.id)),
        "other_lo": str(next(o.id for o in module.outcomes if o.id != section.outcome.id)),
        "other_module": str(demo.modules_by_slug[OTHER_MODULE].id),
        "shared_lens": str(shared.id),
        "shared_lo": str(shared_here.outcome.id),
        "shared_other_module": str(demo.modules_by_slug[SHARED_LENS_OTHER_MODULE].id),
        "lens_fullwidth": str(section.lens.id).translate(FULLWIDTH_DIGITS),
    }


def resolve(value, names: dict):
    """Replace every "{name}" placeholder in strings, bytes, lists and dict values."""
    if isinstance(value, str):
        for name, real in names.items():
            value = value.replace("{" + name + "}", real)
        return value
    if isinstance(value, bytes):
        for name, real in names.items():
            value = value.replace(b"{" + name.encode() + b"}", real.encode())
        return value
    if isinstance(value, dict):
        return {key: resolve(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, names) for item in value]
    return value


def request_body(case: Case, names: dict) -> bytes | None:
    if case.raw is not None:
        return resolve(case.raw, names)
    if case.form is not None:
        return urlencode({k: v for k, v in resolve(case.form, names).items() if v is not None}).encode()
    if case.json is not None:
        return json.dumps(resolve(case.json, names)).encode()
    return None


def send_heartbeat(client, token: str, names: dict, seconds: int = 10):
    body = {"content_id": names["lens"], "time_delta_s": seconds, "lo_id": names["lo"], "module_id": names["module"]}
    return client.post(TIME, json=body, headers={"X-Anonymous-Token": token})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_malformed_request_is_refused_and_writes_nothing(case, client, demo, make_learner, database_snapshot, progress_rows):
    learner = make_learner()
    names = {**placements(demo), "token": learner.token}
    # Prime: the learner's lens, LO and module rows exist with room left in their time budget,
    # so a request that wrongly got through would add seconds, rows or completions.
    primed = send_heartbeat(client, learner.token, names, seconds=10)
    assert primed.status_code == 204, primed.get_data(as_text=True)
    before, rows_before = database_snapshot(), progress_rows(learner)
    assert before.count("user_content_progress") == 3 and before.sum("user_content_progress", "total_time_spent_s") == 30

    for name, value in case.cookies.items():
        client.set_cookie(name, resolve(value, names))
    response = client.open(
        resolve(case.path, names),
        method=case.method,
        data=request_body(case, names),
        content_type=case.content_type,
        headers=resolve(case.headers, names),
    )

    text = response.get_data(as_text=True)
    assert response.status_code == case.status, text
    assert response.is_json, f"{response.content_type}: {text[:200]}"
    payload = response.get_json()
    assert payload["status"] == case.status
    assert isinstance(payload["error"], str) and payload["error"].strip()
    for words in case.mentions:
        assert words.lower() in payload["error"].lower(), f"{words!r} not in {payload['error']!r}"
    assert database_snapshot() == before
    assert progress_rows(learner) == rows_before


def test_cases_cover_every_route_and_status():
    routes = {(case.method, case.path.split("?")[0]) for case in CASES}
    assert {("POST", TIME), ("POST", COMPLETE), ("POST", MODULE_PROGRESS), ("GET", MODULE_PROGRESS)} <= routes
    assert {case.status for case in CASES} == {400, 401, 404, 405, 413, 422}
    assert len({case.id for case in CASES}) == len(CASES) >= 30


# --- Accepted shapes ------------------------------------------------------------------------------

SHAPES = {
    "json": dict(content_type=JSON, encode=json.dumps),
    "raw-json-no-content-type": dict(content_type=NO_TYPE, encode=json.dumps),
    "text-plain-sendbeacon": dict(content_type=BEACON, encode=json.dumps),
    "form-encoded-htmx": dict(content_type=FORM, encode=urlencode),
}


def written(rows: dict) -> dict:
    """What a learner's rows say, without the per-learner and per-moment columns."""
    return {
        content_id: (row["content_type"], row["content_title"], row["total_time_spent_s"], row["completed_at"])
        for content_id, row in rows.items()
    }


def post_heartbeat_as(client, shape: str, names: dict, headers: dict, path: str = TIME, seconds: int = 30):
    body = {"content_id": names["lens"], "time_delta_s": seconds, "lo_id": names["lo"], "module_id": names["module"]}
    return client.post(
        path,
        data=SHAPES[shape]["encode"](body).encode(),
        content_type=SHAPES[shape]["content_type"],
        headers=headers,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_every_accepted_shape_credits_lens_lo_and_module(shape, client, demo, make_learner, progress_rows):
    learner = make_learner()
    names = placements(demo)
    response = post_heartbeat_as(client, shape, names, learner.headers)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.headers["X-Credited-Seconds"] == "30"
    rows = progress_rows(learner)
    assert {rows[names[level]]["content_type"]: rows[names[level]]["total_time_spent_s"] for level in ("lens", "lo", "module")} == {
        "lens": 30,
        "lo": 30,
        "module": 30,
    }
    assert len(rows) == 3


def test_all_accepted_shapes_write_the_same_rows(client, demo, make_learner, progress_rows):
    names = placements(demo)
    results = {}
    for shape in SHAPES:
        learner = make_learner()
        assert post_heartbeat_as(client, shape, names, learner.headers).status_code == 204
        results[shape] = written(progress_rows(learner))
    assert len(results["json"]) == 3
    assert all(rows == results["json"] for rows in results.values()), results


IDENTITY_SOURCES = ["header", "cookie"]


def send_identity(client, source: str, token: str, path: str) -> tuple[str, dict]:
    """The path and headers that carry `token` the given way."""
    if source == "header":
        return path, {"X-Anonymous-Token": token}
    client.set_cookie("tracker_anon", token)
    return path, {}


@pytest.mark.parametrize("source", IDENTITY_SOURCES)
def test_token_is_read_from_each_source(source, client, demo, make_learner, progress_rows):
    learner = make_learner()
    names = placements(demo)
    path, headers = send_identity(client, source, learner.token, TIME)
    response = post_heartbeat_as(client, "json", names, headers, path=path)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert {row["total_time_spent_s"] for row in progress_rows(learner).values()} == {30}
    assert len(progress_rows(learner)) == 3

    state_path, state_headers = send_identity(client, source, learner.token, MODULE_PROGRESS)
    state = client.get(state_path, headers=state_headers)
    assert state.status_code == 200
    assert (state.json["status"], state.json["time_spent_s"]) == ("in_progress", 30)


def test_send_beacon_request_with_the_token_cookie(client, demo, make_learner, progress_rows):
    """What navigator.sendBeacon really sends: text/plain JSON, no custom headers, the site's cookies."""
    learner = make_learner()
    names = placements(demo)
    client.set_cookie("tracker_anon", learner.token)
    response = post_heartbeat_as(client, "text-plain-sendbeacon", names, {})
    assert response.status_code == 204
    assert sorted(row["total_time_spent_s"] for row in progress_rows(learner).values()) == [30, 30, 30]
