"""Start-up after the first screen, when it does not simply succeed: Paydesk stopped while
start-up reconciles leaves the rest to the next run; a Stripe set-up that fails is said in
words (the real error is logged); and Services has no gateway for the events poller until
start-up reconciliation has run."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from billing import event_sync, reconcile
from billing.config import Settings, StripeSettings
from billing.errors import StripeUnavailable
from billing.event_sync import SyncReport, start_event_poller
from billing.reserve import reserve
from billing.services import STOPPED_WHILE_STARTING, build_services, embedded_sandbox_state
from models import Checkout, bind, open_database
from models.demo import DANA_EMAIL, DANA_PASSWORD, seed_demo
from models.firm import utcnow
from models.money import Money
from models.schema import upgrade
from tests.billing.conftest import TODAY, keyed

WAIT = 30  # seconds: a bound on waiting for another thread, never a pause


def _demo_settings(tmp_path: Path, **stripe) -> Settings:
    db = tmp_path / "demo.db"
    bound = bind(open_database(str(db)))
    upgrade(bound)
    with bound.connection_context():
        seed_demo()
    bound.close()
    return Settings(database_url=str(db), outbox_dir=str(tmp_path / "outbox"), terminal="t",
                    stripe=StripeSettings(**{"api_key": None, **stripe}))


def _left_by_a_crashed_run(services, numbers: tuple[str, ...]) -> list[int]:
    """Card checkouts reserved by a run that died long ago (no lease, untouched since)."""
    payer = services.desk.sign_in_client(DANA_EMAIL, DANA_PASSWORD)
    invoices = {i.number: i for i in services.desk.payable_invoices(payer)}
    ids = [reserve(payer, {invoices[n].invoice_id: Money(1000, "USD")}, method="card_keyed",
                   terminal="crashed", today=TODAY.date()) for n in numbers]
    Checkout.update(lease_owner=None, lease_until=None,
                    updated_at=utcnow() - dt.timedelta(days=2)).where(
        Checkout.id.in_(ids)).execute()
    return ids


def test_closing_while_start_up_reconciles_leaves_the_rest_to_the_next_run(tmp_path,
                                                                          monkeypatch):
    services = build_services(_demo_settings(tmp_path), start_later=True)
    first, second = _left_by_a_crashed_run(services, ("INV-1012", "INV-1021"))
    settled: list[int] = []
    settling, go = threading.Event(), threading.Event()

    def held_settle(gateway, checkout_id, **kwargs):
        settled.append(checkout_id)
        settling.set()
        assert go.wait(WAIT)
        return True

    monkeypatch.setattr(reconcile, "settle_checkout", held_settle)
    answers: list[str | None] = []
    starting = threading.Thread(target=lambda: answers.append(services.finish_start()))
    starting.start()
    try:
        assert settling.wait(WAIT)
        services.close()  # the app stops while the first checkout is being settled
    finally:
        go.set()
        starting.join(WAIT)
    assert not starting.is_alive()
    assert settled == [first]  # the second is left for the next run
    assert Checkout.get_by_id(second).status == "reserved"
    assert answers == [STOPPED_WHILE_STARTING]
    assert services.desk.startup.error == STOPPED_WHILE_STARTING


def test_a_damaged_sandbox_state_file_is_said_in_words_and_logged(tmp_path, caplog):
    settings = _demo_settings(tmp_path)
    state = embedded_sandbox_state(settings)
    Path(state).write_text('{"objects": {"cus_1": ', encoding="utf-8")  # cut off mid-write
    services = build_services(settings, start_later=True)
    try:
        with caplog.at_level(logging.WARNING, logger="billing.services"):
            reason = services.finish_start()
        assert reason is not None and services.desk.startup.error == reason
        assert reason.startswith("the built-in Stripe sandbox (used because no Stripe key is "
                                 "set) could not start (")
        assert f"It keeps its state in {state}: if that file is damaged, move it aside" in reason
        assert reason.endswith("`paydesk doctor` checks the set-up.")
        assert "JSONDecodeError" not in reason
        # The real error is in the log, for whoever looks into it.
        logged = [r for r in caplog.records if r.exc_info]
        assert logged and type(logged[0].exc_info[1]).__name__ == "JSONDecodeError"
        # A payment says the same, and that nothing was charged.
        payer = services.desk.sign_in_client(DANA_EMAIL, DANA_PASSWORD)
        invoice = next(i for i in services.desk.payable_invoices(payer)
                       if i.number == "INV-1012")
        with pytest.raises(StripeUnavailable) as refused:
            services.desk.pay(payer, {invoice.invoice_id: Money(10000, "USD")}, keyed())
        assert refused.value.message == (f"Paydesk cannot reach Stripe: {reason} Nothing was "
                                         "charged.")
        assert services.finish_start() == reason  # a second call gives the same answer
    finally:
        services.close()


def test_a_stripe_set_up_that_fails_otherwise_names_its_first_line(tmp_path, monkeypatch):
    services = build_services(_demo_settings(tmp_path, api_key="sk_test_x"), start_later=True)
    try:
        def no_sdk(settings):
            raise ImportError("No module named 'stripe'\nmore detail")

        monkeypatch.setattr("billing.services._connect", no_sdk)
        assert services.finish_start() == ("Stripe could not be set up (No module named "
                                           "'stripe'). `paydesk doctor` checks the set-up.")
    finally:
        services.close()


def test_the_event_poller_reads_nothing_until_start_up_reconciliation_has_run(tmp_path,
                                                                             monkeypatch):
    settings = _demo_settings(tmp_path)
    services = build_services(replace(settings, stripe=replace(
        settings.stripe, events_poll_seconds=3600.0)), start_later=True)
    desk = services.desk
    read_with: list[object] = []
    monkeypatch.setattr(event_sync, "read_events", lambda gateway, **kwargs: (
        read_with.append(gateway) or SyncReport(0, 0, None)))
    reconciling, release = threading.Event(), threading.Event()
    real_reconcile = desk.reconcile_at_start

    def held_reconcile(gateway, **kwargs):
        reconciling.set()
        assert release.wait(WAIT)
        return real_reconcile(gateway, **kwargs)

    monkeypatch.setattr(desk, "reconcile_at_start", held_reconcile)
    rounds: list[tuple] = []
    rounded = threading.Event()

    def on_round(report, error):
        rounds.append((report, error))
        rounded.set()

    starting = threading.Thread(target=services.finish_start)
    poller = None
    try:
        starting.start()
        assert reconciling.wait(WAIT)
        # Stripe is set up and the sandbox runs, but reconciliation has not finished.
        assert services.sandbox is not None
        assert services.gateway is None
        poller = start_event_poller(services, on_round=on_round)
        assert rounded.wait(WAIT)  # its first round, at once
        assert rounds == [(SyncReport(0, 0, None), None)] and read_with == []
        release.set()
        starting.join(WAIT)
        assert not starting.is_alive() and desk.startup.is_open
        assert services.gateway is not None
        poller.run_once()  # the next round reads, with the gateway start-up built
        assert read_with == [services.gateway]
    finally:
        release.set()
        if poller is not None:
            poller.stop()
        services.close()
