"""THE factory: settings in, everything Paydesk needs out (database, gateway, desk).

`paydesk`, the demo, the SSH server and the tests all build Paydesk through
`build_services`; nothing connects at import time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import peewee

from billing.config import Settings
from billing.desk import STARTUP_RECONCILE_AFTER, Desk
from gateway import GatewayOptions, StripeGateway
from models.db import bind, open_database, sqlite_path
from models.schema import upgrade

log = logging.getLogger(__name__)
# The embedded demo's key: any sk_test_ key works with the in-process sandbox.
SANDBOX_API_KEY = "sk_test_paydesk_embedded_sandbox"  # noqa: S105 - a sandbox key, not a secret


@dataclass
class Services:
    settings: Settings
    db: peewee.Database
    gateway: StripeGateway
    desk: Desk
    sandbox: object | None = None  # the in-process sandbox when no Stripe key is configured

    def close(self) -> None:
        """Stop the embedded sandbox and close this thread's database connection."""
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if not self.db.is_closed():
            self.db.close()


def embedded_sandbox_state(settings: Settings) -> str | None:
    """Where the in-process sandbox keeps its state: beside a SQLite database, so that the
    database and what "Stripe" knows (customers, saved cards, payments to refund) stay
    together across runs. None (memory only) for PostgreSQL."""
    path = sqlite_path(settings.database_url)
    return f"{path}.stripe-sandbox.json" if path else None


def build_services(settings: Settings, *, clock: Callable[[], dt.datetime] | None = None,
                   reconcile_at_start: bool = True, gateway: StripeGateway | None = None
                   ) -> Services:
    """Bind and upgrade the database, build the gateway (starting the in-process sandbox
    when `settings.stripe.api_key` is None), build the Desk, and settle what earlier runs
    left unfinished (checkouts untouched for STARTUP_RECONCILE_AFTER). `gateway` lets a
    test inject its own."""
    db = bind(open_database(settings.database_url))
    upgrade(db)
    sandbox = None
    if gateway is None:
        stripe = settings.stripe
        api_key, api_base = stripe.api_key, stripe.api_base
        if api_key is None:
            from gateway.sandbox import start_sandbox

            sandbox = start_sandbox(port=0, state_file=embedded_sandbox_state(settings))
            api_key, api_base = SANDBOX_API_KEY, sandbox.url
            settings = replace(settings, stripe=replace(stripe, api_base=api_base))
        gateway = StripeGateway.from_options(GatewayOptions(
            api_key=api_key, api_base=api_base, max_network_retries=stripe.max_network_retries,
            timeout_seconds=stripe.timeout_seconds,
            raw_card_data_access=stripe.raw_card_data_access))
    desk = Desk(settings, gateway, clock=clock)
    services = Services(settings=settings, db=db, gateway=gateway, desk=desk, sandbox=sandbox)
    if reconcile_at_start:
        try:
            report = desk.reconcile(older_than=STARTUP_RECONCILE_AFTER)
            if report.still_unknown:
                log.warning("reconciliation: %d still unknown", report.still_unknown)
        except Exception:  # noqa: BLE001 - Stripe unreachable: the next run settles them
            log.warning("reconciliation at start-up did not finish", exc_info=False)
    return services
