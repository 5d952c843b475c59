"""Settings read from the environment, each with a default that works on a laptop."""
import os
import secrets
from pathlib import Path

DEMO_CONTENT_DIR = Path(__file__).parent / "demo_content"

# (environment variable, default, minimum) for every integer setting.
INTEGER_SETTINGS = (
    ("TRACKER_HEARTBEAT_INTERVAL_S", 30, 1),
    ("TRACKER_INACTIVITY_TIMEOUT_S", 300, 1),
    ("TRACKER_MAX_DELTA_S", 120, 1),
    ("TRACKER_BURST_S", 120, 1),
    ("TRACKER_CONTENT_CHECK_S", 2, 0),
    ("TRACKER_CHAT_ALLOWANCE_S", 600, 0),
    ("TRACKER_CHAT_MESSAGES_PER_MINUTE", 10, 1),
    ("TRACKER_CHAT_STREAM_TIMEOUT_S", 600, 1),
    ("TRACKER_OFFLINE_TUTOR_DELAY_MS", 40, 0),
    ("TRACKER_LLM_CONTEXT_CHARS", 12000, 500),
    ("TRACKER_LLM_TIMEOUT_S", 60, 1),
)

# (environment variable, default) for every text setting; an empty value means the default.
STRING_SETTINGS = (
    ("TRACKER_LLM_BASE_URL", ""),
    ("TRACKER_LLM_API_KEY", ""),
    ("TRACKER_LLM_MODEL", ""),
    ("TRACKER_RATELIMIT_STORAGE_URL", "memory://"),
)


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
    if settings["TRACKER_LLM_BASE_URL"] and not settings["TRACKER_LLM_MODEL"]:
        raise ConfigError("TRACKER_LLM_BASE_URL is set, so TRACKER_LLM_MODEL must name the model to use")
    return settings


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
