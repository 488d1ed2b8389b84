"""ACH debits and their refunds settle when the sandbox clock passes their settlement time,
as card holds lapse in holds.py.

Stripe: ACH Direct Debit is a delayed-notification payment method; "it can take up to 4
business days to receive acknowledgement of success or failure" and "a payment typically
takes 4 business days to arrive in your account"
(docs.stripe.com/payments/ach-direct-debit, .../accept-a-payment). The sandbox waits
`DEFAULT_BUSINESS_DAYS` business days (Saturdays and Sundays skipped, UTC; bank holidays
are not) unless the Sandbox is given another delay in seconds (`settlement_delay`).

A debit in `processing` carries its due time in a private key (`_settles_at`), kept in the
state file; so does a pending bank refund. `settle_due` (run by `State.sweep` before each
request and after each clock move) finishes what is due, oldest first, as automatic changes.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.sandbox.store import State

DEFAULT_BUSINESS_DAYS = 4
SETTLES_AT = "_settles_at"
BANK_TYPE = "us_bank_account"
_DELAYS: weakref.WeakKeyDictionary[Any, int | None] = weakref.WeakKeyDictionary()
# Ids of what still has to settle, per state: found by one scan after a load, then kept, so
# a request costs nothing while nothing is due.
_PENDING: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def set_delay(state: State, seconds: int | None) -> None:
    """Settle after `seconds` (0 or more) for this state; None: 4 business days."""
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)
                                or seconds < 0):
        raise ValueError(f"The settlement delay must be a whole number of seconds, 0 or more, "
                         f"got {seconds!r}.")
    _DELAYS[state] = seconds


def configure(state: State, *, settlement_delay: int | None = None,
              microdeposit_type: str = "descriptor_code") -> None:
    """The Sandbox's ACH settings (ValueError when one is bad): how long a debit or a bank
    refund takes to settle, and which microdeposit verifies an account typed in."""
    from gateway.sandbox.resources.bank_debits import set_microdeposit_type

    set_microdeposit_type(state, microdeposit_type)
    set_delay(state, settlement_delay)


def delay_of(state: State) -> int | None:
    return _DELAYS.get(state)


def add_business_days(start: int, days: int) -> int:
    """`start` (Unix seconds) moved `days` business days on: weekends are skipped."""
    when = dt.datetime.fromtimestamp(start, dt.UTC)
    left = days
    while left > 0:
        when += dt.timedelta(days=1)
        if when.weekday() < 5:
            left -= 1
    return int(when.timestamp())


def settles_at(state: State, start: int) -> int:
    seconds = delay_of(state)
    return start + seconds if seconds is not None else add_business_days(
        start, DEFAULT_BUSINESS_DAYS)


def _pending(state: State) -> set[str]:
    found = _PENDING.get(state)
    if found is None:
        found = _PENDING[state] = {i for i, o in state.objects.items()
                                   if o.get(SETTLES_AT) is not None}
    return found


def schedule(state: State, obj: dict[str, Any], start: int) -> None:
    """`obj` (a processing debit, a pending refund) settles after the delay from `start`."""
    obj[SETTLES_AT] = settles_at(state, start)
    _pending(state).add(obj["id"])


def schedule_at(state: State, obj: dict[str, Any], at: int) -> None:
    """`obj` is looked at again when the clock passes `at` (an unverified microdeposit's
    deadline: bank_debits.finish_debit fails it then)."""
    obj[SETTLES_AT] = at
    _pending(state).add(obj["id"])


def is_bank(charge: dict[str, Any]) -> bool:
    return (charge.get("payment_method_details") or {}).get("type") == BANK_TYPE


def pending_refund(state: State, refund: dict[str, Any], charge: dict[str, Any]) -> None:
    """A refund of an ACH debit starts `pending` and is sent back by ACH credit: it
    succeeds when the clock passes its settlement time (refund.updated then)."""
    if not is_bank(charge):
        return
    refund["status"] = "pending"
    refund["destination_details"] = {"type": "us_bank_transfer", "us_bank_transfer": {
        "reference": None, "reference_status": "pending"}}
    schedule(state, refund, refund["created"])


def settle_due(state: State) -> int:
    """Finish every debit and bank refund due by now (lock held); how many."""
    from gateway.sandbox.resources.bank_debits import finish_debit

    pending = _pending(state)
    if not pending:
        return 0
    now = state.now()
    due = sorted((state.objects[i][SETTLES_AT], i) for i in pending
                 if i in state.objects and state.objects[i].get(SETTLES_AT, now + 1) <= now)
    for _, ident in due:
        obj = state.objects[ident]
        obj.pop(SETTLES_AT)
        pending.discard(ident)
        if obj["object"] == "payment_intent":
            finish_debit(state, obj)
        elif obj["object"] == "refund" and obj["status"] == "pending":
            before = state.snapshot(obj)
            obj["status"] = "succeeded"
            obj["destination_details"]["us_bank_transfer"]["reference_status"] = "available"
            state.emit("refund.updated", obj, {"status": before["status"],
                                              "destination_details": before[
                                                  "destination_details"]})
    return len(due)
