"""Staff sign-in: an argon2 PIN check, locked for 15 minutes after 5 wrong PINs.

The count lives in the staff name's sign-in guard (`billing.sign_in_guard`): a PIN is checked
only after the attempt claims a slot there, so five wrong PINs are checked in all, however
many arrive at once from however many terminals, and a right PIN is never accepted once the
sign-in has locked. Each checked attempt is audited in the transaction that counts it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from billing import sign_in_guard as guard
from billing.audit import audit
from billing.errors import NotAllowed, SignInFailed, StaffLocked
from billing.values import StaffSession
from models.firm import Staff
from models.security import verify_secret

MAX_FAILURES = 5
LOCKOUT = guard.LOCKOUT
# Checked when the name is unknown, so a wrong name takes as long as a wrong PIN: the hash of
# "paydesk-no-such-staff", made once with models.security's parameters (hashing it at import
# would cost every start-up an argon2 hash).
DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$3nE8NGtXKIynX+v7Eu6xXg$nVkLAbg/ctGiCBjbmGO85s21UY1HChWUzAVTIttkdJM"  # noqa: S105 - a hash of a made-up PIN
WRONG = "Wrong name or PIN."


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    return ("Too many wrong PINs: this staff sign-in is locked for "
            f"{guard.more_minutes(until, now)}. Ask an administrator if you need it sooner.")


def _wrong_message(left: int) -> str:
    return (f"{WRONG} {guard.tries(left)} left before this sign-in is "
            "locked for 15 minutes.")


def sign_in_staff(
    name: str, pin: str, *, terminal: str, clock: Callable[[], dt.datetime]
) -> StaffSession:
    """The staff session for a right name and PIN. SignInFailed (saying how many tries are
    left) for a wrong one; StaffLocked after MAX_FAILURES wrong PINs, for LOCKOUT."""
    name = (name or "").strip()
    pin = pin or ""
    staff = Staff.get_or_none(Staff.name == name) if name else None
    if staff is None:
        verify_secret(DUMMY_HASH, pin)
        raise SignInFailed(WRONG)
    limits = (guard.Limit("staff", staff.name, MAX_FAILURES),)
    try:
        claim = guard.claim(limits, clock)
    except guard.GuardLocked as exc:
        raise StaffLocked(_locked_message(exc.until, clock()), exc.until) from None
    except guard.GuardBusy:
        raise SignInFailed("Sign-in is busy: try again in a moment.") from None
    ok = verify_secret(staff.pin_hash, pin)

    def record(outcome: guard.Settled) -> None:
        audit(actor=f"staff:{staff.name}", action="staff.sign_in", subject=f"staff:{staff.id}",
              result=outcome.result, terminal=terminal)

    now = clock()
    outcome = guard.settle(claim, ok, now, record)
    if outcome.locked is not None:
        until = outcome.locked.until
        raise StaffLocked(_locked_message(until, now), until)
    if outcome.result != "ok":
        raise SignInFailed(_wrong_message(outcome.attempts_left), outcome.attempts_left)
    return StaffSession(staff_id=staff.id, name=staff.name, role=staff.role)


def require_staff(staff: StaffSession | None) -> StaffSession:
    """The session itself; NotAllowed when there is none or the staff member is gone."""
    if staff is None or not isinstance(staff, StaffSession):
        raise NotAllowed("Staff sign-in is needed for this.")
    if not Staff.select().where(Staff.id == staff.staff_id).exists():
        raise NotAllowed("This staff sign-in is no longer valid.")
    return staff


def require_admin(staff: StaffSession | None) -> StaffSession:
    staff = require_staff(staff)
    row = Staff.get_by_id(staff.staff_id)
    if row.role != "admin":
        raise NotAllowed("Only an administrator may change this.")
    return staff
