"""Strict UUID parsing for anything a client sends."""
import re
from uuid import UUID

# Python's UUID() also accepts braces, "urn:uuid:", missing hyphens, surrounding spaces and any
# Unicode digit; clients must send the one canonical spelling, so look-alikes never match.
CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_uuid(value: str) -> UUID:
    """Return the UUID spelled by `value`, or raise ValueError."""
    if not CANONICAL_UUID.fullmatch(value):
        raise ValueError(f"not a UUID: {value[:64]!r}")
    return UUID(value)
