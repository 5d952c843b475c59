"""The nudge emails themselves: plain text with an HTML alternative, from templates/email/. No Flask here.

Templates are rendered by a Jinja2 environment of this module's own, so the command that sends
them needs no request. Links are absolute: `link(endpoint, **values)` builds them from
TRACKER_BASE_URL (see tracker/cli.py).
"""
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email import policy
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tracker.clock import utc_now
from tracker.cohorts.group_report import GroupReport, MemberRow
from tracker.content import Module
from tracker.content.estimates import about_minutes, estimate_s
from tracker.content.model import Section

from .tokens import unsubscribe_token

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"

# Header lines up to RFC 5322's limit of 998 characters, not the usual 78: folding a long
# List-Unsubscribe address would turn it into encoded words, which no mail program follows. The
# body is encoded (quoted-printable, 76-character lines) before a message takes this policy.
LONG_HEADERS = policy.default.clone(max_line_length=998)


@lru_cache(maxsize=1)
def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    environment.filters.update(duration=duration, meeting_time=meeting_time)
    return environment


# The pages' own filters live in tracker/learn/render.py, which belongs to the Flask side; these two
# are the same few lines, kept here so that sending mail imports no Flask.
def duration(seconds: int | None) -> str:
    """1 h 5 min, 12 min, 40 s."""
    seconds = seconds or 0
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def meeting_time(meeting) -> str:
    """A meeting's start on the clock its schedule is set by, e.g. "Tue 8 Dec 2026, 18:00 (Europe/Berlin)"."""
    local = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))
    return f"{local:%a %-d %b %Y, %H:%M} ({meeting.time_zone})"


@dataclass(frozen=True)
class DueLens:
    title: str
    url: str
    minutes: int


@dataclass(frozen=True)
class DueModule:
    title: str
    url: str
    lenses: tuple[DueLens, ...]


@dataclass(frozen=True)
class Composer:
    """Writes the emails of one run: who they are from, how links are built, how unsubscribe links are signed."""

    link: Callable[..., str]  # (endpoint, **values) -> an absolute URL
    sender: str  # TRACKER_MAIL_FROM; empty for a dry run that sends nothing
    secret_key: str
    chat_allowance_s: int

    def learner_nudge(self, report: GroupReport, member: MemberRow, still_due: tuple[tuple[Module, tuple[Section, ...]], ...]) -> EmailMessage:
        """What is still due by the next meeting, each module and lens with its link, and the way out."""
        meeting = report.next_meeting
        modules = tuple(
            DueModule(module.title, self.link("learn.module", slug=module.slug), tuple(
                DueLens(section.lens.title, self.link("learn.lens", slug=module.slug, lens_ref=section.lens.name),
                        about_minutes(estimate_s(section.lens, self.chat_allowance_s)))
                for section in sections
            ))
            for module, sections in still_due
        )
        unsubscribe = self.link("learn.unsubscribe", token=unsubscribe_token(self.secret_key, member.user_id, member.email))
        lenses_left = member.required_due - member.required_done
        context = dict(
            report=report, member=member, meeting=meeting, modules=modules, lenses_left=lenses_left,
            course_url=self.link("learn.course", slug=report.cohort.course_slug), me_url=self.link("learn.me"),
            unsubscribe_url=unsubscribe,
        )
        subject = f"Before “{meeting.name}” ({meeting_day(meeting)}): {lenses_left} lens{'' if lenses_left == 1 else 'es'} to go"
        message = self.message(member.name, member.email, subject, "learner_nudge", context)
        # RFC 8058: mail programs show an unsubscribe button that POSTs to this address, no page in between.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message

    def facilitator_summary(self, report: GroupReport, facilitator, nudges_off: frozenset[int]) -> EmailMessage:
        """Who in the group is behind, who is on the way, who is ready, with a link to the group page."""
        meeting = report.next_meeting
        ready = [m for m in report.members if m.required_done == m.required_due]
        on_the_way = [m for m in report.members if not m.behind and m.required_done < m.required_due]
        behind = [m for m in report.members if m.behind]
        context = dict(
            report=report, meeting=meeting, behind=behind, on_the_way=on_the_way, ready=ready, nudges_off=nudges_off,
            name=facilitator.display_name or facilitator.email,
            group_url=self.link("facilitate.group", group_id=report.group.id),
        )
        subject = f"{report.group.name}: {len(behind)} behind, {len(ready)} ready for “{meeting.name}” ({meeting_day(meeting)})"
        return self.message(facilitator.display_name, facilitator.email, subject, "facilitator_summary", context)

    def message(self, name: str, email: str, subject: str, template: str, context: dict) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender or "tracker <nudges@localhost>"
        message["To"] = Address(display_name=name, addr_spec=email)
        message["Subject"] = subject
        message["Date"] = format_datetime(utc_now())
        message["Message-ID"] = make_msgid(domain=sender_domain(self.sender))
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a reminder
        # Quoted-printable keeps every line 7-bit, which any mail server relays unchanged.
        message.set_content(templates().get_template(f"{template}.txt").render(context), cte="quoted-printable")
        message.add_alternative(templates().get_template(f"{template}.html").render(context), subtype="html", cte="quoted-printable")
        message.policy = LONG_HEADERS  # what smtplib writes the headers with
        return message


def meeting_day(meeting) -> str:
    return f"{meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone)):%a %-d %b}"


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"
