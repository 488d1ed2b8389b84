"""`DeskBase`: what every part of the desk shares: the settings, the terminal, the clock,
the Stripe gateway behind start-up's gate, the firm, and the confirmation emails' delivery.

The desk's jobs (billing.desk_cards, desk_phone, desk_bank, desk_payments, desk_documents,
desk_audit) are mixins over this base; `billing.desk.Desk` joins them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from billing.config import Settings
from billing.errors import BillingError
from billing.lazy_import import LazyModule
from billing.startup_gate import StartupGate
from models.firm import Firm, utcnow

# Loaded when first used: the first screen is drawn before it is needed.
outbox = LazyModule("billing.outbox")

# The desk's one logger, whichever part of it writes (its name predates the split).
log = logging.getLogger("billing.desk")


class DeskBase:
    """The state and helpers the desk's parts share."""

    def __init__(self, settings: Settings, gateway, *,
                 clock: Callable[[], dt.datetime] | None = None,
                 startup: StartupGate | None = None) -> None:
        self.settings = settings
        self._gateway = gateway
        self.terminal = settings.terminal
        self.clock = clock or utcnow
        # Shut while the app is still starting (billing.services): Stripe is not reached
        # until start-up reconciliation has finished. None: nothing to wait for.
        self.startup = startup

    @property
    def gateway(self):
        """The Stripe gateway, once start-up has finished (it waits until then)."""
        if self.startup is not None:
            self.startup.wait()
        return self._gateway

    @gateway.setter
    def gateway(self, gateway) -> None:
        self._gateway = gateway

    def _today(self) -> dt.date:
        return self.clock().date()

    def _firm(self) -> Firm:
        firm = Firm.select().order_by(Firm.id).first()
        if firm is None:
            raise BillingError("No firm is set up yet: run `paydesk db seed-demo` or add one.")
        return firm

    def _deliver_email(self) -> None:
        """Best effort: the email is queued with the payment; a failure here only delays it."""
        try:
            outbox.deliver_due(self.settings.smtp, self.settings.outbox_dir)
        except Exception:  # noqa: BLE001 - never fail a payment over its email
            log.warning("confirmation email: delivery postponed", exc_info=False)
