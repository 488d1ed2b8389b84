"""When reconciliation may send a stored request to Stripe again.

Stripe keeps an idempotency key for at least 24 hours and then prunes it: the same key sent
later is a new request, so a replay would make a second PaymentIntent or a second refund.
Reconciliation therefore reads Stripe back first, and replays a create call with its stored
key only when nothing is found and the request was first sent less than `REPLAY_WINDOW` ago.
"""

from __future__ import annotations

import datetime as dt

# Stripe's 24 hours, less an hour of margin for the clocks of this machine and Stripe's to
# disagree and for a replay that is slow to arrive. Measured from when the request was first
# sent; callers pass the time its row was written, just before the first call, so the age
# they see is never less than the key's real age.
REPLAY_WINDOW = dt.timedelta(hours=23)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def may_replay(first_sent: dt.datetime, now: dt.datetime) -> bool:
    """Whether Stripe still has the idempotency key of a request first sent at `first_sent`
    (naive times are UTC), so that sending it again with that key cannot run it twice. An
    age below zero means the clocks disagree: nothing is known, so it is not replayed."""
    age = _naive_utc(now) - _naive_utc(first_sent)
    return dt.timedelta(0) <= age < REPLAY_WINDOW
