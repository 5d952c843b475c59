"""Settings come from the environment, with defaults that run the demo on SQLite."""
import pytest

from tracker.config import DEMO_CONTENT_DIR, ConfigError, load_settings


def test_defaults_run_the_demo_on_sqlite(tmp_path):
    settings = load_settings(str(tmp_path), environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    assert settings["TRACKER_CONTENT_DIR"] == str(DEMO_CONTENT_DIR)
    assert (settings["TRACKER_HEARTBEAT_INTERVAL_S"], settings["TRACKER_INACTIVITY_TIMEOUT_S"]) == (30, 300)
    assert (settings["TRACKER_MAX_DELTA_S"], settings["TRACKER_BURST_S"]) == (120, 120)


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings(str(tmp_path), environ={})["SECRET_KEY"]
    assert len(first) == 64
    assert load_settings(str(tmp_path), environ={})["SECRET_KEY"] == first
    assert load_settings(str(tmp_path), environ={"SECRET_KEY": "set"})["SECRET_KEY"] == "set"


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgresql_urls_use_psycopg(tmp_path, given):
    assert load_settings(str(tmp_path), {"DATABASE_URL": given})["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("value", ["thirty", "0", "-5", "1.5"])
def test_bad_integer_settings_stop_the_app_with_the_name(tmp_path, value):
    with pytest.raises(ConfigError, match="TRACKER_MAX_DELTA_S"):
        load_settings(str(tmp_path), {"TRACKER_MAX_DELTA_S": value})


def test_the_tutor_is_offline_unless_a_model_is_named(tmp_path):
    settings = load_settings(str(tmp_path), environ={})
    assert (settings["TRACKER_LLM_MODEL"], settings["TRACKER_LLM_BASE_URL"]) == ("", "")
    assert settings["TRACKER_CHAT_MESSAGES_PER_MINUTE"] == 10
    assert settings["TRACKER_RATELIMIT_STORAGE_URL"] == "memory://"
    ollama = {"TRACKER_LLM_BASE_URL": "http://localhost:11434/v1", "TRACKER_LLM_MODEL": "llama3.2"}
    assert load_settings(str(tmp_path), ollama)["TRACKER_LLM_MODEL"] == "llama3.2"


def test_a_tutor_url_without_a_model_stops_the_app(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_LLM_MODEL"):
        load_settings(str(tmp_path), {"TRACKER_LLM_BASE_URL": "http://localhost:11434/v1"})


def test_nudges_go_out_three_days_before_a_meeting_and_mail_is_unset_by_default(tmp_path):
    settings = load_settings(str(tmp_path), environ={})
    assert settings["TRACKER_NUDGE_DAYS_BEFORE"] == 3
    assert (settings["TRACKER_SMTP_HOST"], settings["TRACKER_SMTP_PORT"], settings["TRACKER_SMTP_STARTTLS"]) == ("", 25, 0)
    assert (settings["TRACKER_BASE_URL"], settings["TRACKER_MAIL_FROM"]) == ("", "")
    mail = {
        "TRACKER_BASE_URL": "https://tracker.example.org/", "TRACKER_SMTP_HOST": "smtp.example.org", "TRACKER_SMTP_PORT": "587",
        "TRACKER_SMTP_STARTTLS": "1", "TRACKER_SMTP_USERNAME": "tracker", "TRACKER_SMTP_PASSWORD": "secret",
        "TRACKER_MAIL_FROM": "tracker <tracker@example.org>", "TRACKER_NUDGE_DAYS_BEFORE": "2",
    }
    settings = load_settings(str(tmp_path), mail)
    assert (settings["TRACKER_SMTP_PORT"], settings["TRACKER_SMTP_STARTTLS"], settings["TRACKER_NUDGE_DAYS_BEFORE"]) == (587, 1, 2)


@pytest.mark.parametrize("environ, named", [
    ({"TRACKER_NUDGE_DAYS_BEFORE": "0"}, "TRACKER_NUDGE_DAYS_BEFORE"),
    ({"TRACKER_NUDGE_DAYS_BEFORE": "soon"}, "TRACKER_NUDGE_DAYS_BEFORE"),
    ({"TRACKER_SMTP_PORT": "0"}, "TRACKER_SMTP_PORT"),
    ({"TRACKER_SMTP_PORT": "70000"}, "TRACKER_SMTP_PORT"),
    ({"TRACKER_SMTP_STARTTLS": "yes"}, "TRACKER_SMTP_STARTTLS"),
    ({"TRACKER_SMTP_STARTTLS": "2"}, "TRACKER_SMTP_STARTTLS"),
    ({"TRACKER_SMTP_USERNAME": "tracker"}, "TRACKER_SMTP_PASSWORD"),
    ({"TRACKER_BASE_URL": "tracker.example.org"}, "TRACKER_BASE_URL"),
    ({"TRACKER_BASE_URL": "ftp://tracker.example.org/"}, "TRACKER_BASE_URL"),
    ({"TRACKER_BASE_URL": "https://tracker.example.org/?x=1"}, "TRACKER_BASE_URL"),
    ({"TRACKER_MAIL_FROM": "tracker"}, "TRACKER_MAIL_FROM"),
])
def test_bad_nudge_and_mail_settings_stop_the_app_with_the_name(tmp_path, environ, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(str(tmp_path), environ)
