"""`flask tracker ...` commands."""
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit
from uuid import uuid4

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from tracker.accounts import (
    AdminError, EmailTaken, create_admin as create, create_facilitator as create_facilitator_account, promote_to_admin,
    promote_to_facilitator,
)
from tracker.demo import refresh_statistics, seed_demo_load as seed_load
from tracker import lrs, nudges
from tracker.app_state import content_index, database, xapi_settings
from tracker.clock import utc_now
from tracker.content import ContentError
from tracker.content.formats import read_content
from tracker.content.vault.fix_ids import add_missing_ids
from tracker.progress.orphans import orphaned_progress


@click.group("tracker", cls=AppGroup)
def tracker_group():
    """tracker administration."""


@tracker_group.group("content")
def content_group():
    """Course content."""


@content_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--fix-ids", is_flag=True, help="Add an id to each module, LO, lens and question that lacks one (a vault's files, in place).")
def check_content(directory, fix_ids):
    """Validate a content directory (default: the configured one) and summarise it.

    A vault's every error and warning is listed, each with its file, line and field. Progress in
    the database under an id the content no longer has is listed too. The command fails when
    there is an error.
    """
    directory = directory or current_app.config["TRACKER_CONTENT_DIR"]
    try:
        loaded = read_content(directory, configured=current_app.config["TRACKER_CONTENT_FORMAT"])
        if fix_ids and loaded.format == "lens" and loaded.missing_ids:
            for item, new_id in add_missing_ids(directory, loaded.missing_ids):
                click.echo(f"added id {new_id} to {item.path}:{item.line} ({item.place})")
            loaded = read_content(directory, configured="lens")
    except ContentError as error:
        raise click.ClickException(f"invalid content: {error}") from None
    warn_about_orphaned_progress(loaded.index)
    if loaded.format == "lens":
        for error in loaded.errors:
            click.echo(f"error: {error}")
        for warning in loaded.warnings:
            click.echo(f"warning: {warning}")
        click.echo(f"{directory}: {loaded.summary}")
        if loaded.errors:
            sys.exit(1)
        return
    index = loaded.index
    placements = [s for m in index.modules for s in m.sections]
    required = sum(1 for s in placements if not s.optional)
    click.echo(f"content OK: {directory}")
    click.echo(f"  courses:  {len(index.courses)}")
    click.echo(f"  modules:  {len(index.modules)}")
    click.echo(f"  learning outcomes: {sum(len(m.outcomes) for m in index.modules)}")
    click.echo(f"  lenses:   {len(index.lenses)} files, {len(placements)} placements"
               f" ({required} required, {len(placements) - required} optional)")
    for module in index.modules:
        click.echo(f"  - {module.slug}: {len(module.outcomes)} LOs, {len(module.sections)} lenses,"
                   f" {len(module.required_lens_ids)} required")


def warn_about_orphaned_progress(index) -> None:
    """Rows of progress whose module, LO or lens is not in this content: learners would lose them."""
    try:
        orphans = orphaned_progress(database(), index)
    except SQLAlchemyError as error:  # no database to compare with is not a content problem
        click.echo(f"note: progress not compared with the database ({error.__class__.__name__})")
        return
    for orphan in orphans or ():
        click.echo(f"warning: progress under {orphan.level} {orphan.content_id} (\"{orphan.title}\"), {orphan.rows} learner row(s),"
                   " has no such id in this content: a renamed or re-created file would orphan it")


@content_group.command("new-id")
def new_id():
    """Print a fresh UUID, for the id of a new module, learning outcome, lens or question."""
    click.echo(str(uuid4()))


@tracker_group.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="Display name for a new account.")
def create_admin(email, name):
    """Create an admin account, or make an existing account an admin.

    A new account's password is asked for, or read from the first line of stdin when it is not a terminal.
    """
    promoted = promote_to_admin(database(), email)
    if not promoted:
        password = read_password()  # asked outside any transaction: a person may take their time
        try:
            create(database(), email, password, display_name=name)
        except AdminError as error:
            raise click.ClickException(str(error)) from None
        except EmailTaken:  # signed up in the meantime
            promote_to_admin(database(), email)
    click.echo(f"{'promoted' if promoted else 'created'} admin {email.strip().lower()}")


@tracker_group.command("create-facilitator")
@click.argument("email")
@click.option("--name", default="", help="Display name for a new account.")
def create_facilitator(email, name):
    """Create a facilitator account, or give an existing account the facilitator role.

    A new account's password is asked for, or read from the first line of stdin when it is not a
    terminal. An admin then makes the facilitator one of a group's, on the cohort's admin page.
    """
    promoted = promote_to_facilitator(database(), email)
    if not promoted:
        password = read_password()
        try:
            create_facilitator_account(database(), email, password, display_name=name)
        except AdminError as error:
            raise click.ClickException(str(error)) from None
        except EmailTaken:  # signed up in the meantime
            promote_to_facilitator(database(), email)
    click.echo(f"{'promoted' if promoted else 'created'} facilitator {email.strip().lower()}")


def read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@tracker_group.command("seed-demo-load")
@click.option("--learners", type=click.IntRange(1, 1_000_000), required=True, help="How many learners to add.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed, for a repeatable load.")
def seed_demo_load(learners, seed):
    """Fill the database with simulated learners and their progress over the current content."""
    started = time.monotonic()
    totals = seed_load(database(), content_index(), learners, seed=seed)
    refresh_statistics(database())
    cohort = totals["cohort"]
    click.echo(f"added {learners} learners ({totals['accounts']} accounts), {totals['rows']} progress rows"
               f" and a cohort of {cohort['groups']} groups ({cohort['members']} learners, a facilitator each)"
               f" in {time.monotonic() - started:.1f} s")


@tracker_group.command("nudges")
@click.option("--dry-run", is_flag=True, help="Print the emails that are due (to, subject, first lines); send and record nothing.")
@click.option("--now", "moment", metavar="ISO-8601", help="Act as if it were this moment, e.g. 2027-01-12T09:00+00:00 (tests and demos).")
def nudge_before_meetings(dry_run, moment):
    """Email each member who is behind for their group's next meeting what is still due, and each facilitator a summary.

    Only meetings that start within TRACKER_NUDGE_DAYS_BEFORE days count, and each email goes out at
    most once per meeting, so run this as often as you like (from cron or a systemd timer).
    """
    config = current_app.config
    now = parse_moment(moment) if moment is not None else utc_now()
    missing = [name for name in ("TRACKER_BASE_URL", *(() if dry_run else ("TRACKER_SMTP_HOST", "TRACKER_MAIL_FROM"))) if not config[name]]
    if missing:
        raise click.ClickException(f"{' and '.join(missing)} must be set to send nudges: TRACKER_BASE_URL is the address learners open"
                                   " tracker at (e.g. https://tracker.example.org/), which every link in the emails starts with;"
                                   " TRACKER_SMTP_HOST and TRACKER_MAIL_FROM are the mail server and the sender")
    composer = nudges.Composer(external_links(config["TRACKER_BASE_URL"]), config["TRACKER_MAIL_FROM"], config["SECRET_KEY"],
                               config["TRACKER_CHAT_ALLOWANCE_S"])
    planned = nudges.plan_nudges(database(), content_index(), now, config["TRACKER_NUDGE_DAYS_BEFORE"], composer)
    if dry_run:
        for nudge in planned:
            echo_nudge(nudge)
        click.echo(f"dry run: {counted(planned)} due; nothing was sent or recorded")
        return
    smtp = nudges.SmtpSettings.from_config(config)
    try:
        report = nudges.send_nudges(database(), planned, lambda: nudges.smtp_mailbox(smtp))
    except nudges.MailUnavailable as error:
        raise click.ClickException(f"{error}; nothing was sent or recorded, and the {counted(planned)} due will be tried on the next run") from None
    except nudges.SendingStopped as stopped:
        echo_refusals(stopped.report)
        raise click.ClickException(
            f"sent {counted(stopped.report.sent)}, then {stopped}. The nudge to {stopped.nudge.message['To']} may not have"
            " arrived and will not be sent again (each goes out at most once); the others left will be tried on the next run"
        ) from None
    echo_refusals(report)
    taken = f"; {len(report.taken)} taken by another run meanwhile" if report.taken else ""
    click.echo(f"sent {counted(report.sent)}{taken}")
    if report.refused:
        sys.exit(1)


def echo_refusals(report) -> None:
    for _, reason in report.refused:
        click.echo(f"not sent, tried again on the next run: {reason}", err=True)


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 moment such as 2027-01-12T09:00+00:00", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # a moment without an offset is UTC, as stored


def external_links(base_url: str):
    """link(endpoint, **values): an absolute URL under TRACKER_BASE_URL, which may have a path (tracker behind a proxy)."""
    parts = urlsplit(base_url)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return lambda endpoint, **values: adapter.build(endpoint, values, force_external=True)


DRY_RUN_LINES = 8


def echo_nudge(nudge) -> None:
    message = nudge.message
    body = message.get_body(preferencelist=("plain",)).get_content().splitlines()
    click.echo(f"To: {message['To']}\nSubject: {message['Subject']}")
    for line in body[:DRY_RUN_LINES]:
        click.echo(f"  {line}")
    click.echo("  …\n" if len(body) > DRY_RUN_LINES else "")


def counted(planned) -> str:
    learners = sum(1 for nudge in planned if nudge.kind == nudges.LEARNER)
    total = len(planned)
    return f"{total} nudge{'' if total == 1 else 's'} ({learners} to learners, {total - learners} to facilitators)"


@tracker_group.command("lrs-push")
@click.option("--once", is_flag=True, help="Send what is queued now and exit (for cron): 0 when all went, 1 when the LRS failed.")
def push_to_lrs(once):
    """Send the LRS outbox to TRACKER_LRS_URL: oldest first, in batches of TRACKER_LRS_BATCH, retrying with growing pauses.

    It also queues a `progressed` statement for each module a learner was active in, at most one per
    learner and module per TRACKER_LRS_PROGRESS_EVERY_S. Run one, beside the app (scripts/two-instances
    does); a second waits on PostgreSQL until the first stops.
    """
    config = current_app.config
    if not config["TRACKER_LRS_URL"]:
        raise click.ClickException("TRACKER_LRS_URL must be set: the LRS's xAPI endpoint, e.g. https://lrs.example.org/xAPI/")
    settings = xapi_settings()
    client = lrs.LrsClient(config["TRACKER_LRS_URL"], config["TRACKER_LRS_USERNAME"], config["TRACKER_LRS_PASSWORD"])
    every_s, size = config["TRACKER_LRS_PROGRESS_EVERY_S"], config["TRACKER_LRS_BATCH"]

    def queue_progressed(now):
        return lrs.queue_progressed(database(), content_index(), settings, every_s, now)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        with lrs.sole_worker(database()) as sole:
            if sole:
                return send_outbox(client, size, queue_progressed, every_s, once, stop)
        if once:
            click.echo("another lrs-push is sending; nothing to do")
            return
        stop.wait(5)  # the other worker may stop: then this one takes over


def send_outbox(client, size: int, queue_progressed, every_s: int, once: bool, stop: threading.Event) -> None:
    if once:
        queued = queue_progressed(utc_now())
        result = lrs.push_all(database(), client, size)
        click.echo(f"queued {queued} progressed statements; sent {result.sent}, set aside {result.set_aside}")
        if result.failure:
            raise click.ClickException(f"the LRS did not take the rest ({result.failure}); they stay queued for the next run")
        return
    click.echo(f"sending the outbox to {client.endpoint} (stop with SIGTERM or Ctrl-C)")
    try:
        lrs.run_worker(database(), client, size, queue_progressed, progress_pass_s=min(60, every_s),
                       should_stop=stop.is_set, sleep=stop.wait)
    except KeyboardInterrupt:
        pass
