"""Admin pages for cohorts: make cohorts and groups, place learners, name facilitators, share invite links.

Each route reads the form, calls one cohorts function and redirects back to the cohort (or renders);
the cohorts service checks every value and writes nothing when one is refused (tracker/errors.py
turns its errors into 4xx pages naming the problem).
"""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import cohorts
from tracker.app_state import content_index, database

from . import bp

INT_ID = "int(max=2147483647)"  # larger ids would overflow the database's integer: 404 here


def back_to(cohort_id: int, message: str):
    flash(message)
    return redirect(url_for("admin.cohort", cohort_id=cohort_id), code=303)


@bp.get("/cohorts")
def cohorts_list():
    """Every cohort, and the form that makes one."""
    summaries = cohorts.cohorts_page(database(), content_index())
    return render_template("admin/cohorts.html", summaries=summaries, courses=content_index().courses, weekdays=cohorts.WEEKDAYS)


@bp.post("/cohorts")
def create_cohort():
    form = request.form
    cohort_id = cohorts.create_cohort(
        database(), content_index(), course=form.get("course"), name=form.get("name"), starts_on=form.get("starts_on"),
        time_zone=form.get("time_zone"), weekday=form.get("weekday"), local_time=form.get("local_time"),
        meeting_dates=form.get("meeting_dates"),
    )
    return back_to(cohort_id, "Cohort created. Add its groups next.")


@bp.get(f"/cohorts/<{INT_ID}:cohort_id>")
def cohort(cohort_id: int):
    """The cohort's schedule, and each group with its members, facilitators and invite links."""
    detail = cohorts.cohort_page(database(), content_index(), cohort_id)
    return render_template(
        "admin/cohort.html", detail=detail, weekdays=cohorts.WEEKDAYS, invite_days=cohorts.DEFAULT_INVITE_DAYS
    )


@bp.post(f"/cohorts/<{INT_ID}:cohort_id>/groups")
def create_group(cohort_id: int):
    form = request.form
    cohorts.create_group(
        database(), cohort_id, name=form.get("name"), weekday=form.get("weekday"), local_time=form.get("local_time"),
        time_zone=form.get("time_zone"),
    )
    return back_to(cohort_id, "Group created.")


@bp.post(f"/cohorts/<{INT_ID}:cohort_id>/members")
def place_learner(cohort_id: int):
    """Add a learner to a group by their email, or move them there from another group of the cohort."""
    placed = cohorts.place_learner(database(), cohort_id, email=request.form.get("email"), group_id=request.form.get("group_id"))
    if placed.unchanged:
        return back_to(cohort_id, f"{placed.email} was in “{placed.group_name}” already.")
    moved = f", moved from “{placed.moved_from}”" if placed.moved_from else ""
    return back_to(cohort_id, f"{placed.email} is in “{placed.group_name}” now{moved}.")


@bp.post(f"/cohorts/<{INT_ID}:cohort_id>/import")
def import_members(cohort_id: int):
    """Place the learners a CSV file (or pasted text) lists; a file with bad rows imports nothing and lists them."""
    upload = request.files.get("file")
    data = upload.read() if upload and upload.filename else request.form.get("text", "")
    try:
        report = cohorts.import_memberships(database(), cohort_id, data)
    except cohorts.ImportRefused as refused:
        return render_template("admin/import_refused.html", cohort_id=cohort_id, refused=refused), 422
    return back_to(cohort_id, f"Imported: {report.added} added, {report.moved} moved, {report.unchanged} already in their group.")


@bp.post(f"/cohorts/<{INT_ID}:cohort_id>/facilitators")
def add_facilitator(cohort_id: int):
    email, group_id = request.form.get("email"), request.form.get("group_id")
    added = cohorts.make_facilitator(database(), cohort_id, email=email, group_id=group_id)
    return back_to(cohort_id, "Facilitator added." if added else "That account facilitates the group already.")


@bp.post(f"/cohorts/<{INT_ID}:cohort_id>/invites")
def create_invite(cohort_id: int):
    """A new invite link, shown this once: only its hash is kept."""
    invite = cohorts.create_invite(
        database(), cohort_id, group_id=request.form.get("group_id"), created_by=current_user.id,
        expires_in_days=request.form.get("expires_in_days", str(cohorts.DEFAULT_INVITE_DAYS)),
    )
    link = url_for("learn.invite", token=invite.token, _external=True)
    return render_template("admin/invite_created.html", cohort_id=cohort_id, invite=invite, link=link)


@bp.post(f"/cohorts/<{INT_ID}:cohort_id>/invites/<{INT_ID}:invite_id>/revoke")
def revoke_invite(cohort_id: int, invite_id: int):
    cohorts.revoke_invite(database(), cohort_id, invite_id)
    return back_to(cohort_id, "Invite link revoked: it no longer lets anyone join.")
