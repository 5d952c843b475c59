"""The API's OpenAPI 3.1 document (/api/openapi.json), read the way the tests need it, and values held to its schemas.

Its schemas are JSON Schema 2020-12, checked by jsonschema's Draft202012Validator against the
whole document, where every `$ref` points (#/components/schemas/...). Two checks go beyond the
validator's defaults: an integer is a JSON integer, never a float such as 1.0 (which the
2020-12 draft would accept), and `format` is asserted (date-time as RFC 3339, uuid).
"""
import re
from datetime import datetime

from jsonschema import Draft202012Validator, FormatChecker, validators
from referencing import Registry
from referencing.jsonschema import DRAFT202012

ROUTE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DOCUMENT_URI = "https://tracker.test/api/openapi.json"  # the document's name in the registry; never fetched

StrictValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)
FORMATS = FormatChecker(["uuid"])


@FORMATS.checks("date-time", raises=ValueError)
def is_rfc3339(value) -> bool:
    if not isinstance(value, str):
        return True  # `type` speaks for other values
    datetime.fromisoformat(value)  # a real moment, not only the right shape
    return bool(RFC3339.match(value))


def doc_path(rule: str) -> str:
    """/api/modules/<slug>/progress -> /api/modules/{slug}/progress"""
    return ROUTE_ARGUMENT.sub(lambda match: "{" + match.group(1) + "}", rule)


def api_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]


def field_type(schema: dict) -> str:
    """A request field's type; an optional field may also be null, which counts as absent."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    (kind,) = [kind for kind in types if kind != "null"]
    return kind


def success_code(operation: dict) -> int:
    (code,) = [int(code) for code in operation["responses"] if code.startswith("2")]
    return code


def pointer(*parts: str) -> str:
    """A JSON Pointer into the document: pointer("paths", "/api/x", "get") -> /paths/~1api~1x/get"""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def response_schema_pointer(path: str, method: str, status: int) -> str:
    """Where the JSON schema of an operation's answer with `status` is."""
    return pointer("paths", path, method, "responses", str(status), "content", "application/json", "schema")


ERROR_SCHEMA = pointer("components", "schemas", "Error")


class OpenApi:
    """The document, its `$ref`s followed by a referencing Registry, and a validator per schema."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(doc))
        self.resolver = self.registry.resolver(base_uri=DOCUMENT_URI)
        self.validators = {}

    def resolve(self, node: dict) -> dict:
        """The node, or what its `$ref` (and theirs) point to."""
        while "$ref" in node:
            node = self.resolver.lookup(node["$ref"]).contents
        return node

    def operations(self):
        """(path, method, operation) for every documented operation."""
        for path, item in self.doc["paths"].items():
            for method, operation in item.items():
                if method != "parameters":
                    yield path, method, operation

    def request_schema(self, operation: dict) -> dict | None:
        body = operation.get("requestBody")
        return self.resolve(body["content"]["application/json"]["schema"]) if body else None

    def problems(self, value, schema_pointer: str) -> list[str]:
        """How `value` breaks the schema at `schema_pointer` in the document, one line a problem; [] if it fits."""
        validator = self.validators.get(schema_pointer)
        if validator is None:
            schema = {"$ref": f"{DOCUMENT_URI}#{schema_pointer}"}
            validator = StrictValidator(schema, registry=self.registry, format_checker=FORMATS)
            self.validators[schema_pointer] = validator
        return [f"{error.json_path}: {error.message}"[:300] for error in validator.iter_errors(value)]
