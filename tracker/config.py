"""Settings read from the environment, each with a default that works on a laptop."""
import os
import re
import secrets
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many

from tracker.progress.model import MAX_BACKLOG_AGE_S
from tracker.xapi import ACTOR_KINDS

DEMO_CONTENT_DIR = Path(__file__).parent / "demo_content"

# (environment variable, default, minimum) for every integer setting.
INTEGER_SETTINGS = (
    ("TRACKER_HEARTBEAT_INTERVAL_S", 30, 1),
    ("TRACKER_INACTIVITY_TIMEOUT_S", 300, 1),
    ("TRACKER_MAX_DELTA_S", 120, 1),
    ("TRACKER_BURST_S", 120, 1),
    ("TRACKER_MAX_BACKLOG_S", 6 * 3600, 0),
    ("TRACKER_CONTENT_CHECK_S", 2, 0),
    ("TRACKER_CHAT_ALLOWANCE_S", 600, 0),
    ("TRACKER_CHAT_MESSAGES_PER_MINUTE", 10, 1),
    ("TRACKER_CHAT_STREAM_TIMEOUT_S", 600, 1),
    ("TRACKER_OFFLINE_TUTOR_DELAY_MS", 40, 0),
    ("TRACKER_LLM_CONTEXT_CHARS", 12000, 500),
    ("TRACKER_LLM_TIMEOUT_S", 60, 1),
    # PostgreSQL's limits on waiting (libpq counts a connect timeout under 2 s as 2); 0 turns a
    # statement timeout, lock timeout or client check off.
    ("TRACKER_DB_CONNECT_TIMEOUT_S", 5, 2),
    ("TRACKER_DB_STATEMENT_TIMEOUT_MS", 15000, 0),
    ("TRACKER_DB_LOCK_TIMEOUT_MS", 5000, 0),
    ("TRACKER_DB_CLIENT_CHECK_MS", 1000, 0),
    ("TRACKER_PROXY_HOPS", 0, 0),
    ("TRACKER_SECURE_COOKIES", 1, 0),
    # Nudges (tracker/nudges/): how many days before a meeting its reminders go out, and the mail server.
    ("TRACKER_NUDGE_DAYS_BEFORE", 3, 1),
    ("TRACKER_SMTP_PORT", 25, 1),
    ("TRACKER_SMTP_STARTTLS", 0, 0),
    # The LRS outbox (tracker/lrs/): at most one `progressed` statement per learner and module this
    # often, and how many statements `flask tracker lrs-push` sends in one request.
    ("TRACKER_LRS_PROGRESS_EVERY_S", 900, 1),
    ("TRACKER_LRS_BATCH", 100, 1),
)

# (environment variable, default) for every text setting; an empty value means the default.
STRING_SETTINGS = (
    ("TRACKER_LLM_BASE_URL", ""),
    ("TRACKER_LLM_API_KEY", ""),
    ("TRACKER_LLM_MODEL", ""),
    ("TRACKER_RATELIMIT_STORAGE_URL", "memory://"),
    ("TRACKER_RATELIMIT_KEY_PREFIX", "tracker"),
    ("TRACKER_LOG_FORMAT", "json"),
    # "tracker" (YAML front matter), "lens" (an Obsidian vault), or "auto": a vault is recognised by its folders.
    ("TRACKER_CONTENT_FORMAT", "auto"),
    # The address learners open tracker at, e.g. https://tracker.example.org/: emails link to it, and
    # xAPI activity ids are built from it (never from the host name a request used).
    ("TRACKER_BASE_URL", ""),
    ("TRACKER_SMTP_HOST", ""),
    ("TRACKER_SMTP_USERNAME", ""),
    ("TRACKER_SMTP_PASSWORD", ""),
    ("TRACKER_MAIL_FROM", ""),
    # xAPI (tracker/xapi/): how accounts appear in statements (account, mbox or mbox_sha1sum), and
    # the language tag of the content's titles.
    ("TRACKER_XAPI_ACTOR", "account"),
    ("TRACKER_XAPI_LANGUAGE", "en"),
    # A Learning Record Store to push statements to: its xAPI endpoint (statements go to
    # <endpoint>statements), with HTTP basic auth.
    ("TRACKER_LRS_URL", ""),
    ("TRACKER_LRS_USERNAME", ""),
    ("TRACKER_LRS_PASSWORD", ""),
)


# (environment variable, default) for every rate limit, in Flask-Limiter's notation ("120/minute",
# "10 per 15 minutes"; several separated by ";"). The defaults leave room for a classroom or a
# company behind one address: hundreds of learners, each with a few tabs sending a heartbeat every 30 s.
RATE_LIMIT_SETTINGS = (
    ("TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER", "120/minute"),
    ("TRACKER_RATELIMIT_HEARTBEAT_PER_IP", "3000/minute"),
    ("TRACKER_RATELIMIT_COMPLETION_PER_LEARNER", "60/minute"),
    ("TRACKER_RATELIMIT_COMPLETION_PER_IP", "600/minute"),
    ("TRACKER_RATELIMIT_CHAT_PER_IP", "600/minute"),
    ("TRACKER_RATELIMIT_ANSWER_PER_LEARNER", "10/minute"),
    ("TRACKER_RATELIMIT_ANSWER_PER_IP", "600/minute"),
    ("TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL", "10/15minutes"),
    ("TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP", "100/hour"),
    ("TRACKER_RATELIMIT_SIGNUP_PER_LEARNER", "20/hour"),
    ("TRACKER_RATELIMIT_SIGNUP_PER_IP", "600/hour"),
)


CONTENT_FORMATS = ("auto", "tracker", "lens")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class ConfigError(RuntimeError):
    """A setting in the environment cannot be used."""


def load_settings(instance_path: str, environ=os.environ) -> dict:
    """Build the Flask config from the environment."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url(environ.get("DATABASE_URL"), instance_path),
        "TRACKER_CONTENT_DIR": environ.get("TRACKER_CONTENT_DIR") or str(DEMO_CONTENT_DIR),
        "SECRET_KEY": environ.get("SECRET_KEY") or development_secret_key(instance_path),
    }
    for name, default, minimum in INTEGER_SETTINGS:
        settings[name] = integer_setting(environ, name, default, minimum)
    for name, default in STRING_SETTINGS:
        settings[name] = environ.get(name) or default
    for name, default in RATE_LIMIT_SETTINGS:
        settings[name] = check_rate_limit(name, environ.get(name) or default)
    if settings["TRACKER_LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError(f"TRACKER_LOG_FORMAT must be json or text, got {settings['TRACKER_LOG_FORMAT']!r}")
    if settings["TRACKER_CONTENT_FORMAT"] not in CONTENT_FORMATS:
        raise ConfigError(f"TRACKER_CONTENT_FORMAT must be one of {', '.join(CONTENT_FORMATS)}, got {settings['TRACKER_CONTENT_FORMAT']!r}")
    if settings["TRACKER_SECURE_COOKIES"] not in (0, 1):
        raise ConfigError(f"TRACKER_SECURE_COOKIES must be 0 or 1, got {settings['TRACKER_SECURE_COOKIES']}")
    if settings["TRACKER_MAX_BACKLOG_S"] > MAX_BACKLOG_AGE_S:
        raise ConfigError(f"TRACKER_MAX_BACKLOG_S must be at most {MAX_BACKLOG_AGE_S} (a year), got {settings['TRACKER_MAX_BACKLOG_S']}")
    if settings["TRACKER_LLM_BASE_URL"] and not settings["TRACKER_LLM_MODEL"]:
        raise ConfigError("TRACKER_LLM_BASE_URL is set, so TRACKER_LLM_MODEL must name the model to use")
    check_mail_settings(settings)
    check_xapi_settings(settings)
    return settings


def check_mail_settings(settings: dict) -> None:
    """Refuse mail settings that could only fail later, when `flask tracker nudges` runs from cron."""
    if settings["TRACKER_SMTP_PORT"] > 65535:
        raise ConfigError(f"TRACKER_SMTP_PORT must be a port number up to 65535, got {settings['TRACKER_SMTP_PORT']}")
    if settings["TRACKER_SMTP_STARTTLS"] not in (0, 1):
        raise ConfigError(f"TRACKER_SMTP_STARTTLS must be 0 or 1, got {settings['TRACKER_SMTP_STARTTLS']}")
    if bool(settings["TRACKER_SMTP_USERNAME"]) != bool(settings["TRACKER_SMTP_PASSWORD"]):
        raise ConfigError("TRACKER_SMTP_USERNAME and TRACKER_SMTP_PASSWORD go together: set both, or neither")
    base_url = urlsplit(settings["TRACKER_BASE_URL"])
    if settings["TRACKER_BASE_URL"] and (base_url.scheme not in ("http", "https") or not base_url.netloc or base_url.query or base_url.fragment):
        raise ConfigError(f"TRACKER_BASE_URL must be an http:// or https:// address such as https://tracker.example.org/, got {settings['TRACKER_BASE_URL']!r}")
    sender = parseaddr(settings["TRACKER_MAIL_FROM"])[1]
    if settings["TRACKER_MAIL_FROM"] and "@" not in sender:
        raise ConfigError(f"TRACKER_MAIL_FROM must be an email address such as 'tracker <tracker@example.org>', got {settings['TRACKER_MAIL_FROM']!r}")


def check_xapi_settings(settings: dict) -> None:
    """Refuse xAPI and LRS settings that could only fail later, in the export or the push worker."""
    if settings["TRACKER_XAPI_ACTOR"] not in ACTOR_KINDS:
        raise ConfigError(f"TRACKER_XAPI_ACTOR must be one of {', '.join(ACTOR_KINDS)}, got {settings['TRACKER_XAPI_ACTOR']!r}")
    if not LANGUAGE_TAG.fullmatch(settings["TRACKER_XAPI_LANGUAGE"]):
        raise ConfigError(f"TRACKER_XAPI_LANGUAGE must be a language tag such as en or en-GB, got {settings['TRACKER_XAPI_LANGUAGE']!r}")
    lrs_url = urlsplit(settings["TRACKER_LRS_URL"])
    if settings["TRACKER_LRS_URL"] and (lrs_url.scheme not in ("http", "https") or not lrs_url.netloc or lrs_url.query or lrs_url.fragment):
        raise ConfigError(f"TRACKER_LRS_URL must be the LRS's xAPI endpoint, an http:// or https:// address such as https://lrs.example.org/xAPI/, got {settings['TRACKER_LRS_URL']!r}")
    if settings["TRACKER_LRS_URL"] and not settings["TRACKER_BASE_URL"]:
        raise ConfigError("TRACKER_LRS_URL is set, so TRACKER_BASE_URL must be too: activity ids in the statements are built from it")
    if bool(settings["TRACKER_LRS_USERNAME"]) != bool(settings["TRACKER_LRS_PASSWORD"]):
        raise ConfigError("TRACKER_LRS_USERNAME and TRACKER_LRS_PASSWORD go together: set both, or neither")


def database_url(url: str | None, instance_path: str) -> str:
    """Return a SQLAlchemy URL, defaulting to a SQLite file in the instance folder."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'tracker.sqlite3'}"
    # Hosting providers hand out plain postgres:// URLs; we always drive PostgreSQL with psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def integer_setting(environ, name: str, default: int, minimum: int) -> int:
    """Read one integer setting, refusing values the app cannot run with."""
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def check_rate_limit(name: str, value) -> str:
    """Return a rate limit setting unchanged if Flask-Limiter can use it; else a ConfigError naming it."""
    try:
        items = parse_many(value) if isinstance(value, str) else []
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise ConfigError(f"{name} must be a rate limit such as '120/minute' or '10 per 15 minutes', got {value!r}")
    return value


def development_secret_key(instance_path: str) -> str:
    """Return a random key kept in the instance folder, so sessions survive restarts in development."""
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
