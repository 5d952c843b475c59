"""The learner's own progress: the report, a download of all their data, and deleting it."""
import json

from flask import flash, redirect, render_template, url_for

from tracker import cohorts, progress
from tracker.admin import charts
from tracker.app_state import content_index, database
from tracker.clock import utc_now
from tracker.http.htmx import download
from tracker.http.identity import current_learner
from tracker.http.spreadsheet import csv_lines
from tracker.progress import my_data

from . import bp


@bp.get("/me")
def me():
    """Every module the learner has started, with time and completion per LO and lens."""
    report = progress.learner_report(database(), content_index(), current_learner(), utc_now().date())
    active = any(seconds for _, seconds in report["weeks"])
    chart = charts.weekly_time_chart(report["weeks"]) if active else None
    groups = cohorts.my_groups(database(), content_index(), current_learner().user_id) if current_learner().user_id else []
    return render_template("learn/me.html", report=report["modules"], weekly_chart=chart, groups=groups)


@bp.get("/me/export.json")
def export_json():
    """Everything tracker holds about the learner: the account, progress, time per day, tutor chats, answers, what went to an LRS."""
    data = my_data.collect(database(), content_index(), current_learner())
    return download(json.dumps(data, indent=2, ensure_ascii=False), "my-progress.json", "application/json")


@bp.get("/me/export.csv")
def export_csv():
    """The same as one table for a spreadsheet: a row per record, its kind in the first column."""
    data = my_data.collect(database(), content_index(), current_learner())
    rows = my_data.csv_records(data)
    return download(csv_lines(my_data.CSV_COLUMNS, rows, byte_order_mark=True), "my-progress.csv", "text/csv")


@bp.get("/me/delete")
def confirm_delete():
    """Ask before deleting anything."""
    return render_template("learn/delete.html")


@bp.post("/me/delete")
def delete():
    """Delete every progress row, tutor chat, answer, group membership and sent nudge of the learner, then show the now empty report."""
    deleted = progress.delete_progress(database(), current_learner())
    flash(f"Deleted your progress ({deleted} records).")
    return redirect(url_for("learn.me"), code=303)
