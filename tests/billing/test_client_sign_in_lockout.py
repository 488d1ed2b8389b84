"""Client sign-in is limited per email and per terminal: the tries left are said, an
unknown email is answered word for word like a wrong password (after the same argon2
check), and a lock holds until it ends. Staff locks made before the guards still hold."""

from __future__ import annotations

import datetime as dt

import pytest

import billing.clients
from billing.desk import Desk
from billing.errors import SignInFailed, SignInLocked, StaffLocked
from models import AuditEntry, Staff, bind, open_database
from models.demo import DANA_EMAIL
from models.schema import MIGRATIONS_DIR, _runner, upgrade
from models.security import hash_secret
from tests.billing.conftest import TODAY, settings_for

DANA_PASSWORD = "demo-dana"


def desk_at(terminal: str, gateway, tmp_path, now: list[dt.datetime]) -> Desk:
    desk = Desk(settings_for("unused", tmp_path), gateway, clock=lambda: now[0])
    desk.terminal = terminal
    return desk


def refusal(desk: Desk, email: str, password: str) -> SignInFailed:
    with pytest.raises(SignInFailed) as info:
        desk.sign_in_client(email, password)
    return info.value


def test_five_wrong_passwords_lock_the_email_and_each_refusal_says_the_tries_left(
        demo_db, gateway, tmp_path):
    now = [TODAY]
    desk = desk_at("kiosk-1", gateway, tmp_path, now)
    for left in (4, 3, 2, 1):
        error = refusal(desk, DANA_EMAIL, "wrong")
        assert not isinstance(error, SignInLocked)
        assert error.attempts_left == left
        tries = "tries" if left > 1 else "try"
        assert error.message == (f"Wrong email or password. {left} {tries} left before "
                                 "sign-in is locked for 15 minutes.")
    locked = refusal(desk, DANA_EMAIL, "wrong")
    assert isinstance(locked, SignInLocked)
    assert locked.message == ("Too many wrong passwords: sign-in with this email is locked "
                              "for 15 more minutes.")
    # The right password, from this terminal or another, while locked: refused.
    assert isinstance(refusal(desk, DANA_EMAIL, DANA_PASSWORD), SignInLocked)
    elsewhere = desk_at("kiosk-2", gateway, tmp_path, now)
    assert isinstance(refusal(elsewhere, DANA_EMAIL.upper(), DANA_PASSWORD), SignInLocked)
    now[0] = TODAY + dt.timedelta(minutes=15, seconds=1)
    assert desk.sign_in_client(DANA_EMAIL, DANA_PASSWORD).email == DANA_EMAIL
    results = [e.result for e in AuditEntry.select()
               .where(AuditEntry.action == "client.sign_in").order_by(AuditEntry.id)]
    assert results == ["failed"] * 4 + ["locked", "ok"]


def test_an_unknown_email_is_answered_like_a_wrong_password_after_the_same_check(
        demo_db, gateway, tmp_path, monkeypatch):
    checked: list[str] = []
    real = billing.clients.verify_secret

    def counting(stored_hash: str, secret: str) -> bool:
        checked.append(stored_hash.rsplit("$", 2)[0])  # algorithm and cost, not the salt
        return real(stored_hash, secret)

    monkeypatch.setattr(billing.clients, "verify_secret", counting)
    now = [TODAY]
    known = desk_at("kiosk-1", gateway, tmp_path, now)
    unknown = desk_at("kiosk-2", gateway, tmp_path, now)
    for _ in range(6):
        checked.clear()
        a = refusal(known, DANA_EMAIL, "wrong")
        b = refusal(unknown, "nobody@example.com", "wrong")
        assert (type(a), a.message, a.attempts_left) == (type(b), b.message, b.attempts_left)
        if not isinstance(a, SignInLocked):
            assert len(checked) == 2 and checked[0] == checked[1], checked
    assert isinstance(a, SignInLocked)


def test_one_terminal_is_limited_across_emails_and_says_its_own_tries_left(
        demo_db, gateway, tmp_path):
    now = [TODAY]
    kiosk = desk_at("ssh:198.51.100.7", gateway, tmp_path, now)
    # Each email has 4 tries left after its first; the terminal, 10 less those it made.
    left = [refusal(kiosk, f"person{n}@example.com", "guess").attempts_left for n in range(9)]
    assert left == [4, 4, 4, 4, 4, 4, 3, 2, 1]
    locked = refusal(kiosk, "person9@example.com", "guess")
    assert isinstance(locked, SignInLocked)
    assert locked.message == ("Too many wrong sign-ins at this terminal: sign-in here is "
                              "locked for 15 more minutes.")
    assert isinstance(refusal(kiosk, DANA_EMAIL, DANA_PASSWORD), SignInLocked)
    other_peer = desk_at("ssh:198.51.100.8", gateway, tmp_path, now)
    assert other_peer.sign_in_client(DANA_EMAIL, DANA_PASSWORD).email == DANA_EMAIL


def test_a_success_forgives_the_emails_own_typos_but_not_the_terminals(
        demo_db, gateway, tmp_path):
    now = [TODAY]
    kiosk = desk_at("kiosk-1", gateway, tmp_path, now)
    for _ in range(3):
        refusal(kiosk, DANA_EMAIL, "typo")
    kiosk.sign_in_client(DANA_EMAIL, DANA_PASSWORD)
    assert refusal(kiosk, DANA_EMAIL, "typo").attempts_left == 4  # email: 1 of 5
    for n in range(5):
        refusal(kiosk, f"person{n}@example.com", "guess")
    # The terminal has counted 3 + 1 + 5 = 9 wrong sign-ins: the next one locks it.
    locked = refusal(kiosk, DANA_EMAIL, "typo")
    assert isinstance(locked, SignInLocked) and "at this terminal" in locked.message


def test_wrong_passwords_are_forgotten_fifteen_minutes_after_the_first(
        demo_db, gateway, tmp_path):
    now = [TODAY]
    kiosk = desk_at("kiosk-1", gateway, tmp_path, now)
    for _ in range(4):
        refusal(kiosk, DANA_EMAIL, "typo")
    now[0] = TODAY + dt.timedelta(minutes=15)
    assert refusal(kiosk, DANA_EMAIL, "typo").attempts_left == 4


def test_a_staff_lock_made_before_the_upgrade_still_holds_after_it(database_url, gateway,
                                                                    tmp_path):
    db = bind(open_database(database_url))
    before = sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py") if p.stem < "0004")[-1]
    with db.connection_context():
        _runner(db).up(target=before)
        db.execute_sql("INSERT INTO firm (name, currency, locale, online_payments_enabled, "
                       "multi_invoice_payments_enabled, statement_descriptor_prefix) "
                       "VALUES ('Firm', 'USD', 'en_US', TRUE, TRUE, 'FIRM')")
        until = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=10)
        p = db.param
        db.execute_sql("INSERT INTO staff (firm_id, name, role, pin_hash, failed_attempts, "
                       f"locked_until) SELECT id, 'Front Desk', 'front_desk', {p}, 0, {p} "
                       "FROM firm",
                       (hash_secret("2468"), until))
    assert "0004_sign_in_guards" in upgrade(db)
    db.connect()
    try:
        desk = Desk(settings_for("unused", tmp_path), gateway)
        with pytest.raises(StaffLocked):
            desk.sign_in_staff("Front Desk", "2468")
        assert Staff.get().locked_until == until
    finally:
        db.close()
