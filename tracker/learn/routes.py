"""Server-rendered learner pages."""
from flask import render_template

from tracker.app_state import content_index

from . import bp


@bp.get("/")
def index():
    """List the courses and their modules."""
    return render_template("learn/index.html", courses=content_index().courses)
