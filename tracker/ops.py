"""Probes for process managers and load balancers.

/healthz answers whether the process serves requests at all (restart it if not); /readyz
whether it can do useful work: the database answers and content is loaded (take it out of
the load balancer if not). Neither needs a learner, a session or a rate limit.
"""
import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tracker.app_state import content_store, database

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    store = content_store()
    index = store.index
    content = {
        "modules": len(index.modules),
        "fingerprint": store.loaded_fingerprint,
        "last_reload_error": str(store.last_error) if store.last_error else None,
    }
    try:
        with database().single_statement() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readiness check: database unreachable: %s", error)
        return jsonify(status="unavailable", database="unreachable", content=content), 503
    status, code = ("ready", 200) if index.modules else ("unavailable", 503)
    return jsonify(status=status, database="ok", content=content), code
