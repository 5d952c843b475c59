"""The learner's own progress: the report, a download of all their data, and deleting it."""
import csv
import io
import json

from flask import flash, redirect, render_template, url_for

from tracker import cohorts, nudges, progress
from tracker.admin import charts
from tracker.app_state import content_index, database
from tracker.clock import utc_now
from tracker.http.htmx import download
from tracker.http.identity import current_learner

from . import bp


@bp.get("/me")
def me():
    """Every module the learner has started, with time and completion per LO and lens."""
    report = progress.learner_report(database(), content_index(), current_learner(), utc_now().date())
    active = any(seconds for _, seconds in report["weeks"])
    chart = charts.weekly_time_chart(report["weeks"]) if active else None
    groups = cohorts.my_groups(database(), content_index(), current_learner().user_id) if current_learner().user_id else []
    return render_template("learn/me.html", report=report["modules"], weekly_chart=chart, groups=groups)


def exported_rows() -> list[dict]:
    """The learner's rows, with timestamps in ISO 8601."""
    rows = progress.export_rows(database(), current_learner())
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()} for row in rows]


def exported_days() -> list[dict]:
    """The learner's active seconds per module and UTC day (recorded since the daily ledger began)."""
    index = content_index()
    days = progress.export_daily_time(database(), current_learner())
    for day in days:
        module = index.modules_by_id.get(day["module_id"])
        day.update(module_title=module.title if module else "")
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in d.items()} for d in days]


def exported_chats() -> list[dict]:
    """The learner's messages to and from the tutor, with the lens and module they were about."""
    index = content_index()
    messages = progress.export_chats(database(), current_learner())
    for message in messages:
        module, lens = index.modules_by_id.get(message["module_id"]), index.lenses_by_id.get(message["lens_id"])
        message.update(module_title=module.title if module else "", lens_title=lens.title if lens else "")
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in m.items()} for m in messages]


def exported_answers() -> list[dict]:
    """The learner's answers to questions, with the lens and the question they answer."""
    index = content_index()
    saved = progress.export_answers(database(), current_learner())
    for answer in saved:
        lens = index.lenses_by_id.get(answer["lens_id"])
        question = lens.questions.get(answer["question_id"]) if lens else None
        answer.update(lens_title=lens.title if lens else "", question=question.prompt if question else "")
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in a.items()} for a in saved]


def exported_memberships() -> list[dict]:
    """The cohort groups the learner is in."""
    memberships = progress.export_memberships(database(), current_learner())
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in m.items()} for m in memberships]


def exported_nudges() -> dict:
    """The learner's nudge setting and the nudges sent to them; an anonymous learner has neither."""
    user_id = current_learner().user_id
    found = nudges.export_nudges(database(), user_id) if user_id else {"enabled": None, "sent": []}
    found["sent"] = [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in n.items()} for n in found["sent"]]
    return found


@bp.get("/me/export.json")
def export_json():
    """All of the learner's progress rows, tutor chats, answers to questions, groups and nudges, as JSON."""
    data = {
        "progress": exported_rows(), "daily_time": exported_days(), "chat_messages": exported_chats(),
        "question_answers": exported_answers(), "group_memberships": exported_memberships(), "nudges": exported_nudges(),
    }
    body = json.dumps(data, default=str, indent=2)
    return download(body, "my-progress.json", "application/json")


@bp.get("/me/export.csv")
def export_csv():
    """All of the learner's progress rows, as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=progress.EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(exported_rows())
    return download(out.getvalue(), "my-progress.csv", "text/csv")


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
