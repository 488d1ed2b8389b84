"""`StripeGateway`: the operations Paydesk needs, over one injected `stripe.StripeClient`.

Every POST carries the idempotency key the caller stored before the call (operations that
make several calls derive one key per call from it, so a replay repeats every step
exactly). Stripe errors leave as `gateway.errors`; results leave as plain frozen values.

Every request body is built as the SDK's own request type (`stripe.params`, generated from
Stripe's API definition for the pinned version) and passed to a typed SDK call, so the type
checker run by `make test` refuses a parameter Stripe does not know before it is ever sent.

Each kind of operation lives in its own module and `StripeGateway` takes them all:
`gateway.customer_cards` (customers, keyed and saved cards), `gateway.payments` (holds, and
which payment methods an intent accepts), `gateway.reader` (the card reader),
`gateway.read_back` (reconciliation's reads), `gateway.events` (Stripe's events), over
`gateway.stripe_calls` (the plumbing).
"""

from __future__ import annotations

from gateway.bank_debits import BankDebits
from gateway.client import GatewayOptions, build_stripe_client
from gateway.customer_cards import CustomerCards
from gateway.events import Events
from gateway.hosted_setup import HostedSetupOperations
from gateway.read_back import ReadBack
from gateway.reader import ReaderOperations


class StripeGateway(CustomerCards, ReaderOperations, ReadBack, Events, HostedSetupOperations,
                    BankDebits):
    """Stripe for Paydesk. Blocking: call it from a worker thread, never the UI thread."""

    @classmethod
    def from_options(cls, options: GatewayOptions) -> StripeGateway:
        """A gateway with its own client, in test mode when the key is a test key."""
        return cls(build_stripe_client(options), test_mode=options.test_mode,
                   raw_card_data_access=options.raw_card_data_access,
                   rate_limit_retries=options.max_network_retries)
