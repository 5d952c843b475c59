"""The OpenAPI document at /api/openapi.json: every /api route is in it, and it is the truth about each.

A request built from each request schema succeeds with the documented code, and each documented
field is one the route reads (a wrong value of it is refused naming it). Answers are held to the
document's schemas by jsonschema (support/openapi.py); the last tests show that this check
refuses a wrong answer. The fuzz itself is in test_fuzz_requests.py.
"""
import json
import re
import uuid

import pytest

from support.fuzz_harness import RAISED_LIMITS, Harness
from support.fuzz_requests import Req
from support.fuzz_values import placed_value, valid_value
from support.openapi import ERROR_SCHEMA, OpenApi, api_rules, doc_path, field_type, response_schema_pointer, success_code


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
    openapi = OpenApi(doc)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema = openapi.resolve(response)["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


@pytest.mark.app_config(**RAISED_LIMITS)
@pytest.mark.parametrize("high", [False, True], ids=["low-end", "high-end"])
def test_a_request_built_from_the_document_succeeds(app, client, high):
    """Each operation, with every documented field set to a valid value and with the required ones only."""
    harness = Harness(app)
    try:
        placement = next(p for p in harness.placements if p.lens_type == "article")
        for path, method, operation in harness.openapi.operations():
            schema = harness.openapi.request_schema(operation)
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
        for path, method, operation in harness.openapi.operations():
            schema = harness.openapi.request_schema(operation)
            if schema is None:
                continue
            url = path.format(**{name: placed_value(name, placement) for name in re.findall(r"\{(\w+)\}", path)})
            good = {name: valid_value(name, s, placement, high=False) for name, s in schema["properties"].items()}
            for name, field_schema in schema["properties"].items():
                wrong = [{"wrong": "type"}]
                if field_type(field_schema) == "integer":
                    wrong += [field_schema["minimum"] - 1, field_schema["maximum"] + 1, 1.5, str(field_schema["minimum"])]
                if field_type(field_schema) == "string":
                    wrong += [12345] + ([field_schema["enum"][0].upper() + "x"] if "enum" in field_schema else [])
                    if field_schema.get("format") == "uuid":
                        wrong.append("not-a-uuid")
                    if "maxLength" in field_schema:
                        wrong.append("x" * (field_schema["maxLength"] + 1))
                if field_type(field_schema) == "boolean":
                    wrong += ["yes", 1]
                cases = [("missing", {k: v for k, v in good.items() if k != name})] if name in schema["required"] else []
                cases += [(repr(value)[:40], {**good, name: value}) for value in wrong]
                for label, body in cases:
                    before = harness.snapshot()
                    response = harness.send(Req("field", method.upper(), url, headers=headers, body=json.dumps(body).encode(), content_type="application/json"))
                    assert response.status_code == 422, (path, name, label, response.get_data()[:200])
                    assert name.lower() in response.get_json()["error"].lower(), (path, name, label, response.get_json())
                    assert harness.snapshot() == before, (path, name, label)
    finally:
        harness.close()


# --- The check itself: an answer that breaks the document fails it ---------------------------------

MODULE, LENS = "how-memory-works", "memory-in-three-stages"
MODULE_STATE = ("/api/modules/{slug}/progress", "get")


def module_state(api, make_learner) -> dict:
    """A real answer of GET /api/modules/how-memory-works/progress, with time and a completion in it."""
    learner = make_learner()
    assert api.heartbeat(learner, MODULE, LENS, 30).status_code == 204
    assert api.complete(learner, LENS, MODULE).status_code == 200
    return api.state(learner, MODULE)


WRONG_ANSWERS = [
    pytest.param(lambda a: a.pop("lenses"), "'lenses' is a required property", id="a-required-key-missing"),
    pytest.param(lambda a: a.update(surprise=1), "('surprise' was unexpected)", id="a-key-the-document-lacks"),
    pytest.param(lambda a: a["lenses"][0].update(surprise=1), "('surprise' was unexpected)", id="an-extra-key-behind-a-ref"),
    pytest.param(lambda a: a["lenses"][0].pop("optional"), "'optional' is a required property", id="a-key-missing-behind-a-ref"),
    pytest.param(lambda a: a["progress"].update(total=1.0), "1.0 is not of type 'integer'", id="a-float-for-an-integer"),
    pytest.param(lambda a: a.update(time_spent_s=True), "True is not of type 'integer'", id="a-boolean-for-an-integer"),
    pytest.param(lambda a: a.update(continue_lens=7), "7 is not of type 'string', 'null'", id="a-number-for-a-string"),
    pytest.param(lambda a: a.update(status="done"), "'done' is not one of", id="a-value-outside-the-enum"),
    pytest.param(lambda a: a["module"].update(id="not-a-uuid"), "'not-a-uuid' is not a 'uuid'", id="not-a-uuid"),
    pytest.param(lambda a: a["lenses"][0].update(completed_at="yesterday"), "'yesterday' is not a 'date-time'",
                 id="not-a-date-time"),
    pytest.param(lambda a: a["lenses"][0].update(completed_at="2026-13-01T09:00:00Z"), "is not a 'date-time'",
                 id="a-date-time-of-no-real-day"),
    pytest.param(lambda a: a["learning_outcomes"][0].update(time_spent_s=-1), "-1 is less than the minimum of 0",
                 id="below-the-minimum"),
]


@pytest.mark.parametrize("break_it, says", WRONG_ANSWERS)
def test_the_schema_check_refuses_an_answer_that_breaks_the_document(client, api, make_learner, break_it, says):
    openapi = OpenApi(client.get("/api/openapi.json").get_json())
    schema = response_schema_pointer(*MODULE_STATE, 200)
    answer = module_state(api, make_learner)
    assert openapi.problems(answer, schema) == [], "the real answer fits"
    break_it(answer)
    found = openapi.problems(answer, schema)
    assert any(says in problem for problem in found), found


@pytest.mark.parametrize(
    "body",
    [{"error": "no such module"}, {"status": 404}, {"error": "", "status": 404}, {"error": 404, "status": 404},
     {"error": "no such module", "status": 200}, {"error": "no such module", "status": 404, "detail": "more"}],
    ids=["status-missing", "error-missing", "empty-error", "a-number-for-the-error", "a-2xx-status", "an-extra-key"],
)
def test_the_schema_check_refuses_an_error_body_of_another_shape(client, body):
    openapi = OpenApi(client.get("/api/openapi.json").get_json())
    assert openapi.problems({"error": "no such module", "status": 404}, ERROR_SCHEMA) == []
    assert openapi.problems(body, ERROR_SCHEMA)


@pytest.mark.app_config(**RAISED_LIMITS)
def test_the_fuzz_harness_fails_a_case_whose_answer_breaks_the_document(app, api, make_learner):
    """The harness holds each answer to the schema of the operation it came from, and fails the case if it breaks it."""
    harness = Harness(app)
    try:
        operation = harness.doc["paths"][MODULE_STATE[0]][MODULE_STATE[1]]
        answer = module_state(api, make_learner)

        def as_answered(body) -> object:
            return app.response_class(json.dumps(body), status=200, mimetype="application/json")

        harness.check_success_body(MODULE_STATE, operation, as_answered(answer), "the real answer")
        del answer["lenses"][0]["name"]
        with pytest.raises(AssertionError, match="'name' is a required property"):
            harness.check_success_body(MODULE_STATE, operation, as_answered(answer), "an answer without a lens name")
        refused = Req("wrong-error", "GET", "/api/modules/no-such-module/progress")
        error = app.response_class(json.dumps({"error": "no such module", "status": 404, "detail": "x"}), status=404,
                                   mimetype="application/json")
        with pytest.raises(AssertionError, match="an error with a key too many"):
            harness.check_error(refused, error, "an error with a key too many")
    finally:
        harness.close()
