"""Rate-limit settings: an invalid limit stops the app, naming the setting."""
import pytest

from tracker import create_app
from tracker.config import RATE_LIMIT_SETTINGS, ConfigError, load_settings


@pytest.mark.parametrize("value", ["lots", "0/minute", "10 per fortnight", "5"])
def test_an_invalid_rate_limit_setting_stops_the_app_with_its_name(tmp_path, value):
    with pytest.raises(ConfigError, match="TRACKER_RATELIMIT_HEARTBEAT_PER_IP"):
        load_settings(str(tmp_path), {"TRACKER_RATELIMIT_HEARTBEAT_PER_IP": value, "SECRET_KEY": "test"})


@pytest.mark.parametrize("name", [name for name, _ in RATE_LIMIT_SETTINGS])
def test_every_rate_limit_is_checked_from_the_environment_and_from_create_app(tmp_path, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(str(tmp_path), {name: "lots", "SECRET_KEY": "test"})
    # Settings given to create_app() skip load_settings; the limiter checks them itself.
    with pytest.raises(ConfigError, match=name):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "SECRET_KEY": "test", name: "lots"})


def test_a_chat_limit_under_one_message_a_minute_stops_the_app_with_its_name(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_CHAT_MESSAGES_PER_MINUTE"):
        load_settings(str(tmp_path), {"TRACKER_CHAT_MESSAGES_PER_MINUTE": "0", "SECRET_KEY": "test"})
