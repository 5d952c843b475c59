"""CSV exports. Each streams: rows are written as they are read, batch by batch."""

from flask import abort, request

from tracker.app_state import content_index, database
from tracker.http.htmx import download
from tracker.http.spreadsheet import csv_lines
from tracker.progress import dashboard

from . import bp
from .csv_rows import LEARNER_COLUMNS, LENS_COLUMNS, MODULE_COLUMNS, learner_row, lens_rows, module_row
from .params import learner_query

EXPORT_BATCH = 2000  # rows per query or per fetch while an export streams


@bp.get("/exports/modules.csv")
def export_modules():
    """The overview's module table."""
    rows = dashboard.modules_export(database(), content_index())
    return download(csv_lines(MODULE_COLUMNS, map(module_row, rows)), "modules.csv", "text/csv")


@bp.get("/modules/<slug>/lenses.csv")
def export_module_lenses(slug: str):
    """A module's per-lens stats, with estimates and calibration flags."""
    report = dashboard.module_page(database(), content_index(), slug)
    return download(csv_lines(LENS_COLUMNS, lens_rows(report)), f"{slug}-lenses.csv", "text/csv")


@bp.get("/exports/learners.csv")
def export_learners():
    """The learner list, in the list's search and order, streamed from one query."""
    query = learner_query(request.args)
    if query.after is not None:
        abort(400, "The learner export always starts at the first learner; leave out the page cursor.")
    learners = dashboard.learners_export(database(), query, EXPORT_BATCH)
    return download(csv_lines(LEARNER_COLUMNS, map(learner_row, learners)), "learners.csv", "text/csv")
