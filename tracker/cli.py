"""`flask tracker ...` commands."""
import click
from flask import current_app
from flask.cli import AppGroup

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
