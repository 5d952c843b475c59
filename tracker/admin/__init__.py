"""The admin dashboard: progress across all learners, for course staff."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from tracker.app_state import content_index
from tracker.cohorts import access

from . import charts
from .params import MAX_SEARCH

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin():
    """Every admin route: anonymous visitors log in first, and only admins get through."""
    if not current_user.is_authenticated:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=target))
    if not access.may_administer(access.Viewer.of(current_user)):
        abort(403, "This page is for admins only.")
    return None


@bp.context_processor
def admin_template_values():
    """The modules for the admin navigation, the chart geometry the templates draw, the search's limit."""
    return {"admin_modules": content_index().modules, "charts": charts, "max_search_chars": MAX_SEARCH}


from . import accounts, cohorts, exports, routes, xapi  # noqa: E402,F401  (registers the routes on bp)
