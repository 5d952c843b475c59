"""What the cohort forms may hold: each check takes the text as submitted and returns the value, or
raises InvalidInput with a message that names the field and the problem. No Flask here."""
import zoneinfo
from datetime import date, datetime, time, timezone
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from tracker.accounts import normalise_email

from .errors import InvalidInput
from .schedule import WEEKDAYS, WeeklySlot

MAX_NAME_CHARS = 120
MAX_INVITE_DAYS = 365
MEETING_FORMAT = "YYYY-MM-DD HH:MM"


def text_of(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def checked_name(value, field: str) -> str:
    name = " ".join(text_of(value).split())  # one line, single spaces: names are shown in lists and links
    if not name:
        raise InvalidInput(f"{field}: give a name.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"{field}: {len(name)} characters is too long; the most is {MAX_NAME_CHARS}.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInput(f"{field}: control characters cannot be part of a name.")
    return name


def checked_date(value, field: str) -> date:
    try:
        return date.fromisoformat(text_of(value))
    except ValueError:
        raise InvalidInput(f"{field}: {text_of(value)[:40]!r} is not a date as YYYY-MM-DD.") from None


def checked_time(value, field: str) -> time:
    raw = text_of(value)
    try:
        parsed = time.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is None or len(raw) != 5:  # HH:MM, as a browser's time input sends it
        raise InvalidInput(f"{field}: {raw[:40]!r} is not a time as HH:MM (24-hour clock).")
    return parsed


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def checked_time_zone(value, field: str = "Time zone") -> str:
    name = text_of(value)
    if name not in known_time_zones():
        raise InvalidInput(f"{field}: {name[:64]!r} is not a time zone name such as Europe/London or America/New_York.")
    return name


def checked_weekday(value, field: str) -> int:
    raw = text_of(value)
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 6:
        raise InvalidInput(f"{field}: pick a day of the week ({WEEKDAYS[0]} to {WEEKDAYS[6]}).")
    return int(raw)


def checked_weekly_slot(weekday, local_time, time_zone, field: str) -> WeeklySlot | None:
    """A weekly slot, or None when both its day and its time are left blank."""
    if not text_of(weekday) and not text_of(local_time):
        return None
    if not text_of(weekday) or not text_of(local_time):
        raise InvalidInput(f"{field}: give both the day of the week and the time, or neither.")
    return WeeklySlot(checked_weekday(weekday, field), checked_time(local_time, field), checked_time_zone(time_zone))


def checked_meeting_dates(value, time_zone: str, count: int, starts_on: date) -> list[datetime]:
    """One date and time per line, on the time zone's clocks, in order; returned in UTC."""
    lines = [line.strip() for line in text_of(value).splitlines() if line.strip()]
    if len(lines) != count:
        raise InvalidInput(f"Meeting dates: the course has {count} meeting{'s' if count != 1 else ''}; "
                           f"give one date for each, one a line ({len(lines)} given).")
    zone, moments = zoneinfo.ZoneInfo(time_zone), []
    for number, line in enumerate(lines, 1):
        try:
            local = datetime.strptime(line, "%Y-%m-%d %H:%M")
        except ValueError:
            raise InvalidInput(f"Meeting dates, meeting {number}: {line[:40]!r} is not a date and time as {MEETING_FORMAT}.") from None
        if local.date() < starts_on:
            raise InvalidInput(f"Meeting dates, meeting {number}: {line} is before the cohort starts ({starts_on}).")
        moment = local.replace(tzinfo=zone).astimezone(timezone.utc)
        if moments and moment <= moments[-1]:
            raise InvalidInput(f"Meeting dates, meeting {number}: {line} is not after meeting {number - 1}; list them in order.")
        moments.append(moment)
    return moments


def checked_email(value) -> str:
    """The email as accounts store it (tracker/accounts.py), once it is a well-formed address."""
    raw = text_of(value)
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError as problem:
        raise InvalidInput(f"{raw[:80]!r} is not an email address: {problem}") from None
    return normalise_email(raw)


def checked_invite_days(value) -> int | None:
    """How many days an invite link works; blank means it never expires."""
    raw = text_of(value)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_INVITE_DAYS:
        raise InvalidInput(f"Expires after: give a number of days from 1 to {MAX_INVITE_DAYS}, or leave it blank for a link that never expires.")
    return int(raw)


def checked_id(value, field: str) -> int:
    raw = text_of(value)
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 2**31 - 1:
        raise InvalidInput(f"{field}: pick one from the list.")
    return int(raw)
