"""Admin pages. Each route reads its parameters, calls one dashboard function and renders."""

from datetime import datetime, timezone

from flask import render_template, request

from tracker.app_state import content_index, content_store, database
from tracker.http.htmx import page_or_fragment
from tracker.progress import dashboard

from . import bp
from .params import SORTS, encode_cursor, learner_query


@bp.get("/")
def overview():
    """Active learners, time tracked, completions per day and the module table; htmx polls the live part."""
    data = dashboard.overview_page(database(), content_index(), datetime.now(timezone.utc))
    return page_or_fragment("admin/overview.html", "admin/_overview_live.html", data=data)


@bp.get("/insights")
def insights():
    """The slowest lenses, the estimates furthest off and the LOs that lose most learners."""
    data = dashboard.insights_page(database(), content_index())
    return page_or_fragment("admin/insights.html", "admin/_insights.html", insights=data)


@bp.get("/content")
def content():
    """The content being served, and every error and warning the files gave when they were last read."""
    return render_template("admin/content.html", status=content_store().status())


@bp.get("/modules/<slug>")
def module(slug: str):
    """One module: per LO and lens stats, the drop-off funnel, time to complete and estimate calibration."""
    report = dashboard.module_page(database(), content_index(), slug)
    return render_template("admin/module.html", report=report, slower=dashboard.SLOWER, faster=dashboard.FASTER)


@bp.get("/learners")
def learners():
    """Learners, searched and sorted, 50 to a page; live search gets only the table."""
    query = learner_query(request.args)
    page = dashboard.learners_page(database(), query)
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
    detail = dashboard.account_page(database(), content_index(), user_id)
    return render_template("admin/learner.html", detail=detail, user_id=user_id)


@bp.get("/learners/anonymous/<int(max=9223372036854775807):row_id>")
def anonymous(row_id: int):
    """One anonymous learner, found by one of their progress rows, so that no URL carries a token."""
    detail = dashboard.anonymous_page(database(), content_index(), row_id)
    return render_template("admin/learner.html", detail=detail)
