"""Learner pages."""
from flask import Blueprint

bp = Blueprint("learn", __name__)

from . import account, answers, chat, groups, me, nudges, routes  # noqa: E402,F401  (registers the routes on bp)
