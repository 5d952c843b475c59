"""tracker: time and completion tracking for online courses."""
from datetime import datetime
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, user_logged_in, user_logged_out
from flask_wtf import CSRFProtect

from tracker import admin, api, auth, cli, errors, facilitate, learn, ops
from tracker.chat import make_tutor
from tracker.config import load_settings
from tracker.content import ContentStore
from tracker.db import db, engine_options, init_databases, migrate
from tracker.logs import configure_logging
from tracker.models import User
from tracker.progress import Budget
from tracker.http.identity import bind_session_to_account, forget_session_account, session_belongs_to
from tracker.http.ratelimit import init_rate_limits
from tracker.http.request import TrackerRequest
from tracker.learn import media
from tracker.learn.render import register_template_helpers
from tracker.security import init_security

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class LazySessionInterface(SecureCookieSessionInterface):
    """No session cookie, no signing work: anonymous API calls never need a session."""

    def open_session(self, app, request):
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 timestamps, which every client parses, instead of Flask's HTTP-date format."""

    sort_keys = False  # keep fields in the documented order

    @staticmethod
    def default(value):
        if isinstance(value, datetime):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by `config` (tests use this)."""
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = TrackerRequest
    app.config.from_mapping(load_settings(app.instance_path))
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    app.config.update(config or {})
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    app.json = JSONProvider(app)
    app.session_interface = LazySessionInterface()
    configure_logging(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    init_databases(app)
    init_login(app)
    app.extensions["tracker.content"] = ContentStore(
        app.config["TRACKER_CONTENT_DIR"],
        check_interval_s=app.config["TRACKER_CONTENT_CHECK_S"],
        chat_allowance_s=app.config["TRACKER_CHAT_ALLOWANCE_S"],
        content_format=app.config["TRACKER_CONTENT_FORMAT"],
    )
    init_security(app, app.extensions["tracker.content"])
    app.extensions["tracker.budget"] = Budget(
        max_delta_s=app.config["TRACKER_MAX_DELTA_S"],
        burst_s=app.config["TRACKER_BURST_S"],
        max_backlog_s=app.config["TRACKER_MAX_BACKLOG_S"],
    )
    app.extensions["tracker.tutor"] = make_tutor(app.config)
    init_rate_limits(app)
    register_blueprints(app)
    return app


def init_login(app: Flask) -> None:
    login_manager = LoginManager(app)
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and session_belongs_to(user) else None

    user_logged_in.connect(bind_session_to_account, app)
    user_logged_out.connect(forget_session_account, app)


def register_blueprints(app: Flask) -> None:
    csrf = CSRFProtect(app)
    # The JSON API takes no CSRF token: API clients authenticate with a header, and browser
    # requests that ride on a cookie must come from our own origin (see tracker/api/__init__.py).
    csrf.exempt(api.bp)
    # A mail program's one-click unsubscribe (RFC 8058) POSTs from outside any page of ours, so it
    # cannot carry a CSRF token; the signed token in the address is what shows the request is meant.
    csrf.exempt(learn.nudges.one_click_unsubscribe)
    app.register_blueprint(api.bp)
    app.register_blueprint(learn.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(facilitate.bp)
    app.register_blueprint(ops.bp)
    errors.register_error_handlers(app)
    register_template_helpers(app)
    app.cli.add_command(cli.tracker_group)
