"""Reading Stripe's events forward from where Paydesk stopped, and a poller that does it
now and then inside a long-running Paydesk process.

Stripe lists events newest first. From a stored cursor (the last event applied), a page
asked with `ending_before=cursor` holds the events just after it; they are applied oldest
first, each moving the cursor in its own transaction, until Stripe says there are no more.
A run stopped anywhere (a crash, Stripe unreachable) resumes after the last event applied.
With no cursor yet, every event Stripe still keeps (30 days) is read, oldest first: the
handlers apply each refund or dispute once whatever the order of discovery. Only the event
types Paydesk handles are asked for (Stripe's `types` filter); the cursor is then always a
handled event, and Stripe pages from a cursor whether or not it matches the filter.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billing.audit import audit
from billing.event_common import EVENTS_TERMINAL
from billing.events import HANDLERS, CursorKey, apply_event, stored_cursor
from gateway.errors import InvalidRequest
from models.db import database, write_transaction
from models.events import StripeEvent, StripeEventCursor
from models.firm import utcnow

log = logging.getLogger(__name__)
PAGE_SIZE = 100
# Stripe's event list takes at most this many types in its `types` filter.
MAX_TYPES = 20


@dataclass(frozen=True)
class SyncReport:
    read: int  # events read from Stripe
    applied: int  # of those, applied now (the rest were applied before, by a webhook)
    cursor: str | None  # the last event read
    cursor_lost: bool = False  # the stored cursor had expired: events may have been missed


def cursor_key(gateway) -> CursorKey:
    """The cursor of the gateway's account and mode (a test key reads test-mode events).
    The account is asked of Stripe (a key moved to another account must not resume from
    the old account's cursor); "self" when the key may not ask."""
    ask = getattr(gateway, "account_id", None)
    account = ask() if callable(ask) else None
    return CursorKey(account=(account or "self")[:64],
                     livemode=not getattr(gateway, "test_mode", True))


def handled_types() -> tuple[str, ...] | None:
    """The event types Paydesk applies, to ask Stripe for those only; None (every type)
    when they are more than Stripe's list filter takes."""
    kinds = tuple(sorted(HANDLERS))
    return kinds if len(kinds) <= MAX_TYPES else None


class _Run:
    """One sync's tally, applying events oldest first with the cursor moved each time."""

    def __init__(self, gateway, key: CursorKey, terminal: str) -> None:
        self.gateway, self.key, self.terminal = gateway, key, terminal
        self.read = self.applied = 0
        self.cursor: str | None = None
        self.types = handled_types()

    def page(self, **where: Any):
        return self.gateway.events_page(limit=PAGE_SIZE, types=self.types, **where)

    def apply_newest_first(self, events) -> None:
        for event in reversed(events):
            self.read += 1
            self.applied += apply_event(event, source="poll", terminal=self.terminal,
                                        cursor=self.key).applied
            self.cursor = event["id"]

    def from_oldest(self, created_gte: int | None) -> None:
        """Every event Stripe keeps (since `created_gte`), oldest first. Stripe pages
        backwards in time: the walk back to the oldest page keeps one page at a time, then
        reading goes forward from it like any sync (so memory stays one page)."""
        after: str | None = None
        while True:
            page = self.page(starting_after=after, created_gte=created_gte)
            if not page.has_more or not page.events:
                break
            after = page.events[-1]["id"]
        self.apply_newest_first(page.events)
        if self.cursor is not None:
            self.forward(created_gte)

    def forward(self, created_gte: int | None = None) -> None:
        while True:
            page = self.page(ending_before=self.cursor, created_gte=created_gte)
            self.apply_newest_first(page.events)
            if not page.has_more or not page.events:
                return


def read_events(gateway, since_cursor: str | None = None, *, key: CursorKey | None = None,
                terminal: str = EVENTS_TERMINAL) -> SyncReport:
    """Read and apply the events after `since_cursor` (None: the stored cursor; none stored:
    from the oldest event Stripe keeps), in order, each with the cursor moved in its own
    transaction. A cursor Stripe no longer keeps (older than 30 days) is not a dead end:
    reading starts again from the time of that event (or the oldest event kept), with an
    audit entry saying events may have been missed. Other gateway errors leave as they
    are, the cursor at the last event applied."""
    key = key or cursor_key(gateway)
    run = _Run(gateway, key, terminal)
    run.cursor = since_cursor if since_cursor is not None else stored_cursor(key)
    if run.cursor is None:
        run.from_oldest(None)
        return SyncReport(run.read, run.applied, run.cursor)
    try:
        run.forward()
    except InvalidRequest as exc:
        if exc.code != "resource_missing":
            raise
        lost, since = run.cursor, _created_of(run.cursor)
        _say_events_may_be_missed(lost, since, key, terminal)
        run.cursor = None
        run.from_oldest(since)
        return SyncReport(run.read, run.applied, run.cursor or lost, cursor_lost=True)
    return SyncReport(run.read, run.applied, run.cursor)


def _created_of(event_id: str) -> int | None:
    """When the cursor's event happened, if Paydesk stored it (as a Unix time)."""
    row = StripeEvent.get_or_none(StripeEvent.stripe_event_id == event_id)
    return int(row.created.replace(tzinfo=dt.UTC).timestamp()) if row is not None else None


def _say_events_may_be_missed(lost: str, since: int | None, key: CursorKey,
                              terminal: str) -> None:
    """The audit entry, and the lost cursor cleared in the same transaction: should
    nothing be read now, the next round starts from the oldest event kept instead of
    hitting the same lost cursor (and this entry) again."""
    with write_transaction():
        StripeEventCursor.update(last_event_id=None, updated_at=utcnow()).where(
            (StripeEventCursor.account == key.account)
            & (StripeEventCursor.livemode == key.livemode)).execute()
        audit(actor="stripe", action="events.sync", subject=f"stripe_account:{key.account}",
              result="needs_review", terminal=terminal,
              details=(f"the last event read ({lost}) is no longer kept by Stripe (older than "
                       "30 days, or another account's); reading again from "
                       + (f"its time ({dt.datetime.fromtimestamp(since, dt.UTC):%Y-%m-%d %H:%M} "
                          "UTC)" if since is not None else "the oldest event kept")
                       + ". Events in between may have been missed: check the Stripe "
                       "Dashboard for refunds and disputes of that time."))


class EventPoller:
    """Reads Stripe's events every `interval` seconds on a thread of its own, until
    `stop()`. A failed round (Stripe unreachable, a database error) is logged and the next
    round tries again from the stored cursor. `gateway_of` instead of `gateway`: asked at
    every round (a process whose gateway is set up after start); a round without one
    reads nothing."""

    def __init__(self, gateway=None, *, interval: float = 60.0,
                 terminal: str = EVENTS_TERMINAL,
                 on_round: Callable[[SyncReport | None, BaseException | None], None] | None
                 = None, gateway_of: Callable[[], Any] | None = None) -> None:
        if interval <= 0:
            raise ValueError("the polling interval must be above 0 seconds")
        if (gateway is None) == (gateway_of is None):
            raise ValueError("give the poller a gateway or a way to get one, not both")
        self._gateway_of = gateway_of or (lambda: gateway)
        self._interval = interval
        self._terminal = terminal
        self._on_round = on_round
        self._key: CursorKey | None = None  # asked of Stripe once: a key's account stays
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> EventPoller:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stripe-events",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> SyncReport:
        gateway = self._gateway_of()
        if gateway is None:
            return SyncReport(0, 0, None)
        if self._key is None:
            self._key = cursor_key(gateway)
        # Each round on a connection of this thread's own, closed after it.
        with database.connection_context():
            return read_events(gateway, key=self._key, terminal=self._terminal)

    def _run(self) -> None:
        while not self._stop.is_set():
            report, error = None, None
            try:
                report = self.run_once()
            except Exception as exc:  # noqa: BLE001 - one failed round never ends polling
                error = exc
                log.warning("reading Stripe events failed: %s", type(exc).__name__)
            if self._on_round is not None:
                self._on_round(report, error)
            self._stop.wait(self._interval)


def start_event_poller(services, *, on_round: Callable[[SyncReport | None,
                                                         BaseException | None], None]
                       | None = None) -> EventPoller | None:
    """Start polling Stripe's events in a long-running Paydesk process (`billing.services`'s
    Services). Its gateway is asked at every round: built with start_later, Services has
    none until `finish_start` has run start-up reconciliation, so no event is applied
    before that, whenever the poller starts (the app starts it once `finish_start` has
    returned). None when `stripe.events_poll_seconds` is 0 (the firm relies on webhooks
    alone). The caller stops it (`stop()`) before closing the services."""
    seconds = float(services.settings.stripe.events_poll_seconds or 0)
    if seconds <= 0:
        return None
    poller = EventPoller(gateway_of=lambda: services.gateway, interval=seconds,
                         terminal=services.settings.terminal or EVENTS_TERMINAL,
                         on_round=on_round)
    return poller.start()
