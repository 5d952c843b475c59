"""Turning nudges off and on: from My progress, and by the unsubscribe link in every nudge. The rules are in tracker/nudges."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import nudges
from tracker.app_state import database
from tracker.http.identity import is_logged_in

from . import bp


@bp.post("/me/nudges")
def set_nudges():
    """Turn the learner's nudges on or off, then show My progress again."""
    if not is_logged_in():  # logged out in another tab meanwhile; anonymous learners are in no group
        flash("Log in to choose whether tracker emails you before your group's meetings.")
        return redirect(url_for("learn.me"), code=303)
    enabled = nudges.set_nudges(database(), current_user.id, request.form.get("nudges"))
    flash("Nudges are on: tracker emails you before a meeting you are behind for." if enabled
          else "Nudges are off: tracker will not email you before meetings.")
    return redirect(url_for("learn.me"), code=303)


@bp.get("/nudges/unsubscribe/<token>")
def unsubscribe(token: str):
    """Where a nudge's unsubscribe link leads: a button that turns nudges off. Opening it changes nothing."""
    enabled = nudges.unsubscribe_link_setting(database(), current_app.config["SECRET_KEY"], token)
    return render_template("learn/unsubscribe.html", token=token, enabled=enabled, done=False)


@bp.post("/nudges/unsubscribe/<token>")
def one_click_unsubscribe(token: str):
    """Turn nudges off for the link's account, without a login: the page's button, or a mail program's
    one-click POST (RFC 8058), which carries no CSRF token (this view is exempt; see tracker/__init__.py)."""
    nudges.unsubscribe(database(), current_app.config["SECRET_KEY"], token)
    return render_template("learn/unsubscribe.html", token=token, enabled=False, done=True)
