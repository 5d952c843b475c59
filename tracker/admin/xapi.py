"""The xAPI export, as JSON lines, for other learning-analytics tools."""

import json

from flask import request, url_for

from tracker.app_state import database
from tracker.http.htmx import download
from tracker.progress import dashboard

from . import bp, exports
from .params import since_date


@bp.get("/exports/xapi.jsonl")
def export_xapi():
    """xAPI statements as JSON lines: every completion, and every module in progress; `?since=YYYY-MM-DD` for fewer."""
    since = since_date(request.args)
    base_url = url_for("learn.index", _external=True)
    statements = dashboard.xapi_statements(database(), base_url, batch=exports.EXPORT_BATCH, since=since)
    lines = (json.dumps(statement, ensure_ascii=False) + "\n" for statement in statements)
    return download(lines, "tracker-xapi.jsonl", "application/x-ndjson")
