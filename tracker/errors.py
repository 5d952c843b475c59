"""One place that turns errors into responses: JSON under /api/, an HTML page elsewhere."""
import logging

from flask import current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable

from tracker import chat, progress

log = logging.getLogger(__name__)

STATUS_BY_PROGRESS_ERROR = {
    progress.UnknownLens: 404,
    progress.UnknownModule: 404,
    progress.LensNotInModule: 404,
    progress.NotAPlacement: 422,
    progress.InvalidDelta: 422,
    progress.ChatNotStarted: 409,
}

STATUS_BY_CHAT_ERROR = {
    chat.InvalidMessage: 422,
    chat.StreamInProgress: 409,
    chat.NothingToAnswer: 409,
    chat.TutorUnavailable: 502,  # streams report it as an event; only a bug would let it reach here
}


def error_response(status: int, message: str, headers=None):
    if request.path.startswith("/api/"):
        response = jsonify(error=message, status=status)
    elif request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true":
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


def handle_database_error(error: DBAPIError):
    if error.connection_invalidated or "could not connect" in str(error.orig).lower():
        log.error("database unavailable: %s", error.orig)
        return handle_http_error(ServiceUnavailable("the database is unavailable; try again shortly"))
    raise error


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(progress.ProgressError, handle_progress_error)
    app.register_error_handler(chat.ChatError, handle_chat_error)
    app.register_error_handler(DBAPIError, handle_database_error)
