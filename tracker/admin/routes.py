"""Admin pages. Each route reads its parameters, calls one dashboard function and renders."""

from datetime import datetime, timezone

from flask import abort, render_template, request

from tracker.app_state import content_index
from tracker.progress import dashboard

from . import bp
from .params import SORTS, encode_cursor, learner_query
from .reading import report_transaction
from .render import page_or_fragment


@bp.get("/")
def overview():
    """Active learners, time tracked, completions per day and the module table; htmx polls the live part."""
    with report_transaction() as conn:
        data = dashboard.overview(conn, content_index(), datetime.now(timezone.utc))
    return page_or_fragment("admin/overview.html", "admin/_overview_live.html", data=data)


@bp.get("/insights")
def insights():
    """The slowest lenses, the estimates furthest off and the LOs that lose most learners."""
    with report_transaction() as conn:
        data = dashboard.course_insights(conn, content_index())
    return page_or_fragment("admin/insights.html", "admin/_insights.html", insights=data)


@bp.get("/modules/<slug>")
def module(slug: str):
    """One module: per LO and lens stats, the drop-off funnel, time to complete and estimate calibration."""
    index = content_index()
    module = index.modules_by_slug.get(slug) or abort(404, f"There is no module called “{slug}”.")
    with report_transaction() as conn:
        report = dashboard.module_report(conn, index, module)
    return render_template("admin/module.html", report=report, slower=dashboard.SLOWER, faster=dashboard.FASTER)


@bp.get("/learners")
def learners():
    """Learners, searched and sorted, 50 to a page; live search gets only the table."""
    query = learner_query(request.args)
    with report_transaction() as conn:
        page = dashboard.learner_page(conn, query)
    direction = "desc" if query.descending else "asc"
    next_cursor = encode_cursor(page["next"], query.sort, direction) if page["next"] else None
    return page_or_fragment(
        "admin/learners.html",
        "admin/_learner_table.html",
        page=page,
        query=query,
        direction=direction,
        sorts=SORTS,
        next_cursor=next_cursor,
    )


@bp.get("/learners/<int(max=2147483647):user_id>")
def account(user_id: int):
    """One account's modules, LOs and lenses with time and completion."""
    return show_learner(lambda conn: dashboard.find_account(conn, user_id))


@bp.get("/learners/anonymous/<int(max=9223372036854775807):row_id>")
def anonymous(row_id: int):
    """One anonymous learner, found by one of their progress rows, so that no URL carries a token."""
    return show_learner(lambda conn: dashboard.find_anonymous(conn, row_id))


def show_learner(find):
    """The learner page for whoever `find(conn)` returns, or 404."""
    with report_transaction() as conn:
        found = find(conn) or abort(404, "There is no such learner.")
        detail = dashboard.learner_detail(conn, content_index(), found)
    return render_template("admin/learner.html", detail=detail)
