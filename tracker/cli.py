"""`flask tracker ...` commands."""
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from tracker.accounts import AdminError, EmailTaken, create_admin as create, promote_to_admin
from tracker.demo import refresh_statistics, seed_demo_load as seed_load
from tracker.app_state import content_index, database
from tracker.content import ContentError, load_content


@click.group("tracker", cls=AppGroup)
def tracker_group():
    """tracker administration."""


@tracker_group.group("content")
def content_group():
    """Course content."""


@content_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def check_content(directory):
    """Validate a content directory (default: the configured one) and summarise it."""
    directory = directory or current_app.config["TRACKER_CONTENT_DIR"]
    try:
        index = load_content(directory)
    except ContentError as error:
        raise click.ClickException(f"invalid content: {error}") from None
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
