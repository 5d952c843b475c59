"""Every JSON endpoint, fuzzed with Hypothesis and held to the OpenAPI document at /api/openapi.json.

Generated requests, on every /api route with every HTTP method: valid-looking bodies with real
ids from the demo content and some fields broken; hostile bodies (raw bytes, deep nesting,
duplicate keys, NaN, huge numbers and bodies, lone surrogates and NUL, wrong content types); and
random paths, methods and identities (none, bad tokens, random tokens, a logged-in account,
cross-site requests). Every request must get either

- a 4xx whose JSON body is `{"error": <non-empty str>, "status": <the code>}`, with a code the
  document lists for that operation (405 for a method the path lacks, 404 for a path no route
  matches), and no write: every row of every table is the same before and after; or
- the documented success code, with a body of the documented shape.

The app runs with TESTING, so an unhandled exception (a 500 in production) fails the case with
its traceback. Each fuzz test runs its Hypothesis function inside the test on purpose: the app,
its clients and the database are shared by all examples, which is safe because each example
checks its own before/after snapshot (so Hypothesis's function-scoped-fixture check does not
apply). Runs are reproducible (derandomize, no example database) and count their cases. The
harness and the strategies are in support/fuzz_harness.py, fuzz_requests.py and fuzz_values.py.
"""
import pytest

from support.fuzz_harness import CASES_PER_RUN, RAISED_LIMITS, SHARE_OF_CASES, Harness, run_fuzz
from support.fuzz_requests import hostile_bodies, routes_methods_identities, valid_looking_requests


@pytest.fixture
def harness(app):
    harness = Harness(app)
    yield harness
    harness.close()


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
