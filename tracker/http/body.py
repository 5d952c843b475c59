"""Read a request body into typed values, refusing anything malformed with a named field.

Heartbeats arrive in three shapes: JSON from API clients, form-encoded from htmx, and raw
JSON with no or a text/plain Content-Type from navigator.sendBeacon. All get the same rules.
"""
import json
import math
import re
from uuid import UUID

from flask import request
from werkzeug.exceptions import BadRequest, UnprocessableEntity

from tracker.uuids import parse_uuid

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_TEXT_LENGTH = 200
FORM_INTEGER = re.compile(r"-?[0-9]{1,18}")
# How forms spell a boolean: true and false, and an HTML checkbox's on, and 1 and 0.
FORM_BOOLEANS = {"true": True, "on": True, "1": True, "false": False, "0": False}
LARGEST_INTEGER_DIGITS = 40


def parse_json_int(digits: str) -> int:
    """Clamp absurdly long integer literals, which Python refuses to convert, so range checks name the field."""
    if len(digits.lstrip("-")) > LARGEST_INTEGER_DIGITS:
        return -(10**LARGEST_INTEGER_DIGITS) if digits.startswith("-") else 10**LARGEST_INTEGER_DIGITS
    return int(digits)


def refuse_non_json_constant(name: str):
    """Python reads NaN and Infinity, which are not JSON: a client sending them has a bug worth hearing about."""
    raise ValueError(f"{name} is not a JSON value")


def strict_object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, refused when it is ambiguous (400) or cannot be stored (422), naming the key.

    A key given twice could mean either value, and parsers disagree on which wins: the body is
    malformed. A string with an unpaired surrogate escape ("\\ud800") parses in Python but is
    not Unicode text, and no database takes it.
    """
    fields = dict(pairs)
    if len(fields) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise BadRequest(f"duplicate key {key!r}: it appears more than once in a JSON object; send it once")
            seen.add(key)
    for key, value in pairs:
        for text in (key, value) if isinstance(value, str) else (key,):
            if not text.isascii() and not is_unicode_text(text):
                raise UnprocessableEntity(f"{key!r} holds an unpaired surrogate, which is not Unicode text")
    return fields


def is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def describe(value) -> str:
    """A short account of a wrong value for an error message; never recurses into nested values."""
    if isinstance(value, str):
        return repr(value[:64])
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**12 else "a huge number"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "a number too large to represent"
    return "an array" if isinstance(value, list) else "an object"


class RequestBody:
    """The fields of one request body, with typed getters that raise 422 naming the field."""

    def __init__(self, fields: dict, from_form: bool):
        self.fields, self.from_form = fields, from_form

    @classmethod
    def read(cls) -> "RequestBody":
        """The current request's body, parsed once (TrackerRequest.body): a rate limit may look first."""
        return request.body

    @classmethod
    def parse(cls, request) -> "RequestBody":
        if request.mimetype in FORM_TYPES:
            return cls(request.form.to_dict(), from_form=True)
        raw = request.get_data(cache=True)
        if not raw.strip():
            raise BadRequest("the request body is empty; send a JSON object")
        try:
            data = json.loads(
                raw, object_pairs_hook=strict_object, parse_int=parse_json_int, parse_constant=refuse_non_json_constant
            )
        except ValueError as error:
            raise BadRequest(f"the request body is not valid JSON: {str(error)[:120]}") from None
        except RecursionError:
            raise BadRequest("the request body nests JSON arrays or objects too deeply") from None
        if not isinstance(data, dict):
            raise BadRequest("the request body must be a JSON object")
        return cls(data, from_form=False)

    def _value(self, name: str, required: bool):
        value = self.fields.get(name)
        if value is None or (self.from_form and value == ""):
            if required:
                hint = " (the body was read as a form, as its Content-Type says)" if self.from_form else ""
                raise UnprocessableEntity(f"{name} is required{hint}")
            return None
        return value

    def uuid(self, name: str, required: bool = True) -> UUID | None:
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise UnprocessableEntity(f"{name} must be a UUID string")
        try:
            return parse_uuid(value)
        except ValueError:
            raise UnprocessableEntity(f"{name} must be a UUID, got {value[:64]!r}") from None

    def integer(self, name: str, required: bool = True) -> int | None:
        value = self._value(name, required)
        if value is None:
            return None
        if self.from_form and isinstance(value, str) and FORM_INTEGER.fullmatch(value):
            return int(value)
        # JSON has one kind of number, and JSON Schema (the API's document) calls 30.0 an integer:
        # encoders that write every number with a fraction (Python's for a float) send whole numbers so.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise UnprocessableEntity(f"{name} must be a whole number, got {describe(value)}")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self._value(name, required=False)
        if value is None:
            return default
        if self.from_form and value in FORM_BOOLEANS:
            return FORM_BOOLEANS[value]
        if not isinstance(value, bool):
            raise UnprocessableEntity(f"{name} must be true or false")
        return value

    def text(self, name: str, required: bool = True) -> str | None:
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT_LENGTH:
            raise UnprocessableEntity(f"{name} must be a string of 1 to {MAX_TEXT_LENGTH} characters")
        return value
