"""Nudges before a meeting: who gets which email, sending each at most once, and a learner's choice. No Flask here.

For each group whose next meeting starts within `days_before` days, every member who is behind
for it (tracker/cohorts/group_report.py decides that) and has not turned nudges off gets one
email with what is still due, and each facilitator of the group gets one summary. A run first
plans (reads only; a dry run stops there), then sends.

**At most once.** Before an email goes out, its row in sent_nudges is claimed and committed (one
INSERT ... ON CONFLICT DO NOTHING; an overlapping run that lost the race skips it). Only then is
the email handed to the SMTP server, and sent_at is set when the server took it. If the server
refuses the message, it was certainly not sent: the claim is released, and the next run tries
again. If the process dies, or the connection breaks, between the claim and the server's answer,
the claim stays and that one email may never arrive. We chose that over the reverse order (send,
then record), which would send a second copy in the same cases: a missed reminder costs the
learner little, since My progress and the course show what is due, while reminders that come
twice teach people to ignore them, or to unsubscribe.
"""
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from tracker.clock import utc_now
from tracker.cohorts.group_report import GroupReport, progress_of, read_group_report
from tracker.content import ContentIndex, Module
from tracker.content.model import Section
from tracker.database import Db

from . import store
from .errors import InvalidChoice, MailUnavailable, MessageRefused, SendingStopped, UnknownAccount
from .messages import Composer
from .tokens import email_digest, read_unsubscribe_token

LEARNER, FACILITATOR = "learner", "facilitator"


@dataclass(frozen=True)
class Nudge:
    kind: str  # LEARNER or FACILITATOR
    user_id: int
    group_id: int
    meeting_number: int
    message: EmailMessage


@dataclass
class SendReport:
    sent: list[Nudge] = field(default_factory=list)
    taken: list[Nudge] = field(default_factory=list)  # claimed by another run in the meantime
    refused: list[tuple[Nudge, str]] = field(default_factory=list)  # the server's reasons


def plan_nudges(db: Db, index: ContentIndex, now: datetime, days_before: int, composer: Composer) -> list[Nudge]:
    """Every nudge that is due at `now` and not claimed yet, with its email written. Writes nothing."""
    planned = []
    with db.transaction() as conn:
        for group_id in store.all_group_ids(conn):
            report = read_group_report(conn, index, group_id, now)
            if meeting_is_near(report, now, days_before):
                planned += nudges_for_meeting(conn, report, composer)
    return planned


def meeting_is_near(report: GroupReport, now: datetime, days_before: int) -> bool:
    meeting = report.next_meeting
    if meeting is None or report.course is None or not report.members:
        return False
    return meeting.starts_at - now <= timedelta(days=days_before)


def nudges_for_meeting(conn, report: GroupReport, composer: Composer) -> list[Nudge]:
    group_id, number = report.group.id, report.next_meeting.number
    claimed = store.already_claimed(conn, group_id, number)
    enabled = store.nudges_enabled_of(conn, [m.user_id for m in report.members])
    nudges_off = frozenset(user_id for user_id, on in enabled.items() if not on)
    to_nudge = [m for m in report.members if m.behind and m.user_id not in nudges_off and (m.user_id, LEARNER) not in claimed]
    lenses = progress_of(conn, [m.user_id for m in to_nudge], report.due_modules)
    planned = [
        Nudge(LEARNER, member.user_id, group_id, number,
              composer.learner_nudge(report, member, still_due(report.due_modules, lenses.get(member.user_id, {}))))
        for member in to_nudge
    ]
    for facilitator in store.facilitators_of_group(conn, group_id):
        if (facilitator.user_id, FACILITATOR) not in claimed:
            planned.append(Nudge(FACILITATOR, facilitator.user_id, group_id, number,
                                 composer.facilitator_summary(report, facilitator, nudges_off)))
    return planned


def still_due(modules: tuple[Module, ...], rows: dict) -> tuple[tuple[Module, tuple[Section, ...]], ...]:
    """Each due module with required lenses left, and those lenses, in course order."""
    def completed(lens_id) -> bool:
        return lens_id in rows and rows[lens_id].completed_at is not None

    left = ((module, tuple(s for s in module.sections if not s.optional and not completed(s.lens.id))) for module in modules)
    return tuple((module, sections) for module, sections in left if sections)


def send_nudges(db: Db, nudges: list[Nudge], connect: Callable[[], AbstractContextManager], clock=utc_now) -> SendReport:
    """Claim and send each nudge, at most once (see the module docstring); connect only when there is something to send.

    MailUnavailable from `connect` means nothing was claimed. SendingStopped means the connection
    broke during one nudge: that one stays claimed, the ones after it are left for the next run.
    """
    report = SendReport()
    if not nudges:
        return report
    with connect() as mailbox:
        for nudge in nudges:
            with db.transaction() as conn:
                claim_id = store.claim(conn, nudge.user_id, nudge.group_id, nudge.meeting_number, nudge.kind, clock())
            if claim_id is None:
                report.taken.append(nudge)
                continue
            try:
                mailbox.send(nudge.message)
            except MessageRefused as refusal:
                with db.transaction() as conn:
                    store.release(conn, claim_id)
                report.refused.append((nudge, str(refusal)))
                continue
            except MailUnavailable as lost:
                raise SendingStopped(str(lost), report, nudge) from None
            with db.transaction() as conn:
                store.mark_sent(conn, claim_id, clock())
            report.sent.append(nudge)
    return report


# --- A learner's choice ----------------------------------------------------------------------------


def parse_choice(value: str | None) -> bool:
    if value not in ("on", "off"):
        raise InvalidChoice(f"nudges must be “on” or “off”, got {value!r}")
    return value == "on"


def set_nudges(db: Db, user_id: int, choice: str | None) -> bool:
    """Turn the account's nudges on or off; return the new setting."""
    enabled = parse_choice(choice)
    with db.transaction() as conn:
        store.set_nudges_enabled(conn, user_id, enabled)
    return enabled


def unsubscribe_link_setting(db: Db, secret_key: str, token: str) -> bool:
    """Whether the account an unsubscribe link is for gets nudges now; BadUnsubscribeLink or UnknownAccount
    for a link that is not one. Writes nothing."""
    with db.transaction() as conn:
        return store.nudges_enabled(conn, link_account(conn, secret_key, token))


def unsubscribe(db: Db, secret_key: str, token: str) -> None:
    """Turn off the nudges of the account an unsubscribe link is for. Doing it twice is the same as once."""
    with db.transaction() as conn:
        store.set_nudges_enabled(conn, link_account(conn, secret_key, token), False)


def link_account(conn, secret_key: str, token: str) -> int:
    user_id, digest = read_unsubscribe_token(secret_key, token)
    email = store.account_email(conn, user_id)
    if email is None or email_digest(email) != digest:
        raise UnknownAccount("This unsubscribe link is for an account that no longer exists, or that has another email now.")
    return user_id


def export_nudges(db: Db, user_id: int) -> dict:
    """The account's nudge setting and every nudge claimed for it, as plain values."""
    with db.transaction() as conn:
        return {"enabled": store.nudges_enabled(conn, user_id), "sent": store.sent_to(conn, user_id)}
