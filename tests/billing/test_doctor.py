"""`paydesk doctor` against the in-process sandbox: a good set-up passes; each problem is
reported in its own words (no database, an old schema, a bad key, a live key without raw
card access, no reader, Stripe unreachable); `--charge-test` leaves one canceled hold."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from models import bind, open_database
from models.schema import _runner, pending
from tui.cli import main

GOOD = {"database", "firm", "stripe key", "api version", "keyed cards", "stripe account",
        "card readers"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def doctor(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PAYDESK_STRIPE_MAX_NETWORK_RETRIES", "0")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_doctorKey")
    for name in ("PAYDESK_DATABASE_URL", "PAYDESK_STRIPE_API_BASE",
                 "PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS"):
        monkeypatch.delenv(name, raising=False)

    def run(db: str, api_base: str, *args: str) -> tuple[int, dict[str, tuple[str, str]], str]:
        code = main(["--db", db, "--stripe-api-base", api_base, "doctor", "--json", *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        report = json.loads(out)
        assert report["ok"] is (code == 0)
        return code, {c["name"]: (c["status"], c["message"]) for c in report["checks"]}, out
    return run


def problems(checks: dict[str, tuple[str, str]]) -> set[str]:
    return {name for name, (status, _) in checks.items() if status == "problem"}


def test_a_good_set_up_passes_every_check(doctor, demo_db, database_url, sandbox, capsys):
    code, checks, _ = doctor(database_url, sandbox.url)
    assert code == 0
    assert set(checks) == GOOD and problems(checks) == set()
    assert "schema current (0002_guards)" in checks["database"][1]
    assert "test mode" in checks["stripe key"][1]
    assert checks["api version"][1].startswith("2026-10-28.endive")
    assert checks["stripe account"][1].startswith("acct_")
    assert "Front desk reader (online)" in checks["card readers"][1]
    # The same in plain text: one line per check, each "ok".
    assert main(["--db", database_url, "--stripe-api-base", sandbox.url, "doctor"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(GOOD) and all(line.startswith("ok ") for line in lines)


def test_no_database_in_a_missing_folder(doctor, sandbox, tmp_path):
    path = tmp_path / "gone" / "paydesk.db"
    code, checks, _ = doctor(str(path), sandbox.url)
    assert code == 1 and problems(checks) == {"database"}
    status, message = checks["database"]
    assert f"its folder {path.parent} does not exist" in message
    assert "paydesk db upgrade" in message
    assert not path.parent.exists()  # nothing was created


def test_no_database_file(doctor, sandbox, tmp_path):
    path = tmp_path / "paydesk.db"
    code, checks, _ = doctor(str(path), sandbox.url)
    assert code == 1
    assert "there is no database there" in checks["database"][1]
    assert not path.exists()


def test_a_postgresql_server_nobody_answers(doctor, sandbox):
    url = f"postgresql://paydesk:s3cretPassw0rd@127.0.0.1:{closed_port()}/firm"
    code, checks, out = doctor(url, sandbox.url)
    assert code == 1 and "database" in problems(checks)
    message = checks["database"][1]
    assert message.startswith("PostgreSQL 127.0.0.1:") and "could not be opened" in message
    assert "s3cretPassw0rd" not in out


def test_an_old_schema_names_the_missing_migrations(doctor, sandbox, tmp_path):
    path = str(tmp_path / "old.db")
    old = bind(open_database(path))
    with old.connection_context():
        _runner(old).up(target="0001_initial")
    code, checks, _ = doctor(path, sandbox.url)
    assert code == 1 and problems(checks) == {"database"}
    message = checks["database"][1]
    assert "old schema: migrations 0002_guards are not applied" in message
    assert "`paydesk db upgrade`" in message
    assert pending(bind(open_database(path))) == ["0002_guards"]  # left as it was


def test_a_key_stripe_refuses(doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_not-a-key")
    code, checks, out = doctor(sqlite_url, sandbox.url, "--charge-test")
    assert code == 1 and problems(checks) == {"stripe account"}
    assert checks["stripe account"][1].startswith("Stripe refused the API key")
    assert checks["card readers"][0] == "skipped" and checks["charge test"][0] == "skipped"
    assert "not-a-key" not in out


def test_stripe_unreachable(doctor, demo_sqlite, sqlite_url):
    code, checks, _ = doctor(sqlite_url, f"http://127.0.0.1:{closed_port()}")
    assert code == 1 and problems(checks) == {"stripe account"}
    assert "Stripe could not be reached" in checks["stripe account"][1]


def test_no_key_at_all(doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    monkeypatch.delenv("STRIPE_API_KEY")
    code, checks, _ = doctor(sqlite_url, sandbox.url)
    assert code == 1 and problems(checks) == {"stripe key"}
    assert "No Stripe key is set" in checks["stripe key"][1]


def test_a_live_key_without_raw_card_access(doctor, demo_sqlite, sqlite_url, sandbox,
                                            monkeypatch):
    # The sandbox refuses live keys; the mode and keyed-entry checks need no network.
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_firmsLiveKey")
    code, checks, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    assert code == 1
    assert checks["stripe key"] == ("ok", "a secret key for live mode: real cards are "
                                          "charged.")
    status, message = checks["keyed cards"]
    assert status == "problem"
    assert message.startswith("Typing a card number in is off")
    assert "stripe.raw_card_data_access is false" in message
    assert "Saved cards and the card reader work" in message
    status, message = checks["charge test"]
    assert status == "problem" and message.startswith("Refused") and "Nothing was sent" in message
    assert sandbox.count("payment_intent") == 0

    monkeypatch.setenv("PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS", "true")
    _, checks, _ = doctor(sqlite_url, sandbox.url)
    assert checks["keyed cards"][0] == "ok"


def test_no_reader_registered(doctor, demo_sqlite, sqlite_url, sandbox):
    with sandbox.state.lock:  # the account's only reader is gone (deregistered)
        del sandbox.state.objects[sandbox.reader_id]
    code, checks, _ = doctor(sqlite_url, sandbox.url)
    assert code == 1 and problems(checks) == {"card readers"}
    message = checks["card readers"][1]
    assert message.startswith("No card reader is registered")
    assert "card reader will not work" in message and "Register the reader" in message


def test_charge_test_leaves_one_canceled_hold_per_run(doctor, demo_sqlite, sqlite_url, sandbox):
    code, checks, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    assert code == 0, checks
    assert checks["charge test"][0] == "ok"
    [intent] = sandbox.objects("payment_intent")
    assert (intent["status"], intent["amount"], intent["currency"], intent["capture_method"]) \
        == ("canceled", 50, "usd", "manual")
    assert intent["id"] in checks["charge test"][1]
    # A second run sends new idempotency keys: a second hold, also canceled.
    code, _, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    assert code == 0
    intents = sandbox.objects("payment_intent")
    assert len(intents) == 2 and {i["status"] for i in intents} == {"canceled"}
    assert sandbox.count("customer") == 1  # the set-up check's customer is reused
    assert sandbox.count("charge") == 2 and all(
        not c["captured"] for c in sandbox.objects("charge"))


def test_an_sdk_made_for_another_api_version(doctor, demo_sqlite, sqlite_url, sandbox,
                                              monkeypatch):
    import stripe

    monkeypatch.setattr(stripe, "api_version", "2099-01-01.future")
    code, checks, _ = doctor(sqlite_url, sandbox.url)
    assert code == 1 and problems(checks) == {"api version"}
    assert checks["api version"][1] == (
        "Paydesk pins 2026-10-28.endive, but the installed stripe library was made for "
        "2099-01-01.future: reinstall Paydesk's locked dependencies (requirements.lock).")


def test_doctor_is_listed_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "doctor" in capsys.readouterr().out


def test_the_sandbox_account_has_the_keys_of_stripes_example(sandbox):
    from gateway import GatewayOptions, build_stripe_client

    client = build_stripe_client(GatewayOptions(api_key="sk_test_x", api_base=sandbox.url))
    account = client.v1.accounts.retrieve_current().to_dict()
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "fixtures3.json"
    example = json.loads(fixtures.read_text(encoding="utf-8"))["resources"]["account"]
    assert set(account) == set(example)
    assert account["id"].startswith("acct_") and account["object"] == "account"
    assert client.v1.accounts.retrieve_current().id == account["id"]  # one account
