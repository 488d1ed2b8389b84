"""Guesses sent at the same instant from many processes (SQLite and PostgreSQL): sign-in
checks no more wrong secrets than its limit, never accepts the right one once locked, and a
success never clears a lock. Each process counts the argon2 verifications it ran."""

from __future__ import annotations

import pytest

from billing.clients import MAX_TERMINAL_FAILURES
from billing.desk import Desk
from billing.errors import SignInFailed, SignInLocked, StaffLocked
from models import AuditEntry, SignInGuard
from models.demo import DANA_EMAIL
from models.firm import utcnow
from models.security import guard_key
from tests.billing.conftest import settings_for
from tests.billing.sign_in_procs import Attempt, most_at_once, sign_in_at_once

pytestmark = pytest.mark.slow
LIMIT = 5


def wrong_checked(attempts: list[Attempt], right: str) -> int:
    return sum(len(a.checks) for a in attempts if a.secret != right)


def assert_overlapped(attempts: list[Attempt]) -> None:
    """The attempts really ran together: most of them were in flight at one instant, and
    secrets were checked side by side (not one after another)."""
    in_flight = most_at_once([a.call for a in attempts])
    assert in_flight >= len(attempts) // 2, in_flight
    checks = [c for a in attempts for c in a.checks]
    assert most_at_once(checks) >= 2, checks


def results_in_order(action: str) -> list[str]:
    return [e.result for e in AuditEntry.select().where(AuditEntry.action == action)
            .order_by(AuditEntry.id)]


def assert_locked_by_the_burst(results: list[str], right: Attempt) -> None:
    """Exactly LIMIT wrong secrets were counted, the last of them locked; the right one
    was either accepted before the lock (then its success is before it in the audit) or
    refused without being checked."""
    wrongs = [r for r in results if r != "ok"]
    assert wrongs == ["failed"] * (LIMIT - 1) + ["locked"], results
    if right.outcome == "ok":
        assert len(right.checks) == 1
        assert results.index("ok") < results.index("locked"), results
    else:
        assert right.outcome == "locked" and right.checks == [], right
        assert "ok" not in results


def test_25_wrong_pins_and_the_right_one_at_once_check_exactly_5_wrong(demo_db, database_url,
                                                                      gateway, tmp_path):
    tries = [("Front Desk", f"{n:04d}", f"desk-{n}") for n in range(25)]
    tries.insert(13, ("Front Desk", "2468", "desk-right"))
    attempts = sign_in_at_once(database_url, "staff", tries)

    assert wrong_checked(attempts, "2468") == LIMIT
    assert_overlapped(attempts)
    right = next(a for a in attempts if a.secret == "2468")
    results = results_in_order("staff.sign_in")
    assert_locked_by_the_burst(results, right)
    assert sum(a.outcome == "locked" for a in attempts if a.secret != "2468") == 25 - LIMIT + 1
    guard = SignInGuard.get(SignInGuard.key == guard_key("staff", "Front Desk"))
    assert guard.in_flight == 0 and guard.locked_until > utcnow()
    locked_until = guard.locked_until

    # Still locked for the right PIN afterwards, from any terminal; the lock stands.
    desk = Desk(settings_for("unused", tmp_path), gateway, clock=utcnow)
    with pytest.raises(StaffLocked):
        desk.sign_in_staff("Front Desk", "2468")
    assert SignInGuard.get_by_id(guard.id).locked_until == locked_until


def test_right_pins_sent_at_once_after_the_lock_are_all_refused_and_the_lock_stays(
        demo_db, database_url, gateway, tmp_path):
    desk = Desk(settings_for("unused", tmp_path), gateway, clock=utcnow)
    for _ in range(LIMIT - 1):
        with pytest.raises(SignInFailed, match="tr(ies|y) left"):
            desk.sign_in_staff("Front Desk", "1111")
    with pytest.raises(StaffLocked):
        desk.sign_in_staff("Front Desk", "1111")
    locked_until = SignInGuard.get(
        SignInGuard.key == guard_key("staff", "Front Desk")).locked_until

    attempts = sign_in_at_once(database_url, "staff",
                               [("Front Desk", "2468", f"desk-{n}") for n in range(12)])
    assert [a.outcome for a in attempts] == ["locked"] * 12
    assert [c for a in attempts for c in a.checks] == []
    assert SignInGuard.get(
        SignInGuard.key == guard_key("staff", "Front Desk")).locked_until == locked_until
    assert "ok" not in results_in_order("staff.sign_in")


def test_25_wrong_passwords_and_the_right_one_at_once_check_exactly_5_wrong(
        demo_db, database_url, gateway, tmp_path):
    tries = [(DANA_EMAIL, f"guess-{n}", f"kiosk-{n}") for n in range(25)]
    tries.insert(7, (DANA_EMAIL, "demo-dana", "kiosk-right"))
    attempts = sign_in_at_once(database_url, "client", tries)

    assert wrong_checked(attempts, "demo-dana") == LIMIT
    assert_overlapped(attempts)
    right = next(a for a in attempts if a.secret == "demo-dana")
    assert_locked_by_the_burst(results_in_order("client.sign_in"), right)
    desk = Desk(settings_for("unused", tmp_path), gateway, clock=utcnow)
    with pytest.raises(SignInLocked, match="sign-in with this email is locked"):
        desk.sign_in_client(DANA_EMAIL, "demo-dana")


def test_one_terminal_guessing_many_emails_at_once_is_checked_10_times_then_locked(
        demo_db, database_url, gateway, tmp_path):
    """Different emails (one of them Dana's, with her right password) from one SSH peer:
    the terminal's own limit stops the spray after 10 wrong sign-ins in all."""
    tries = [(f"person{n}@example.com", "guess", "ssh:203.0.113.9") for n in range(15)]
    tries.append((DANA_EMAIL, "wrong-for-dana", "ssh:203.0.113.9"))
    tries.insert(5, (DANA_EMAIL, "demo-dana", "ssh:203.0.113.9"))
    attempts = sign_in_at_once(database_url, "client", tries)

    assert wrong_checked(attempts, "demo-dana") == MAX_TERMINAL_FAILURES
    assert_overlapped(attempts)
    refused = [a for a in attempts if a.outcome == "locked" and not a.checks]
    assert refused and all("at this terminal" in a.message for a in refused)
    desk = Desk(settings_for("unused", tmp_path), gateway, clock=utcnow)
    # The peer stays locked out; Dana at another terminal is not.
    ssh_desk = Desk(settings_for("unused", tmp_path), gateway, clock=utcnow)
    ssh_desk.terminal = "ssh:203.0.113.9"
    with pytest.raises(SignInLocked, match="at this terminal"):
        ssh_desk.sign_in_client(DANA_EMAIL, "demo-dana")
    assert desk.sign_in_client(DANA_EMAIL, "demo-dana").email == DANA_EMAIL
