"""The xAPI export, as JSON lines, for other learning-analytics tools; and the LRS outbox, as far as it got."""

import json

from flask import current_app, render_template, request

from tracker import lrs
from tracker.app_state import content_index, database, xapi_settings
from tracker.http.htmx import download
from tracker.progress import dashboard

from . import bp, exports
from .params import since_date


@bp.get("/exports/xapi.jsonl")
def export_xapi():
    """xAPI statements as JSON lines: every completion, and every module in progress; `?since=YYYY-MM-DD` for fewer.

    Activity ids come from TRACKER_BASE_URL, so the export is the same whichever host name the admin used.
    """
    since = since_date(request.args)
    statements = dashboard.xapi_statements(database(), content_index(), xapi_settings(), batch=exports.EXPORT_BATCH, since=since)
    lines = (json.dumps(statement, ensure_ascii=False) + "\n" for statement in statements)
    return download(lines, "tracker-xapi.jsonl", "application/x-ndjson")


@bp.get("/lrs")
def lrs_outbox():
    """What `flask tracker lrs-push` has sent to the LRS, what waits, and what the LRS refused, with its message."""
    report = lrs.outbox_report(database())
    return render_template("admin/lrs.html", report=report, lrs_url=current_app.config["TRACKER_LRS_URL"])
