"""Placing a cohort's learners from a CSV file of emails and group names: every row, or none.

No Flask here. The first line names the columns: `email` and `group`, in either order (other
columns are ignored). Each row puts the account with that email in the named group of the
cohort, moving them from another of its groups. Every row is checked before anything is written:
a malformed email, an unknown group, an email without an account, an email listed twice, or a
row without both values refuses the whole file, and the refusal names each bad row by its line.
"""
import csv
import io
from dataclasses import dataclass

from sqlalchemy import Connection

from tracker.clock import utc_now
from tracker.database import Db

from . import store
from .errors import ImportRefused, InvalidInput
from .service import find_cohort
from .store import GroupRow
from .values import checked_email

COLUMNS = ("email", "group")


@dataclass(frozen=True)
class ImportReport:
    added: int
    moved: int
    unchanged: int


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    group: str


def import_memberships(db: Db, cohort_id: int, data: bytes | str, now=None) -> ImportReport:
    """Place every learner the file lists, in one transaction; ImportRefused, with each bad row, writes nothing."""
    rows = read_rows(data)
    with db.transaction() as conn:
        find_cohort(conn, cohort_id)
        problems, placements = check_rows(conn, cohort_id, rows)
        if problems:
            raise ImportRefused(problems)
        before = store.groups_in_cohort(conn, cohort_id, [user_id for user_id, _ in placements])
        store.place_many(conn, cohort_id, placements, now or utc_now())
    moved = sum(1 for user_id, group_id in placements if before.get(user_id) not in (None, group_id))
    unchanged = sum(1 for user_id, group_id in placements if before.get(user_id) == group_id)
    return ImportReport(len(placements) - moved - unchanged, moved, unchanged)


def read_rows(data: bytes | str) -> list[Row]:
    """The file's rows with their line numbers; InvalidInput when it is not a CSV with both columns."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # spreadsheets save "CSV UTF-8" with a byte order mark
        except UnicodeDecodeError:
            raise InvalidInput("The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8”.") from None
    reader = csv.reader(io.StringIO(data.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, [])
        where = column_positions(header)
        rows = [row_at(reader.line_num, fields, where) for fields in reader if any(f.strip() for f in fields)]
    except csv.Error as error:
        raise InvalidInput(f"Line {reader.line_num} cannot be read as CSV ({error}).") from None
    if not rows:
        raise InvalidInput("The file lists no learners: after the line naming the columns, give one email and group a line.")
    return rows


def column_positions(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise InvalidInput(f"Line 1 must name the columns email and group (it lacks {' and '.join(missing)}); "
                           f"it reads: {','.join(header)[:80]!r}.")
    return {column: names.index(column) for column in COLUMNS}


def row_at(line: int, fields: list[str], where: dict[str, int]) -> Row:
    value = {column: fields[at].strip() if at < len(fields) else "" for column, at in where.items()}
    return Row(line, value["email"], value["group"])


def check_rows(conn: Connection, cohort_id: int, rows: list[Row]) -> tuple[list[tuple[int, str]], list[tuple[int, int]]]:
    """(line, why) for each bad row; and, when there are none, (account id, group id) for each row."""
    groups, problems, wanted, first_line = store.groups_of(conn, cohort_id), [], [], {}
    for row in rows:
        try:
            email = checked_email(row.email) if row.email else None
        except InvalidInput as problem:
            problems.append((row.line, str(problem)))
            continue
        if email is None or not row.group:
            problems.append((row.line, "needs both an email and a group."))
        elif email in first_line:
            problems.append((row.line, f"{email} is listed already, on line {first_line[email]}."))
        elif (group := group_named(groups, row.group)) is None:
            first_line[email] = row.line
            problems.append((row.line, f"the cohort has no group called “{row.group[:80]}”."))
        else:
            first_line[email] = row.line
            wanted.append((row.line, email, group.id))
    accounts = store.account_ids(conn, [email for _, email, _ in wanted])
    problems += [(line, f"no account has the email {email}; they sign up first.") for line, email, _ in wanted if email not in accounts]
    return sorted(problems), [(accounts[email], group_id) for _, email, group_id in wanted if email in accounts]


def group_named(groups: list[GroupRow], name: str) -> GroupRow | None:
    """The group of this name; letter case aside, when that picks out one group."""
    name = " ".join(name.split())
    exact = [group for group in groups if group.name == name]
    folded = [group for group in groups if group.name.casefold() == name.casefold()]
    return (exact or folded)[0] if len(exact) == 1 or len(folded) == 1 else None
