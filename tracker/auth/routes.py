"""Account pages. Logging in or signing up claims the browser's anonymous progress."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from tracker import accounts, progress
from tracker.app_state import content_index, database, lrs_statements
from tracker.db import db
from tracker.http.identity import cookie_anonymous_token, forget_anonymous_token
from tracker.http.ratelimit import login_failure_limits, signup_limits
from tracker.models import User

from . import bp
from .forms import LoginForm, SignupForm
from .late_claims import remember_claimed_token


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else (another host, a scheme, //host) goes to /me."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("learn.me")


def enter_account(user_id: int, next_url: str | None):
    """Log the user in, move the browser's anonymous progress into the account, and go on."""
    token = cookie_anonymous_token()
    if token is not None:
        progress.claim_anonymous_progress(database(), content_index(), token, user_id, lrs=lrs_statements())
    login_user(db.session.get(User, user_id))
    if token is not None:
        remember_claimed_token(token)
    return forget_anonymous_token(redirect(safe_next(next_url), code=303))


@bp.route("/signup", methods=["GET", "POST"])
@signup_limits
def signup():
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user_id = accounts.create_user(database(), form.email.data, form.password.data, form.display_name.data or "")
        except accounts.EmailTaken:
            form.email.errors.append("An account with this email already exists. Log in instead.")
        else:
            flash("Welcome! Your progress so far is saved to your account.")
            return enter_account(user_id, form.next.data)
    return render_template("auth/signup.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@login_failure_limits
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user_id = accounts.authenticate(database(), form.email.data, form.password.data)
        if user_id is not None:
            return enter_account(user_id, form.next.data)
        form.form_errors.append("That email and password do not match an account.")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("learn.index"), code=303)
