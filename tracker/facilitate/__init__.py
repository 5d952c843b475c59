"""The facilitator's pages (/facilitate): their groups, each group against the next meeting, one member.

Routes are thin; tracker/cohorts/facilitation.py reads the numbers and decides, through
tracker/cohorts/access.py, who may see what. Admins see every group, and cohorts side by side.
"""
from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

bp = Blueprint("facilitate", __name__, url_prefix="/facilitate")


@bp.before_request
def require_login():
    """Anonymous visitors log in first; the service refuses accounts that are neither facilitator nor admin."""
    if not current_user.is_authenticated:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=target))
    return None


from . import routes  # noqa: E402,F401  (registers the routes on bp)
