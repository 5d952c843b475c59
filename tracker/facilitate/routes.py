"""Facilitator pages. Each route reads its parameters, calls one facilitation function and renders."""
import csv
import io

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from tracker.admin import charts
from tracker.app_state import content_index, database
from tracker.cohorts import DEFAULT_INVITE_DAYS, facilitation
from tracker.cohorts.access import Viewer
from tracker.http.htmx import download, page_or_fragment

from . import bp

INT_ID = "int(max=2147483647)"  # larger ids would overflow the database's integer, so they are 404s here


def viewer() -> Viewer:
    return Viewer.of(current_user)


@bp.get("/")
def my_groups():
    """Each group I facilitate, its next meeting, and how many members are ready for it or behind."""
    reports = facilitation.groups_page(database(), content_index(), viewer())
    return render_template("facilitate/groups.html", reports=reports)


@bp.get(f"/groups/<{INT_ID}:group_id>")
def group(group_id: int):
    """The group against its next meeting; htmx refreshes the table every 30 s."""
    report = facilitation.group_page(database(), content_index(), viewer(), group_id)
    invites = facilitation.group_invites(database(), viewer(), group_id)
    return page_or_fragment(
        "facilitate/group.html", "facilitate/_group_live.html", report=report, invites=invites, invite_days=DEFAULT_INVITE_DAYS
    )


@bp.post(f"/groups/<{INT_ID}:group_id>/invites")
def create_invite(group_id: int):
    """A new invite link to the group, shown this once: only its hash is kept."""
    invite = facilitation.new_group_invite(database(), viewer(), group_id, request.form.get("expires_in_days", ""))
    link = url_for("learn.invite", token=invite.token, _external=True)
    return render_template("facilitate/invite_created.html", group_id=group_id, invite=invite, link=link)


@bp.post(f"/groups/<{INT_ID}:group_id>/invites/<{INT_ID}:invite_id>/revoke")
def revoke_invite(group_id: int, invite_id: int):
    facilitation.revoke_group_invite(database(), viewer(), group_id, invite_id)
    return redirect(url_for("facilitate.group", group_id=group_id), code=303)


@bp.get(f"/groups/<{INT_ID}:group_id>/members.csv")
def group_csv(group_id: int):
    """The group page's table as CSV: one row per member, a status and a time column per module due."""
    report = facilitation.group_page(database(), content_index(), viewer(), group_id)
    out = io.StringIO()
    writer = csv.writer(out)
    modules = [module.title for module in report.due_modules]
    writer.writerow([
        "name", "email", "behind", "required_lenses_done", "required_lenses_due", "time_this_week_s", "time_last_week_s",
        "last_active", "messages_to_tutor", *(f"{title}: {what}" for title in modules for what in ("status", "time_s")),
    ])
    for member in report.members:
        writer.writerow([
            member.name, member.email, "yes" if member.behind else "no", member.required_done, member.required_due,
            member.this_week_s, member.last_week_s, member.last_active.isoformat() if member.last_active else "",
            member.messages_to_tutor, *(value for cell in member.cells for value in (cell.status, cell.time_s)),
        ])
    return download(out.getvalue(), f"group-{group_id}-members.csv", "text/csv")


@bp.get(f"/groups/<{INT_ID}:group_id>/members/<{INT_ID}:user_id>")
def member(group_id: int, user_id: int):
    """One member, read-only: modules with LO and lens rows, time per week, tutor chats."""
    page = facilitation.member_page(database(), content_index(), viewer(), group_id, user_id)
    active = any(seconds for _, seconds in page.weeks)
    return render_template("facilitate/member.html", page=page, weekly_chart=charts.weekly_time_chart(page.weeks) if active else None)


@bp.get(f"/cohorts/<{INT_ID}:cohort_id>")
def cohort(cohort_id: int):
    """A cohort's groups side by side (admins)."""
    comparison = facilitation.cohort_comparison(database(), content_index(), viewer(), cohort_id)
    return render_template("facilitate/cohort.html", comparison=comparison)

