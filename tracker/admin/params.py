"""Query parameters of the admin pages, checked: anything malformed is a 400 that says what is wrong."""

import base64
import binascii
import json
from datetime import date, datetime, time, timezone

from werkzeug.exceptions import BadRequest

from tracker.progress.dashboard import LearnerQuery

SORTS = {"last_active": "last active", "time": "time spent", "modules": "modules completed"}
MAX_SEARCH = 100


def learner_query(args) -> LearnerQuery:
    """The learner list's search, sort, direction and page cursor from the query string."""
    sort = args.get("sort", "last_active")
    if sort not in SORTS:
        raise BadRequest(f"Unknown sort {sort[:40]!r}: use one of {', '.join(SORTS)}.")
    direction = args.get("dir", "desc")
    if direction not in ("asc", "desc"):
        raise BadRequest("The direction must be 'asc' or 'desc'.")
    search = args.get("q", "").strip()
    if len(search) > MAX_SEARCH or any(ord(c) < 32 for c in search):
        raise BadRequest(f"The search must be at most {MAX_SEARCH} printable characters.")
    after = decode_cursor(args["after"], sort, direction) if args.get("after") else None
    return LearnerQuery(search=search, sort=sort, descending=direction == "desc", after=after)


def encode_cursor(after: tuple, sort: str, direction: str) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in after]
    raw = json.dumps([sort, direction, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, direction: str) -> tuple:
    """The position a page starts after (see learners.order_columns); refuses cursors made for another order."""
    expected = (datetime, int, int) if sort == "last_active" else (int, datetime, int, int)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, cursor_direction, *values = json.loads(raw)
        if len(values) != len(expected):
            raise ValueError("wrong length")
        position = tuple(checked(value, kind) for value, kind in zip(values, expected))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The page cursor is not valid; start again from the first page.") from None
    if (cursor_sort, cursor_direction) != (sort, direction):
        raise BadRequest("The page cursor belongs to another sort order; start again from the first page.")
    return position


def checked(value, kind):
    """A cursor value of the expected kind: a timezone-aware timestamp, or a 64-bit whole number."""
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive timestamp")
        return moment
    if type(value) is not int or abs(value) >= 2**63:
        raise ValueError("not a 64-bit whole number")
    return value


def since_date(args) -> datetime | None:
    """The start of the UTC day given as `since=YYYY-MM-DD`, or None."""
    raw = args.get("since")
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=timezone.utc)
    except ValueError:
        raise BadRequest(f"since must be a date like 2026-11-01, got {raw[:40]!r}.") from None
