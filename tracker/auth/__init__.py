"""Sign-up, log-in and log-out; anonymous progress moves into the account on the way in."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402,F401  (registers the routes on bp)
