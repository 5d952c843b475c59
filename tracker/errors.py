"""One place that turns errors into responses: JSON under /api/, an HTML page elsewhere."""
import logging
import sqlite3

import psycopg
from flask import current_app, g, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable

from tracker import answers, chat, cohorts, nudges, progress
from tracker.app_state import XapiNotConfigured
from tracker.http.htmx import wants_fragment

log = logging.getLogger(__name__)

STATUS_BY_PROGRESS_ERROR = {
    progress.UnknownLens: 404,
    progress.UnknownCourse: 404,
    progress.UnknownLearner: 404,
    progress.UnknownModule: 404,
    progress.LensNotInModule: 404,
    progress.NotAPlacement: 422,
    progress.InvalidDelta: 422,
    progress.OutOfRange: 422,
    progress.ChatNotStarted: 409,
}

STATUS_BY_CHAT_ERROR = {
    chat.InvalidMessage: 422,
    chat.StreamInProgress: 409,
    chat.NothingToAnswer: 409,
    chat.TutorUnavailable: 502,  # streams report it as an event; only a bug would let it reach here
}

STATUS_BY_ANSWER_ERROR = {
    answers.InvalidAnswer: 422,
    answers.UnknownQuestion: 404,
}

STATUS_BY_COHORT_ERROR = {
    cohorts.InvalidInput: 422,
    cohorts.UnknownAccount: 422,
    cohorts.ImportRefused: 422,
    cohorts.UnknownCohort: 404,
    cohorts.UnknownGroup: 404,
    cohorts.NameTaken: 409,
    cohorts.InAnotherGroup: 409,
    cohorts.NotAllowed: 403,
    cohorts.UnknownInvite: 404,
    cohorts.RevokedInvite: 410,  # the link existed and will never work again
    cohorts.ExpiredInvite: 410,
}

STATUS_BY_NUDGE_ERROR = {
    nudges.InvalidChoice: 422,
    nudges.BadUnsubscribeLink: 400,  # not a link we signed: cut short by a mail program, or changed
    nudges.UnknownAccount: 404,
}

# A database fault is an outage, not a bug: 503 with Retry-After, and nothing was written (the
# statement or transaction failed as a whole). Each kind: (message, Retry-After seconds, log level).
UNAVAILABLE = ("the database is unavailable; try again shortly", 5, logging.ERROR)
BUSY = ("the database is busy; try again shortly", 2, logging.WARNING)
READ_ONLY = ("the database is read-only, so nothing can be saved; try again later", 60, logging.ERROR)
FULL = ("the database is full, so nothing can be saved; try again later", 60, logging.ERROR)

# PostgreSQL SQLSTATEs (class 08 is "connection exception", all UNAVAILABLE).
FAULT_BY_SQLSTATE = {
    "57P01": UNAVAILABLE,  # admin_shutdown: the server is stopping, or our backend was terminated
    "57P02": UNAVAILABLE,  # crash_shutdown
    "57P03": UNAVAILABLE,  # cannot_connect_now: the server is starting up
    "53300": UNAVAILABLE,  # too_many_connections
    "55P03": BUSY,  # lock_not_available: TRACKER_DB_LOCK_TIMEOUT_MS ran out
    "57014": BUSY,  # query_canceled: TRACKER_DB_STATEMENT_TIMEOUT_MS ran out
    "40P01": BUSY,  # deadlock_detected
    "40001": BUSY,  # serialization_failure
    "25006": READ_ONLY,  # read_only_sql_transaction: a standby, or default_transaction_read_only
    "53100": FULL,  # disk_full
}
# SQLite primary result codes: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
FAULT_BY_SQLITE_CODE = {5: BUSY, 6: BUSY, 8: READ_ONLY, 10: UNAVAILABLE, 13: FULL, 14: UNAVAILABLE}


def error_response(status: int, message: str, headers=None):
    if request.path.startswith("/api/"):
        response = jsonify(error=message, status=status)
    elif wants_fragment():
        response = render_template("errors/_error.html", status=status, message=message)
    else:
        response = render_template("errors/error.html", status=status, message=message)
    return response, status, headers or {}


def handle_http_error(error: HTTPException):
    if isinstance(error, RequestEntityTooLarge):
        error.description = f"the request body is over the limit of {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return error_response(error.code or 500, error.description or error.name, headers)


def handle_progress_error(error: progress.ProgressError):
    return error_response(STATUS_BY_PROGRESS_ERROR.get(type(error), 422), str(error))


def handle_chat_error(error: chat.ChatError):
    return error_response(STATUS_BY_CHAT_ERROR.get(type(error), 422), str(error))


def handle_answer_error(error: answers.AnswerError):
    return error_response(STATUS_BY_ANSWER_ERROR.get(type(error), 422), str(error))


def handle_cohort_error(error: cohorts.CohortError):
    status = STATUS_BY_COHORT_ERROR.get(type(error), 422)
    if isinstance(error, cohorts.InviteProblem) and not request.path.startswith("/api/"):
        return render_template("learn/invite_problem.html", problem=error, status=status), status
    return error_response(status, str(error))


def handle_nudge_error(error: nudges.NudgeError):
    return error_response(STATUS_BY_NUDGE_ERROR.get(type(error), 422), str(error))


def handle_database_error(error: Exception):
    """503 for an outage, raw driver errors included (the heartbeat runs on psycopg directly)."""
    fault = database_fault(error)
    if fault is None:
        raise error
    message, retry_after_s, level = fault
    cause = error.orig if isinstance(error, DBAPIError) else error
    log.log(level, "%s %s: %s (%s: %s)", request.method, request.path, message, type(cause).__name__, str(cause).strip())
    render_as_visitor_unless_known()
    return handle_http_error(ServiceUnavailable(message, retry_after=retry_after_s))


def database_fault(error: Exception) -> tuple | None:
    """The kind of outage a database error reports, or None for an error that is a bug."""
    if isinstance(error, PoolTimeout):  # every pooled connection stayed busy for the pool timeout
        return BUSY
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, psycopg.Error):
        if cause.sqlstate is None:  # failed on our side of the wire: no connection, or it broke
            return UNAVAILABLE if isinstance(cause, psycopg.OperationalError) else None
        if cause.sqlstate.startswith("08"):
            return UNAVAILABLE
        return FAULT_BY_SQLSTATE.get(cause.sqlstate)
    if isinstance(cause, sqlite3.Error):
        return FAULT_BY_SQLITE_CODE.get(getattr(cause, "sqlite_errorcode", 0) & 0xFF)
    return UNAVAILABLE if isinstance(error, DBAPIError) and error.connection_invalidated else None


def render_as_visitor_unless_known() -> None:
    """The page header shows who is logged in; don't ask the failing database again.

    Loading the user here would raise inside this handler and turn the 503 into a 500.
    """
    if "_login_user" not in g:  # Flask-Login caches the loaded user there
        current_app.login_manager._update_request_context_with_user()


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(progress.ProgressError, handle_progress_error)
    app.register_error_handler(chat.ChatError, handle_chat_error)
    app.register_error_handler(answers.AnswerError, handle_answer_error)
    app.register_error_handler(cohorts.CohortError, handle_cohort_error)
    app.register_error_handler(nudges.NudgeError, handle_nudge_error)
    # An xAPI export or LRS push asked of an installation without TRACKER_BASE_URL: a setting to add, said as such.
    app.register_error_handler(XapiNotConfigured, lambda error: error_response(409, str(error)))
    for database_error in (DBAPIError, PoolTimeout, psycopg.Error, sqlite3.Error):
        app.register_error_handler(database_error, handle_database_error)
