"""Joining a group by its invite link, and leaving it. The rules are in tracker/cohorts."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from tracker import cohorts
from tracker.app_state import content_index, database
from tracker.http.identity import is_logged_in

from . import bp


@bp.get("/join/<token>")
def invite(token: str):
    """Where an invite link leads; a logged-in learner joins from here, anyone else logs in or signs up first."""
    invite = cohorts.invite_details(database(), content_index(), token)
    return render_template("learn/invite.html", invite=invite, token=token)


@bp.post("/join/<token>")
def join_group(token: str):
    """Join the invite's group, then go to its course."""
    if not is_logged_in():  # logged out in another tab meanwhile: the invite page offers to log in
        return redirect(url_for("learn.invite", token=token), code=303)
    joined = cohorts.join_by_invite(database(), token, current_user.id)
    what = f"the group “{joined.group_name}” of the cohort “{joined.cohort_name}”"
    flash(f"You are already in {what}." if joined.already else f"You joined {what}.")
    if joined.course_slug in content_index().courses_by_slug:
        return redirect(url_for("learn.course", slug=joined.course_slug), code=303)
    return redirect(url_for("learn.me"), code=303)


@bp.post("/me/groups/<int(max=2147483647):group_id>/leave")
def leave_group(group_id: int):
    """Leave a group; the learner's progress stays where it is."""
    left = is_logged_in() and cohorts.leave_group(database(), current_user.id, group_id)
    flash("You left the group. Your progress is kept." if left else "You were not in that group.")
    return redirect(url_for("learn.me"), code=303)
