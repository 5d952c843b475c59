"""The examples in /api/openapi.json: real ids of the served content that fit together, so requests built from them succeed.

A schema-driven fuzzer (test_fuzz_schemathesis.py) starts from them; with made-up ids it would
only ever get 404s. They come from the content being served, and follow it when it is reloaded.
"""
import json
import uuid
from urllib.parse import urlencode
from uuid import UUID

import pytest

from support.content import HOW_MEMORY, rewrite
from support.fuzz_harness import RAISED_LIMITS, Harness
from support.fuzz_requests import Req
from support.openapi import success_code


@pytest.fixture
def content_dir(editable_content):
    """A copy of the demo content, which one test edits."""
    return editable_content


def body_examples(doc: dict) -> dict:
    return {name: schema["examples"][0] for name, schema in doc["components"]["schemas"].items() if "examples" in schema}


def path_examples(doc: dict) -> dict:
    return {
        (path, parameter["name"]): parameter["example"]
        for path, item in doc["paths"].items()
        for parameter in item.get("parameters", [])
    }


def as_form(body: dict) -> bytes:
    return urlencode({name: json.dumps(value) if isinstance(value, bool) else value for name, value in body.items()}).encode()


def test_the_examples_name_one_placement_of_the_served_content(client, demo):
    doc = client.get("/api/openapi.json").get_json()
    bodies, arguments = body_examples(doc), path_examples(doc)
    heartbeat = bodies["Heartbeat"]
    module = demo.modules_by_id[UUID(heartbeat["module_id"])]
    section = module.section_for(UUID(heartbeat["content_id"]))
    assert str(section.outcome.id) == heartbeat["lo_id"]
    assert not section.optional and not section.lens.has_chat, "completing it needs no message to the tutor first"
    assert bodies["Completion"]["content_id"] == bodies["ModuleProgressUpdate"]["contentId"] == str(section.lens.id)
    assert bodies["Completion"]["module_slug"] == module.slug
    assert set(arguments) == {
        ("/api/modules/{slug}/progress", "slug"), ("/api/modules/{slug}/{lens_ref}/chat", "slug"),
        ("/api/modules/{slug}/{lens_ref}/chat", "lens_ref"),
    }
    assert arguments["/api/modules/{slug}/progress", "slug"] == arguments["/api/modules/{slug}/{lens_ref}/chat", "slug"] == module.slug
    assert module.section_named(arguments["/api/modules/{slug}/{lens_ref}/chat", "lens_ref"]).lens.has_chat


@pytest.mark.app_config(**RAISED_LIMITS)
def test_a_request_built_from_the_examples_succeeds_in_every_body_encoding(app):
    harness = Harness(app)
    try:
        arguments = path_examples(harness.doc)
        for path, method, operation in harness.openapi.operations():
            url = path.format(**{name: value for (at, name), value in arguments.items() if at == path})
            schema = harness.openapi.request_schema(operation)
            example = None if schema is None else schema["examples"][0]
            encodings = [(None, None)] if example is None else [
                (json.dumps(example).encode(), "application/json"),
                (json.dumps(example).encode(), "text/plain;charset=UTF-8"),
                (as_form(example), "application/x-www-form-urlencoded"),
            ]
            for body, content_type in encodings:
                req = Req("example", method.upper(), url, headers={"X-Anonymous-Token": str(uuid.uuid4())},
                          body=body, content_type=content_type)
                response = harness.check(req)  # which also holds the answer to the documented shape
                assert response.status_code == success_code(operation), (path, method, content_type, response.get_data()[:300])
    finally:
        harness.close()


def test_the_examples_follow_the_content_when_it_is_reloaded(app, client, content_dir):
    before = body_examples(client.get("/api/openapi.json").get_json())["Heartbeat"]
    rewrite(content_dir / HOW_MEMORY, lambda module: module["outcomes"][0]["lenses"].pop(0))
    assert app.extensions["tracker.content"].reload_if_changed()
    after = body_examples(client.get("/api/openapi.json").get_json())["Heartbeat"]
    index = app.extensions["tracker.content"].index
    assert after["content_id"] != before["content_id"]
    assert after["content_id"] == str(index.modules_by_id[UUID(after["module_id"])].outcomes[0].lens_refs[0].lens.id)
