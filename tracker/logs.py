"""Logs as JSON lines, one object per line, each carrying the id of the request it belongs to.

The request id comes from the proxy's X-Request-ID header when it sends a usable one (nginx:
`proxy_set_header X-Request-ID $request_id;`), else we make one; the response echoes it, so a
learner's bug report, the proxy's log and ours can be matched up.
"""
import logging
import re
import sys
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# A client-supplied id is logged and echoed, so only short, plain ones are kept.
USABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_FORMATS = ("json", "text")
RENAMED_FIELDS = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields=RENAMED_FIELDS, timestamp="time",
    )


class AccessLogFormatter(JsonFormatter):
    """gunicorn's access log line as fields instead of one formatted string.

    gunicorn passes its "atoms" (h: remote address, m: method, U: path, s: status, B: bytes,
    D: microseconds, {name}o: a response header) as the record's args.
    """

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        atoms = record.args if isinstance(record.args, dict) else {}
        log_record.update(
            remote=atoms.get("h"), method=atoms.get("m"), path=atoms.get("U"), status=atoms.get("s"),
            bytes=atoms.get("B"), duration_ms=round(int(atoms.get("D", 0)) / 1000, 2),
            request_id=atoms.get("{x-request-id}o"), user_agent=atoms.get("a"),
        )


def access_log_formatter() -> AccessLogFormatter:
    return AccessLogFormatter("%(levelname)s %(name)s", rename_fields=RENAMED_FIELDS, timestamp="time")


def log_handler(log_format: str, stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    return handler


def assign_request_id() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if USABLE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def echo_request_id(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    # Leave logging alone when the host set it up already (gunicorn's logconfig_dict, pytest).
    if not root.handlers:
        root.addHandler(log_handler(app.config["TRACKER_LOG_FORMAT"]))
        root.setLevel(logging.INFO)
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
