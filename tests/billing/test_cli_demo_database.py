"""With no database configured, the command line opens the demo firm's database, the one
`make demo` (`paydesk demo`) uses, so the README's commands work as written. A database
that is missing or has no Paydesk schema is named, with what to run, and nothing is
created."""

from __future__ import annotations

import sqlite3

import pytest

from tui.cli import main
from tui.commands.apps import prepare_demo_database

DANA = "dana.whitfield@example.com"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A new user's machine: no settings file, no database or Stripe key configured."""
    for var in ("PAYDESK_DATABASE_URL", "STRIPE_API_KEY", "PAYDESK_STRIPE_API_BASE",
                "PAYDESK_STAFF_PIN", "PAYDESK_SMTP_HOST"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(tmp_path / "outbox"))
    return tmp_path / "data" / "paydesk"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_readme_commands_reach_the_demo_that_make_demo_opened(home, capsys, monkeypatch):
    prepare_demo_database(str(home / "demo.db"), reset=False)  # what `paydesk demo` does
    code, out, err = run(capsys, "invoices", "--client", DANA)
    assert code == 0, err
    assert [line.split()[0] for line in out.strip().splitlines()] == [
        "INV-1001", "INV-1004", "INV-1009", "INV-1012", "INV-1021"]
    code, out, err = run(capsys, "pay", "--client", DANA, "--invoice", "INV-1012=100",
                         "--card", "4242424242424242", "--exp", "12/34", "--cvc", "123")
    assert code == 0, err
    assert out.split()[-1] == "R-000017"
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    code, out, err = run(capsys, "receipt", "R-000017", "--staff", "Front Desk")
    assert code == 0, err
    assert "R-000017" in out and "$100.00" in out
    assert sorted(p.name for p in home.iterdir() if p.suffix == ".db") == ["demo.db"]


def test_no_demo_yet_says_how_to_make_it_and_creates_nothing(home, capsys):
    code, out, err = run(capsys, "invoices", "--client", DANA)
    assert code == 1 and out == ""
    assert "There is no demo database yet" in err and "paydesk demo" in err
    assert not home.exists() or not any(home.iterdir())


def test_a_database_without_a_schema_says_run_db_upgrade_and_creates_nothing(home, tmp_path,
                                                                              capsys):
    empty = tmp_path / "firm.db"
    empty.touch()
    for args in (("invoices", "--client", DANA), ("receipt", "R-000001", "--staff", "X"),
                 ("reconcile",)):
        code, out, err = run(capsys, "--db", str(empty), *args)
        assert code != 0 and out == ""
        assert "paydesk db upgrade" in err and "no Paydesk schema" in err
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []

    missing = tmp_path / "nowhere.db"
    code, _, err = run(capsys, "--db", str(missing), "payments", "--staff", "Front Desk")
    assert code == 1 and "there is no database there" in err
    assert not missing.exists()


def test_a_live_key_never_runs_on_the_demo_database(home, capsys, monkeypatch):
    prepare_demo_database(str(home / "demo.db"), reset=False)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_notThisFirmsKey")
    code, out, err = run(capsys, "invoices", "--client", DANA)
    assert code == 1 and out == ""
    assert "database.url is not set" in err and "live Stripe key" in err
