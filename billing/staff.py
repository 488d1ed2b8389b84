"""Staff sign-in: an argon2 PIN check, locked for 15 minutes after 5 wrong PINs.

Each attempt is audited. The check and the failure count are written in one transaction,
so two terminals guessing at once still lock the account after five wrong PINs in all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from billing.audit import audit
from billing.errors import NotAllowed, SignInFailed, StaffLocked
from billing.values import StaffSession
from models.db import for_update, write_transaction
from models.firm import Staff
from models.security import hash_secret, verify_secret

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
# Checked when the name is unknown, so a wrong name takes as long as a wrong PIN.
_DUMMY_HASH = hash_secret("paydesk-no-such-staff")
WRONG = "Wrong name or PIN."


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (f"Too many wrong PINs: this staff sign-in is locked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}. Ask an administrator if you need it sooner.")


def sign_in_staff(
    name: str, pin: str, *, terminal: str, clock: Callable[[], dt.datetime]
) -> StaffSession:
    """The staff session for a right name and PIN. SignInFailed (saying how many tries are
    left) for a wrong one; StaffLocked after MAX_FAILURES wrong PINs, for LOCKOUT."""
    name = (name or "").strip()
    pin = pin or ""
    now = clock()
    staff = Staff.get_or_none(Staff.name == name) if name else None
    if staff is None:
        verify_secret(_DUMMY_HASH, pin)
        raise SignInFailed(WRONG)
    if staff.locked_until is not None and staff.locked_until > now:
        raise StaffLocked(_locked_message(staff.locked_until, now), staff.locked_until)
    ok = verify_secret(staff.pin_hash, pin)
    error: SignInFailed | None = None
    with write_transaction():
        row = for_update(Staff.select().where(Staff.id == staff.id)).get()
        if ok:
            row.failed_attempts = 0
            row.locked_until = None
            result = "ok"
        else:
            failures = row.failed_attempts + 1
            if failures >= MAX_FAILURES:
                row.failed_attempts = 0
                row.locked_until = now + LOCKOUT
                result = "locked"
                error = StaffLocked(_locked_message(row.locked_until, now), row.locked_until)
            else:
                row.failed_attempts = failures
                left = MAX_FAILURES - failures
                result = "failed"
                error = SignInFailed(
                    f"{WRONG} {left} tr{'ies' if left != 1 else 'y'} left before this "
                    "sign-in is locked for 15 minutes."
                )
        row.save()
        audit(actor=f"staff:{staff.name}", action="staff.sign_in", subject=f"staff:{staff.id}",
              result=result, terminal=terminal)
    if error is not None:
        raise error
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
