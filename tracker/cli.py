"""`flask tracker ...` commands."""
import sys
import time
from uuid import uuid4

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from tracker.accounts import AdminError, EmailTaken, create_admin as create, promote_to_admin
from tracker.demo import refresh_statistics, seed_demo_load as seed_load
from tracker.app_state import content_index, database
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
    click.echo(f"added {learners} learners ({totals['accounts']} accounts), {totals['rows']} progress rows"
               f" in {time.monotonic() - started:.1f} s")
