"""Settings: file, then environment, then flags; a wrong value names the setting."""

from __future__ import annotations

import pytest

from billing.config import ConfigError, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_then_environment_then_flags(tmp_path):
    path = write(tmp_path, """
[database]
url = "/tmp/from-file.db"
[stripe]
api_key = "sk_test_file"
max_network_retries = 4
[smtp]
host = "mail.example.com"
port = 2525
[kiosk]
idle_seconds = 60
""")
    settings = load_settings(path, environ={})
    assert settings.database_url == "/tmp/from-file.db"
    assert settings.stripe.api_key == "sk_test_file" and settings.stripe.max_network_retries == 4
    assert settings.smtp.host == "mail.example.com" and settings.smtp.port == 2525
    assert settings.kiosk.idle_seconds == 60

    env = {"PAYDESK_DATABASE_URL": "postgresql://u@h/db", "STRIPE_API_KEY": "sk_test_env",
           "PAYDESK_STRIPE_API_BASE": "http://127.0.0.1:12111", "PAYDESK_SMTP_PORT": "587"}
    settings = load_settings(path, environ=env)
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.stripe.api_key == "sk_test_env"
    assert settings.stripe.api_base == "http://127.0.0.1:12111"
    assert settings.smtp.port == 587

    settings = load_settings(path, environ=env, overrides={"database.url": "/tmp/flag.db",
                                                           "stripe.api_base": None})
    assert settings.database_url == "/tmp/flag.db"
    assert settings.stripe.api_base == "http://127.0.0.1:12111"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = load_settings(None, environ={})
    assert settings.stripe.api_key is None and settings.stripe.test_mode
    # No database configured: the demo firm's, the one `paydesk demo` opens.
    assert settings.database_url == str(tmp_path / "data" / "paydesk" / "demo.db")
    assert settings.database_is_default
    assert not load_settings(None, environ={"PAYDESK_DATABASE_URL": "/tmp/x.db"}
                             ).database_is_default
    assert settings.kiosk.idle_seconds == 120


@pytest.mark.parametrize("env,needle", [
    ({"STRIPE_API_KEY": "pk_test_123"}, "STRIPE_API_KEY"),
    ({"PAYDESK_STRIPE_API_BASE": "ftp://x"}, "stripe.api_base"),
    ({"PAYDESK_SMTP_PORT": "eighty"}, "PAYDESK_SMTP_PORT"),
    ({"PAYDESK_SMTP_PORT": "70000"}, "smtp.port"),
    ({"PAYDESK_SMTP_STARTTLS": "maybe"}, "true or false"),
    ({"PAYDESK_DATABASE_URL": "mysql://x/y"}, "database.url"),
    ({"PAYDESK_KIOSK_IDLE_SECONDS": "1"}, "kiosk.idle_seconds"),
])
def test_a_wrong_value_names_the_setting_and_what_is_allowed(env, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings(None, environ=env)


def test_a_secret_is_never_echoed_in_the_message():
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={"STRIPE_API_KEY": "pk_live_SECRETVALUE"})
    assert "SECRETVALUE" not in str(info.value)


def test_unknown_settings_and_bad_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="stripe.api_kee"):
        load_settings(write(tmp_path, '[stripe]\napi_kee = "x"\n'), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[stripe\n"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_cli_reports_a_wrong_setting_on_stderr(tmp_path, monkeypatch, capsys):
    from tui.cli import main

    monkeypatch.setenv("PAYDESK_SMTP_PORT", "eighty")
    assert main(["--db", str(tmp_path / "x.db"), "db", "upgrade"]) == 2
    assert "PAYDESK_SMTP_PORT" in capsys.readouterr().err
