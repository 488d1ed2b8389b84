"""What each mode's sessions run, and the settings the SSH server takes."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from billing.config import ConfigError, SshSettings, load_settings
from tests.ssh.conftest import demo_settings
from tui.ssh import paydesk_launcher
from tui.ssh.launch import Entry, prepare_demo_template
from tui.web import demo_command, is_loopback


def test_a_demo_connection_gets_a_throwaway_database_removed_at_the_end(tmp_path: Path):
    launch = paydesk_launcher(demo_settings(tmp_path), ["--config", "x.toml"], scratch_dir=tmp_path)
    first, second = launch("10.0.0.7"), launch("10.0.0.8")
    assert first.argv[:3] == [sys.executable, "-m", "tui.cli"]
    assert first.argv[3:5] == ["--config", "x.toml"] and first.argv[-1] == "demo"
    db = Path(first.argv[first.argv.index("--db") + 1])
    assert db.parent.parent == tmp_path and db.parent.stat().st_mode & 0o077 == 0
    assert db != Path(second.argv[second.argv.index("--db") + 1])
    assert first.env["PAYDESK_TERMINAL"] == "ssh:10.0.0.7"
    first.cleanup()
    assert not db.parent.exists() and Path(second.argv[second.argv.index("--db") + 1]).parent.exists()


def test_demo_connections_copy_one_seeded_template_and_can_be_forked(tmp_path: Path):
    settings = demo_settings(tmp_path)
    template = prepare_demo_template(settings, tmp_path)
    assert template is not None
    with contextlib.closing(sqlite3.connect(template)) as db:
        (firms,) = db.execute("SELECT count(*) FROM firm").fetchone()
    assert firms == 1, "the template holds the demo firm, so sessions need not seed it"
    (tmp_path / "scratch").mkdir()
    plan = paydesk_launcher(settings, scratch_dir=tmp_path / "scratch",
                            demo_template=template)("10.0.0.7")
    db_path = Path(plan.argv[plan.argv.index("--db") + 1])
    assert db_path.read_bytes() == template.read_bytes()
    # The warm process runs the same command line as the fresh process would.
    assert plan.entry == Entry("tui.cli", tuple(plan.argv[3:]))
    plan.cleanup()
    assert template.exists() and not db_path.exists()


@pytest.mark.parametrize("database", ["shared", "kiosk"])
def test_no_template_is_made_where_sessions_do_not_seed_their_own(tmp_path: Path, database):
    settings = (demo_settings(tmp_path, demo_database="shared") if database == "shared"
                else demo_settings(tmp_path, mode="kiosk"))
    assert prepare_demo_template(settings, tmp_path) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["kiosk", "desk"])
def test_kiosk_and_desk_sessions_open_the_firms_database(tmp_path: Path, mode: str):
    settings = demo_settings(tmp_path, mode=mode)
    plan = paydesk_launcher(settings, scratch_dir=tmp_path)("10.0.0.7")
    assert plan.argv[-3:] == ["--db", settings.database_url, mode]
    assert list(tmp_path.iterdir()) == []


def test_the_shared_demo_is_never_the_firms_database(tmp_path: Path):
    settings = demo_settings(tmp_path, demo_database="shared")
    plan = paydesk_launcher(settings)("10.0.0.7")
    db = plan.argv[plan.argv.index("--db") + 1]
    assert db != settings.database_url and db.endswith("ssh-demo.db")


def test_ssh_settings_come_from_the_config_file(tmp_path: Path):
    config = tmp_path / "paydesk.toml"
    config.write_text(
        '[ssh]\nmode = "kiosk"\nport = 2200\nmax_sessions = 5\nidle_timeout_seconds = 60\n'
        'max_auth_tries = 4\n[ssh.passwords]\nfrontdesk = "s3cret"\n'
    )
    ssh = load_settings(config, environ={}).ssh
    assert replace(ssh, passwords={}) == SshSettings(
        mode="kiosk", port=2200, max_sessions=5, idle_timeout_seconds=60, max_auth_tries=4
    )
    assert ssh.passwords == {"frontdesk": "s3cret"}


@pytest.mark.parametrize(
    ("line", "message"),
    [("port = 70000", "ssh.port"), ("max_sessions = 0", "ssh.max_sessions"),
     ('mode = "shell"', "ssh.mode"), ('demo_database = "mine"', "ssh.demo_database"),
     ("max_auth_tries = 0", "ssh.max_auth_tries")],
)
def test_bad_ssh_settings_are_refused_by_name(tmp_path: Path, line: str, message: str):
    config = tmp_path / "paydesk.toml"
    config.write_text(f"[ssh]\n{line}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(config, environ={})


def test_serve_web_runs_the_demo_and_knows_loopback():
    command = demo_command(["--config", "my file.toml"])
    assert "tui.ssh.demo_session" in command and "'my file.toml'" in command
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")  # noqa: S104


def test_the_shared_demo_has_one_sandbox_for_every_session(tmp_path: Path):
    from tui.ssh.launch import shared_demo_sandbox

    shared = tmp_path / "shared.db"
    settings = demo_settings(tmp_path, demo_database="shared", shared_demo_path=str(shared))
    sandbox = shared_demo_sandbox(settings, stripe_api_base=None)
    assert sandbox is not None
    try:
        assert sandbox.url.startswith("http://127.0.0.1:")
        assert sandbox.state.path == Path(f"{shared}.stripe-sandbox.json")
    finally:
        sandbox.stop()
    assert shared_demo_sandbox(settings, stripe_api_base="http://127.0.0.1:12111") is None
    per_connection = demo_settings(tmp_path, demo_database="per-connection")
    assert shared_demo_sandbox(per_connection, stripe_api_base=None) is None
