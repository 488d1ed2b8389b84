"""How many wrong secrets sign-in will check: staff PINs and portal passwords.

A sign-in is limited by one or more guards (a staff name; a client's email and the
terminal). Before the secret is checked, the attempt claims a slot on every guard in one
short locked transaction: a slot is free only while the guard is not locked and its counted
failures plus the attempts being checked are below its limit. The argon2 check then runs with
no lock held, and the attempt is settled in a second locked transaction: a wrong secret
counts (and locks the guard at its limit); a right one is accepted only if no guard is
locked. So however many guesses arrive at once, at most the limit's worth of wrong ones are
ever checked, no guard can lock while an attempt holds one of its slots, and a success
never clears a lock.

An attempt that finds every slot taken waits (briefly) for one to free, so that it is
checked, or refused once the guard locks: it is never checked past the limit. A slot held
longer than STALE_CLAIM is taken back, so a process killed between its claim and its settle
cannot lock a guard for good (a process stopped that long and then resumed could have one
guess checked past the limit).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from billing.plurals import plural
from models.db import for_update, write_transaction
from models.security import SignInGuard, guard_key

# Failures are forgotten this long after the first of them; a lock lasts as long.
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
# A slot claimed this long ago belongs to an attempt whose process died: it is taken back.
STALE_CLAIM = dt.timedelta(minutes=2)
# How long an attempt waits for a free slot before giving up (real seconds).
WAIT_FOR_SLOT_SECONDS = 15.0


@dataclass(frozen=True)
class Limit:
    """One guard: `max_failures` wrong secrets within WINDOW lock it for LOCKOUT.
    `forgiven_by_success`: a right secret wipes the failures counted before it (an
    account's own typos); a terminal's failures stay counted."""

    scope: str
    value: str
    max_failures: int
    forgiven_by_success: bool = True

    @property
    def key(self) -> str:
        return guard_key(self.scope, self.value)


class GuardLocked(Exception):
    """A guard is locked: nothing was checked."""

    def __init__(self, limit: Limit, until: dt.datetime) -> None:
        super().__init__(limit.scope)
        self.limit = limit
        self.until = until


class GuardBusy(Exception):
    """No slot came free in time: nothing was checked."""


@dataclass(frozen=True)
class Claim:
    limits: tuple[Limit, ...]
    # key -> (failures counted when the slot was claimed, the window they belong to)
    before: dict[str, tuple[int, dt.datetime | None]]


@dataclass(frozen=True)
class Settled:
    """"ok", "failed" (with `attempts_left`), or "locked" (`locked` names the guard)."""

    result: str
    attempts_left: int | None = None
    locked: GuardLocked | None = None


def _rows(limits: Sequence[Limit]) -> dict[str, SignInGuard]:
    """The guards' rows, created if new, locked (in key order, so two attempts never
    deadlock) until the transaction ends."""
    for limit in sorted(limits, key=lambda x: x.key):
        SignInGuard.insert(scope=limit.scope, key=limit.key).on_conflict_ignore().execute()
    keys = [limit.key for limit in limits]
    query = (SignInGuard.select()
             .where(SignInGuard.key.in_(keys))
             .order_by(SignInGuard.key))
    rows = {row.key: row for row in for_update(query)}
    return {limit.key: rows[limit.key] for limit in limits}


def _tidy(row: SignInGuard, now: dt.datetime) -> None:
    """Forget an expired lock, failures older than WINDOW, and slots of dead attempts."""
    if row.locked_until is not None and row.locked_until <= now:
        row.locked_until = None
    if row.window_started is not None and now >= row.window_started + WINDOW:
        row.failures = 0
        row.window_started = None
    if row.in_flight and (row.claimed_at is None or now - row.claimed_at > STALE_CLAIM):
        row.in_flight = 0


def try_claim(limits: Sequence[Limit], now: dt.datetime) -> Claim | None:
    """A slot on every guard, or None when one of them has none free. GuardLocked when
    one is locked."""
    limits = tuple(limits)
    with write_transaction():
        rows = _rows(limits)
        for limit in limits:
            _tidy(rows[limit.key], now)
        for limit in limits:
            row = rows[limit.key]
            if row.is_locked(now):
                raise GuardLocked(limit, row.locked_until)
        if any(rows[x.key].failures + rows[x.key].in_flight >= x.max_failures for x in limits):
            for row in rows.values():
                row.save()
            return None
        before = {}
        for limit in limits:
            row = rows[limit.key]
            before[limit.key] = (row.failures, row.window_started)
            row.in_flight += 1
            row.claimed_at = now
            row.save()
    return Claim(limits, before)


def claim(limits: Sequence[Limit], clock: Callable[[], dt.datetime], *,
          wait_seconds: float = WAIT_FOR_SLOT_SECONDS) -> Claim:
    """A slot on every guard, waiting for one while other attempts are being checked.
    GuardLocked when a guard is (or becomes) locked; GuardBusy if none frees in time."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.01
    while True:
        got = try_claim(limits, clock())
        if got is not None:
            return got
        if time.monotonic() >= deadline:
            raise GuardBusy()
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 1.5, 0.1)


def settle(claim: Claim, ok: bool, now: dt.datetime,
           record: Callable[[Settled], None] | None = None) -> Settled:
    """Give the claimed slots back and count the outcome; `record` (the audit) runs in the
    same transaction. A right secret is refused ("locked") if a guard is locked anyway."""
    with write_transaction():
        rows = _rows(claim.limits)
        for row in rows.values():
            row.in_flight = max(0, row.in_flight - 1)
        locked = next((GuardLocked(x, rows[x.key].locked_until) for x in claim.limits
                       if rows[x.key].is_locked(now)), None)
        if locked is not None:
            outcome = Settled("locked", locked=locked)
        elif ok:
            for limit in claim.limits:
                row = rows[limit.key]
                failures, window = claim.before[limit.key]
                if limit.forgiven_by_success and row.window_started == window:
                    row.failures = max(0, row.failures - failures)
                    if row.failures == 0:
                        row.window_started = None
            outcome = Settled("ok")
        else:
            for limit in claim.limits:
                row = rows[limit.key]
                row.failures += 1
                if row.window_started is None:
                    row.window_started = now
                if row.failures >= limit.max_failures:
                    row.locked_until = now + LOCKOUT
                    row.failures = 0
                    row.window_started = None
                    locked = locked or GuardLocked(limit, row.locked_until)
            if locked is not None:
                outcome = Settled("locked", locked=locked)
            else:
                left = min(x.max_failures - rows[x.key].failures for x in claim.limits)
                outcome = Settled("failed", attempts_left=left)
        for row in rows.values():
            row.save()
        if record is not None:
            record(outcome)
    return outcome


def tries(count: int) -> str:
    """"1 try", "4 tries"."""
    return plural(count, "en", one="{n} try", other="{n} tries")


def more_minutes(until: dt.datetime, now: dt.datetime) -> str:
    """"15 more minutes" until `until`, rounded up (never "0")."""
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return plural(minutes, "en", one="{n} more minute", other="{n} more minutes")
