"""The OpenAPI 3.1 description of the JSON API, served at GET /api/openapi.json.

Written by hand as a dict, next to the routes it describes, and held to the app by the tests:
every /api route is here, a request built from each schema succeeds, each documented field is
one the route reads, and the answers have the documented shapes (tests/test_fuzz_document.py,
test_fuzz_requests.py), and schemathesis, fuzzing the running app from this document, finds
nothing (test_fuzz_schemathesis.py).

What depends on settings (the longest heartbeat, the largest body, the session cookie) comes
from the app's config. What depends on the content comes from the index being served: every
path argument and body field has an example, real ids that fit together (tracker/api/examples.py),
so that a request built from the examples reaches the code behind the route instead of a 404.
The document is built once for each set of examples and settings, and again after a reload
that changes them.

A request body is described as the route reads it (tracker/http/body.py): as JSON, as JSON sent
as text/plain, and form-encoded, where every field is text (its own schema, `<Name>Form`). A
streamed answer's schema is that of one event, as tools read an event stream's schema before
OpenAPI 3.2.
"""
from functools import lru_cache

from flask import current_app, jsonify

from tracker.app_state import content_index
from tracker.chat import MAX_MESSAGE_CHARS
from tracker.http.body import FORM_BOOLEANS, MAX_TEXT_LENGTH
from tracker.progress.model import MAX_BACKLOG_AGE_S, MAX_CHUNK_ID

from . import bp
from .examples import Examples, examples_from

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
JSON_BODY_TYPES = ("application/json", "text/plain")  # text/plain: JSON from navigator.sendBeacon
FORM_BODY_TYPE = "application/x-www-form-urlencoded"  # htmx's heartbeats
BODY_SCHEMAS = ("Heartbeat", "Completion", "ModuleProgressUpdate", "ChatMessage")
# A message is trimmed of what str.strip() takes off, then must hold something, and no NUL (tracker/chat/service.py).
STRIPPED = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())  # U+3000 is the last
MESSAGE_PATTERN = f"^[^\\u0000]*[^\\u0000{STRIPPED}][^\\u0000]*$"
LEARNER = [{"anonymousToken": []}, {"anonymousCookie": []}, {"session": []}]


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def uuid(description: str) -> dict:
    return {"type": "string", "format": "uuid", "pattern": UUID_PATTERN, "description": description}


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def nullable_ref(name: str) -> dict:
    return {"oneOf": [ref(name), {"type": "null"}]}


def sse_event(name: str, data: dict) -> dict:
    """A Server-Sent Event named `name` whose data is JSON of the shape `data`."""
    return strict({
        "event": {"const": name},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
    })


def strict(properties: dict, required: list[str] | None = None) -> dict:
    """An object with exactly these properties: the shape of everything the API answers."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def errors(*statuses: int) -> dict:
    return {str(status): {"$ref": f"#/components/responses/{status}"} for status in statuses}


def request_body(schema: str) -> dict:
    content = {media_type: {"schema": ref(schema)} for media_type in JSON_BODY_TYPES}
    return {"required": True, "content": {**content, FORM_BODY_TYPE: {"schema": ref(f"{schema}Form")}}}


def as_form(schema: dict) -> dict:
    """The body's schema when it comes form-encoded, read as tracker/http/body.py reads a form.

    Every field of a form is text, and none is null: an empty one counts as absent, and a
    boolean may be spelled as forms spell it. Numbers and ids are written as in JSON.
    """
    def field(name: str, field_schema: dict) -> dict:
        types = field_schema["type"]
        field_schema = {**field_schema, "type": types[0]} if isinstance(types, list) else field_schema
        spellings = list(FORM_BOOLEANS) if field_schema["type"] == "boolean" else []
        if name not in schema["required"]:
            spellings.append("")
        if not spellings:
            return field_schema
        return {"anyOf": [field_schema, {"type": "string", "enum": spellings}], "examples": field_schema["examples"]}

    form = {name: field(name, field_schema) for name, field_schema in schema["properties"].items()}
    return {**schema, "properties": form, "description": f"{schema['description']} An empty field counts as absent."}


def json_response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    return {**response, "headers": headers} if headers else response


def path_parameter(name: str, description: str, example: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description,
            "example": example}


def body_schema(schema: dict, example: dict) -> dict:
    """A request body as tracker/http/body.py reads it, with `example` as its example.

    Each field's value in `example` is that field's example. Unknown fields are ignored, and an
    optional field that is null counts as absent (the retry queue of tracker.js sends one so).
    """
    def field(name: str, field_schema: dict) -> dict:
        optional = name not in schema["required"]
        return {**(nullable(field_schema) if optional else field_schema), "examples": [example[name]]}

    properties = {name: field(name, field_schema) for name, field_schema in schema["properties"].items()}
    description = f"{schema['description']} Unknown fields are ignored; an optional field that is null counts as absent."
    return {**schema, "description": description, "properties": properties, "examples": [example]}


CREDITED = {
    "X-Credited-Seconds": {
        "description": "the seconds actually credited, after the anti-inflation budget",
        "schema": {"type": "integer", "minimum": 0},
    }
}
ERROR_DESCRIPTIONS = {
    400: "malformed: the body is not a JSON object (malformed JSON, NaN or Infinity, a key twice in one object,"
         " too deeply nested, empty),"
         " or the anonymous token is not a UUID",
    401: "no learner: not logged in and no anonymous token",
    403: "a cookie-authenticated request from another site",
    404: "no such module, lens or placement",
    409: "a conflict with the learner's state: a required chat lens completed before any message,"
         " or a tutor answer still streaming",
    413: "the body is larger than the limit",
    422: "a field is missing, of the wrong type or out of range,"
         " or a string is not Unicode text; the message names the field",
    429: "too many requests of this kind from this learner or address; Retry-After says when to try again",
    503: "the database is unavailable; try again shortly",
}


CHUNK_ID = {
    "type": "integer", "minimum": 1, "maximum": MAX_CHUNK_ID,
    "description": "the client's id for these seconds; the same chunk sent again (an answer was lost) is credited"
                   " nothing, so a client may retry freely",
}


def schemas(max_delta_s: int, examples: Examples) -> dict:
    seconds = min(30, max_delta_s)
    time_fields = {
        "completed": {"type": "boolean"},
        "completed_at": nullable({"type": "string", "format": "date-time"}),
        "time_spent_s": {"type": "integer", "minimum": 0},
        "time_to_complete_s": nullable({"type": "integer", "minimum": 0}),
    }
    estimates = {"estimated_s": {"type": "integer", "minimum": 0}, "remaining_s": {"type": "integer", "minimum": 0}}
    module = strict({"id": uuid("the module's id"), "slug": {"type": "string"}, "title": {"type": "string"}})
    status = {"type": "string", "enum": ["not_started", "in_progress", "completed"]}
    progress = strict({"completed": {"type": "integer", "minimum": 0}, "total": {"type": "integer", "minimum": 0}})
    message = strict({
        "id": {"type": "integer"},
        "role": {"type": "string", "enum": ["learner", "tutor"]},
        "text": {"type": "string"},
        "status": {"type": "string", "enum": ["complete", "interrupted"]},
        "created_at": {"type": "string", "format": "date-time"},
    })
    return {
        "Error": strict({
            "error": {"type": "string", "minLength": 1, "description": "what is wrong, naming the field"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "the HTTP status again"},
        }),
        "Heartbeat": body_schema({
            "type": "object",
            "description": "Active seconds on a lens.",
            "properties": {
                "content_id": uuid("the lens"),
                "time_delta_s": {"type": "integer", "minimum": 1, "maximum": max_delta_s},
                "lo_id": uuid("the learning outcome the lens is placed in; also credited"),
                "module_id": uuid("the module the lens is placed in; also credited"),
                "chunk_id": CHUNK_ID,
                "backlog_age_s": {
                    "type": "integer", "minimum": 0, "maximum": MAX_BACKLOG_AGE_S,
                    "description": "for seconds that could not be sent at the time: how many seconds ago the oldest"
                                   " of them was accrued, by the client's clock. Credited in full up to"
                                   " TRACKER_MAX_BACKLOG_S; older backlogs are credited nothing (204, X-Credited-Seconds: 0)",
                },
            },
            "required": ["content_id", "time_delta_s"],
        }, {
            "content_id": examples.lens_id, "time_delta_s": seconds, "lo_id": examples.lo_id,
            "module_id": examples.module_id, "chunk_id": 1, "backlog_age_s": 0,
        }),
        "Completion": body_schema({
            "type": "object",
            "description": "Completes a lens; its LO and module complete when all their required lenses have.",
            "properties": {
                "content_id": uuid("the lens"),
                "content_type": {"type": "string", "enum": ["lens"]},
                "module_slug": {
                    "type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH,
                    "description": "complete the lens in this module only; without it, in every module that holds it",
                },
                "time_delta_s": {
                    "type": "integer", "minimum": 0, "maximum": max_delta_s, "default": 0,
                    "description": "active seconds not yet sent, credited to the lens, its LO and module (of"
                                   " module_slug, needed when several modules hold the lens) within the heartbeat's"
                                   " budget before the completion snapshots time_to_complete_s",
                },
                "chunk_id": CHUNK_ID,
            },
            "required": ["content_id", "content_type"],
        }, {
            "content_id": examples.lens_id, "content_type": "lens", "module_slug": examples.module_slug,
            "time_delta_s": seconds, "chunk_id": 2,
        }),
        "ModuleProgressUpdate": body_schema({
            "type": "object",
            "description": "A heartbeat and/or a completion for one lens of the module.",
            "properties": {
                "contentId": uuid("a lens of the module"),
                "timeSpentS": {
                    "type": "integer", "minimum": 0, "maximum": max_delta_s, "default": 0,
                    "description": "active seconds to credit; 0 credits nothing. With completed, they are"
                                   " credited before the completion snapshots time_to_complete_s",
                },
                "completed": {"type": "boolean", "default": False, "description": "also complete the lens"},
            },
            "required": ["contentId"],
        }, {"contentId": examples.lens_id, "timeSpentS": seconds, "completed": True}),
        "ChatMessage": body_schema({
            "type": "object",
            "description": "A message to the tutor.",
            "properties": {
                "message": {
                    "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS, "pattern": MESSAGE_PATTERN,
                    "description": f"1 to {MAX_MESSAGE_CHARS} characters once trimmed, no NUL",
                },
            },
            "required": ["message"],
        }, {"message": "Why does testing myself help me remember?"}),
        "Module": module,
        "ModuleProgress": progress,
        "LearningOutcomeState": strict({"id": uuid("the LO"), "title": {"type": "string"}, **time_fields, **estimates}),
        "LensState": strict({
            "id": uuid("the lens"),
            "name": {"type": "string"},
            "title": {"type": "string"},
            "type": {"type": "string", "enum": ["article", "video", "chat", "text", "question"]},
            "optional": {"type": "boolean"},
            "hidden": {"type": "boolean", "description": "optional and not listed to learners"},
            "learning_outcome_id": uuid("the LO the lens is placed in"),
            "estimated_s": {"type": "integer", "minimum": 0},
            **time_fields,
        }),
        "ModuleState": strict({
            "module": ref("Module"),
            "status": status,
            "progress": ref("ModuleProgress"),
            **time_fields,
            **estimates,
            "continue_lens": nullable({"type": "string", "description": "the first required lens not completed"}),
            "learning_outcomes": {"type": "array", "items": ref("LearningOutcomeState")},
            "lenses": {"type": "array", "items": ref("LensState")},
        }),
        "CompletionResult": strict(
            {
                "completed_at": {"type": "string", "format": "date-time"},
                "modules": {
                    "type": "array",
                    "items": strict({"module": ref("Module"), "status": status, "progress": ref("ModuleProgress")}),
                },
                "module": ref("Module"),
                "module_status": status,
                "module_progress": ref("ModuleProgress"),
                "learning_outcomes": {"type": "array", "items": ref("LearningOutcomeState")},
                "lenses": {"type": "array", "items": ref("LensState")},
            },
            # The single-module fields come when module_slug was given or only one module holds the lens.
            required=["completed_at", "modules"],
        ),
        "ChatHistoryMessage": message,
        "ChatHistory": strict({"messages": {"type": "array", "items": ref("ChatHistoryMessage")}}),
        "ChatAnswerEvent": {
            "description": "One event of a streamed answer: its name, and its data, a JSON object on one line."
                           " The stored answer is null when none was stored (nothing arrived, or the learner's"
                           " data was deleted meanwhile).",
            "oneOf": [
                sse_event("chunk", strict({"text": {"type": "string", "description": "the next part of the answer"}})),
                sse_event("done", strict({"message": nullable_ref("ChatHistoryMessage"), "error": {"type": "null"}})),
                sse_event("error", strict({
                    "message": nullable_ref("ChatHistoryMessage"),
                    "error": {"type": "string", "minLength": 1, "description": "why the answer stopped"},
                })),
            ],
        },
    }


def paths(examples: Examples) -> dict:
    # Every write is rate limited per learner and per address (tracker/http/ratelimit.py): 429 with Retry-After.
    write_errors = (400, 401, 403, 404, 413, 422, 429, 503)
    slug = path_parameter("slug", "a module's slug", examples.module_slug)
    chat_lens_ref = path_parameter(
        "lens_ref", "the name (or id) of a lens placed in the module", examples.chat_lens_ref
    )
    return {
        "/api/progress/time": {
            "post": {
                "operationId": "recordTime",
                "summary": "Heartbeat: credit active seconds to a lens and, when given, its LO and module",
                "security": LEARNER,
                "requestBody": request_body("Heartbeat"),
                "responses": {
                    "204": {"description": "credited", "headers": CREDITED},
                    **errors(*write_errors),
                },
            }
        },
        "/api/progress/complete": {
            "post": {
                "operationId": "completeLens",
                "summary": "Complete a lens and propagate to its LO and module",
                "security": LEARNER,
                "requestBody": request_body("Completion"),
                "responses": {
                    "200": json_response(
                        "completed (or already complete); X-Credited-Seconds when time was sent", ref("CompletionResult"), CREDITED
                    ),
                    **errors(*write_errors, 409),
                },
            }
        },
        "/api/modules/{slug}/progress": {
            "parameters": [slug],
            "get": {
                "operationId": "getModuleProgress",
                "summary": "The learner's state in one module",
                "security": LEARNER,
                "responses": {"200": json_response("the module state", ref("ModuleState")), **errors(400, 401, 404, 503)},
            },
            "post": {
                "operationId": "updateModuleProgress",
                "summary": "A heartbeat and/or a completion for one lens of the module",
                "security": LEARNER,
                "requestBody": request_body("ModuleProgressUpdate"),
                "responses": {
                    "200": json_response(
                        "the module state; X-Credited-Seconds when time was sent", ref("ModuleState"), CREDITED
                    ),
                    **errors(*write_errors, 409),
                },
            },
        },
        "/api/modules/{slug}/{lens_ref}/chat": {
            "parameters": [slug, chat_lens_ref],
            "get": {
                "operationId": "getChat",
                "summary": "The learner's conversation with the tutor about a lens of the module",
                "security": LEARNER,
                "responses": {"200": json_response("the messages, oldest first", ref("ChatHistory")), **errors(400, 401, 404, 503)},
            },
            "post": {
                "operationId": "sendChatMessage",
                "summary": "Store a message to the tutor, then stream the answer",
                "description": "The message is stored before the tutor is asked. The answer streams as"
                               " Server-Sent Events: `chunk` events with `{text}`, then one `done` with"
                               " `{message, error: null}` (the stored answer, shaped as in the history) or `error`"
                               " with `{message, error}` (`message` is the part kept, or null).",
                "security": LEARNER,
                "requestBody": request_body("ChatMessage"),
                "responses": {
                    "200": {
                        "description": "the answer, streamed",
                        "content": {"text/event-stream": {"schema": ref("ChatAnswerEvent")}},
                    },
                    **errors(*write_errors, 409),
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": json_response("the OpenAPI document", {"type": "object"})},
            }
        },
    }


def with_forms(schemas: dict) -> dict:
    return {**schemas, **{f"{name}Form": as_form(schemas[name]) for name in BODY_SCHEMAS}}


@lru_cache(maxsize=8)
def document(examples: Examples, max_delta_s: int, max_body_bytes: int, session_cookie: str) -> dict:
    error = {"application/json": {"schema": ref("Error")}}
    responses = {
        str(status): {"description": description, "content": error}
        for status, description in ERROR_DESCRIPTIONS.items()
    }
    responses["413"]["description"] = f"the body is larger than {max_body_bytes} bytes"
    responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tracker",
            "version": "1",
            "description": (
                "Learner progress: time and completion per lens, learning outcome and module, and the tutor chat."
                " The learner is the logged-in user, or else the anonymous token (a UUID) from the"
                " X-Anonymous-Token header or the tracker_anon cookie (never the URL, which access logs keep)."
                " Bodies may be JSON, form-encoded, or JSON sent as text/plain (navigator.sendBeacon)."
                " Every error is JSON, {\"error\": \"...\", \"status\": N}, and writes nothing;"
                " a method a path does not list gets 405."
            ),
        },
        "paths": paths(examples),
        "components": {
            "schemas": with_forms(schemas(max_delta_s, examples)),
            "responses": responses,
            "securitySchemes": {
                "anonymousToken": {"type": "apiKey", "in": "header", "name": "X-Anonymous-Token"},
                "anonymousCookie": {"type": "apiKey", "in": "cookie", "name": "tracker_anon"},
                "session": {
                    "type": "apiKey", "in": "cookie", "name": session_cookie,
                    "description": "a logged-in user; cookie-authenticated POSTs must come from this site",
                },
            },
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    """The API description, for client generators and for reading."""
    config = current_app.config
    examples = examples_from(content_index())
    return jsonify(document(examples, config["TRACKER_MAX_DELTA_S"], config["MAX_CONTENT_LENGTH"], config["SESSION_COOKIE_NAME"]))
