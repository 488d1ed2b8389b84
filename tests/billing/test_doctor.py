"""`paydesk doctor` against the in-process sandbox: a good set-up passes; each problem is
reported in its own words (no database, an old schema, a bad key, a live key without raw
card access, no reader, Stripe unreachable); `--charge-test` leaves one canceled hold."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from gateway.sandbox import Faults
from models import bind, open_database
from models.schema import MIGRATIONS_DIR, _runner, pending
from tui.cli import main

# Every migration Paydesk has, in order (the newest is the current schema).
MIGRATIONS = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))

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
    assert f"schema current ({MIGRATIONS[-1]})" in checks["database"][1]
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
    later = MIGRATIONS[1:]
    assert f"old schema: migrations {', '.join(later)} are not applied" in message
    assert "`paydesk db upgrade`" in message
    assert pending(bind(open_database(path))) == later  # left as it was


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


# --- the kind of key -------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "kind", "mode"), [
    ("sk_test_abc", "secret", "test"), ("sk_live_abc", "secret", "live"),
    ("rk_test_abc", "restricted", "test"), ("rk_live_abc", "restricted", "live"),
    ("pk_test_abc", "publishable", "not secret"), ("pk_live_abc", "publishable", "not secret"),
    ("whsec_abc", "unknown", "not secret"), ("sk_test_", "unknown", "not secret"),
    ("4242424242424242", "unknown", "not secret"), (None, None, None), ("", None, None)])
def test_each_kind_of_key_is_recognised_by_its_prefix(key, kind, mode):
    from gateway.setup_check import key_mode

    assert key_mode(key) == mode  # a publishable key or garbage is never "live"
    from gateway.setup_check import key_kind

    assert key_kind(key) == kind


def run_doctor(settings, capsys, *, charge_test: bool) -> tuple[int, dict[str, tuple[str, str]]]:
    """`paydesk doctor --json` on settings made directly (load_settings refuses a key that
    is not sk_/rk_ before the doctor runs; the doctor must still name one)."""
    import argparse

    from tui.commands.doctor import doctor as run

    code = run(argparse.Namespace(charge_test=charge_test, json=True), settings)
    report = json.loads(capsys.readouterr().out)
    return code, {c["name"]: (c["status"], c["message"]) for c in report["checks"]}


@pytest.mark.parametrize(("key", "what"), [
    ("pk_test_firmsPublishableKey", "a publishable key (pk_)"),
    ("pk_live_firmsPublishableKey", "a publishable key (pk_)"),
    ("firmsSecretKeyWithoutPrefix", "not a Stripe secret key")])
def test_a_key_that_is_not_a_secret_key_is_named_so(key, what, demo_sqlite, sqlite_url,
                                                    sandbox, capsys):
    from dataclasses import replace

    from billing.config import load_settings

    settings = load_settings(environ={}, overrides={"database.url": sqlite_url})
    settings = replace(settings, stripe=replace(settings.stripe, api_key=key,
                                                api_base=sandbox.url))
    code, checks = run_doctor(settings, capsys, charge_test=True)
    assert code == 1
    status, message = checks["stripe key"]
    assert status == "problem"
    assert "is not a secret key: it is " + what in message
    assert "Developers > API keys" in message and "starts sk_test_ or sk_live_" in message
    assert "live mode" not in message and "real cards" not in message
    assert "keyed cards" not in checks  # no raw-card-access problem for a key that is none
    assert checks["stripe account"][0] == checks["card readers"][0] == "skipped"
    status, message = checks["charge test"]
    assert status == "problem" and "not a secret key" in message and "real card" not in message
    assert sandbox.count("payment_intent") == 0
    assert key not in json.dumps(checks)


def refuse_restricted(sandbox, monkeypatch, paths: set[str], message: str) -> None:
    """The sandbox answers a GET of `paths` as Stripe answers a restricted key that may not
    make it: 403, invalid_request_error (stripe.PermissionError)."""
    from gateway.sandbox.errors import ApiError

    server = sandbox._server
    real = server.dispatch

    def dispatch(method, path, params, key):
        if method == "GET" and path in paths:
            raise ApiError(403, message)
        return real(method, path, params, key)
    monkeypatch.setattr(server, "dispatch", dispatch)


RAK_ACCOUNT = ("The provided key 'rk_test_********abcd' does not have the required permissions "
               "for this endpoint on account 'acct_1Firm'. This is a restricted API key, but "
               "the required permissions are not available for use by restricted keys.")
RAK_READERS = ("The provided key 'rk_test_********abcd' does not have the required permissions "
               "for this endpoint on account 'acct_1Firm'. Having the "
               "'rak_terminal_reader_read' permission would allow this request to continue.")


def test_a_restricted_test_key_refused_the_account_is_not_a_bad_key(
        doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "rk_test_firmsRestrictedKey")
    refuse_restricted(sandbox, monkeypatch, {"/v1/account"}, RAK_ACCOUNT)
    code, checks, out = doctor(sqlite_url, sandbox.url)
    assert code == 0 and problems(checks) == set()
    status, message = checks["stripe key"]
    assert message.startswith("a restricted key for test mode")
    assert "Write access to Customers, PaymentMethods, PaymentIntents" in message
    assert "Terminal Readers" in message
    status, message = checks["stripe account"]
    assert status == "skipped" and "knows the key" in message
    assert "restricted key may not read the account" in message
    assert "Paydesk's payments do not need" in message
    assert "refused the API key" not in message
    assert checks["card readers"][0] == "ok"  # checked all the same
    assert "acct_1Firm" not in out and "abcd" not in out


def test_a_restricted_key_without_reader_access_is_told_which_permission(
        doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "rk_test_firmsRestrictedKey")
    refuse_restricted(sandbox, monkeypatch, {"/v1/account"}, RAK_ACCOUNT)
    refuse_restricted(sandbox, monkeypatch, {"/v1/terminal/readers"}, RAK_READERS)
    code, checks, out = doctor(sqlite_url, sandbox.url)
    assert code == 1 and problems(checks) == {"card readers"}
    message = checks["card readers"][1]
    assert "Stripe knows the key" in message and "rak_terminal_reader_read" in message
    assert "Terminal Readers" in message
    assert "acct_1Firm" not in out and "abcd" not in out


def test_the_charge_test_on_a_restricted_test_key_speaks_of_no_real_card(
        doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "rk_test_firmsRestrictedKey")
    _, checks, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    status, message = checks["charge test"]
    assert status == "problem" and message.startswith("Refused")
    assert "real card" not in message and "restricted test key" in message
    assert "sk_test_" in message and "Nothing was sent" in message
    assert sandbox.count("payment_intent") == 0


# --- a lost answer to the test authorization -------------------------------------------------

def lose_answers(sandbox, monkeypatch, *, from_create: bool, only_create: bool) -> None:
    """The sandbox does the work and drops the answer (Faults(drop_rate=1.0)): for the
    PaymentIntent create only, or for it and every request after it."""
    server = sandbox._server
    real = server.dispatch

    def dispatch(method, path, params, key):
        if method == "POST" and path == "/v1/payment_intents" and from_create:
            sandbox.faults = Faults(drop_rate=1.0)
        elif only_create:
            sandbox.faults = Faults()
        return real(method, path, params, key)
    monkeypatch.setattr(server, "dispatch", dispatch)


def test_a_lost_answer_to_the_charge_test_finds_the_hold_and_cancels_it(
        doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    lose_answers(sandbox, monkeypatch, from_create=True, only_create=True)
    code, checks, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    assert sandbox.fault_counts["dropped"] == 1  # the create's answer, and only it
    intents = sandbox.objects("payment_intent")
    assert sum(i["status"] == "canceled" for i in intents) == 1
    assert not [i for i in intents if i["status"] == "requires_capture"]
    [intent] = intents
    assert code == 1 and problems(checks) == {"charge test"}
    message = checks["charge test"][1]
    assert "answer to the test authorization of $0.50 was lost" in message
    assert f"the hold {intent['id']} was found and cancelled" in message
    assert "did not go through" not in message


def test_a_lost_answer_that_cannot_be_read_back_says_the_hold_may_exist(
        doctor, demo_sqlite, sqlite_url, sandbox, monkeypatch):
    lose_answers(sandbox, monkeypatch, from_create=True, only_create=False)
    code, checks, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    [intent] = sandbox.objects("payment_intent")
    assert intent["status"] == "requires_capture"  # placed; Paydesk could not reach it
    assert code == 1
    message = checks["charge test"][1]
    assert "may have been placed" in message and "did not go through" not in message
    assert "lapses by itself within 7 days" in message
    assert "Stripe Dashboard (test mode) under Payments, uncaptured" in message
    assert 'description "Paydesk set-up check (cancelled at once)"' in message
    assert f"paydesk_doctor = {intent['metadata']['paydesk_doctor']}" in message
    assert "customer paydesk-doctor@example.com" in message
    # And it does lapse as said: 7 days on, the sandbox reads it as canceled.
    sandbox.faults = Faults()
    sandbox.advance_clock(7 * 24 * 3600 + 60)
    assert [i["status"] for i in sandbox.objects("payment_intent")] == ["canceled"]


# --- a command that cannot start -------------------------------------------------------------

def test_a_corrupt_sandbox_state_file_is_named_not_the_database(demo_sqlite, sqlite_url,
                                                                 tmp_path, monkeypatch, capsys):
    from billing.config import load_settings
    from billing.services import embedded_sandbox_state

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("STRIPE_API_KEY", "PAYDESK_DATABASE_URL", "PAYDESK_STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    state = embedded_sandbox_state(load_settings(environ={}, overrides={"database.url": sqlite_url}))
    assert state is not None
    Path(state).write_text('{"objects": {"cus_1": ', encoding="utf-8")  # cut off mid-write
    code = main(["--db", sqlite_url, "invoices", "--client", "dana.whitfield@example.com"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.startswith("paydesk: cannot start: the built-in Stripe sandbox")
    assert f"It keeps its state in {state}: if that file is damaged, move it aside" in err
    assert "database" not in err
    assert "`paydesk doctor` checks the set-up." in err
    assert Path(state).read_text(encoding="utf-8") == '{"objects": {"cus_1": '  # untouched


def test_a_database_that_cannot_be_brought_up_to_date_is_named(demo_sqlite, sqlite_url,
                                                              tmp_path, monkeypatch, capsys):
    import peewee

    import billing.services

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PAYDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")

    def locked(db):
        raise peewee.OperationalError("database is locked")
    monkeypatch.setattr(billing.services, "upgrade", locked)
    code = main(["--db", sqlite_url, "invoices", "--client", "dana.whitfield@example.com"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"paydesk: cannot start: the database (SQLite {sqlite_url}) could "
                          "not be opened or brought up to date (database is locked).")
    assert "sandbox" not in err


def test_a_lost_answer_to_the_cancel_is_read_back(doctor, demo_sqlite, sqlite_url, sandbox,
                                                 monkeypatch):
    server = sandbox._server
    real = server.dispatch

    def dispatch(method, path, params, key):  # the cancel is done, its answer is lost
        lost = method == "POST" and path.endswith("/cancel")
        sandbox.faults = Faults(drop_rate=1.0 if lost else 0.0)
        return real(method, path, params, key)
    monkeypatch.setattr(server, "dispatch", dispatch)
    code, checks, _ = doctor(sqlite_url, sandbox.url, "--charge-test")
    assert sandbox.fault_counts["dropped"] == 1
    [intent] = sandbox.objects("payment_intent")
    assert intent["status"] == "canceled"
    assert code == 0 and checks["charge test"][0] == "ok"
    assert intent["id"] in checks["charge test"][1]
