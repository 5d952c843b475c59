"""The JSON API: progress heartbeats, completion and module state."""
from flask import Blueprint

from tracker.http.identity import refuse_cross_site_cookie_requests

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(refuse_cross_site_cookie_requests)

from . import chat, openapi, routes  # noqa: E402,F401  (registers the routes on bp)
