"""What `paydesk doctor` asks Stripe about a firm's set-up: the account behind the API key,
the card readers registered on it, and (test mode only) a minimum-amount authorization
that is cancelled at once.

Separate from `StripeGateway`: these calls check the set-up and never take part in a
payment. They use the SDK's typed request params and raise the gateway's own errors
(`GatewayMisconfigured` when Stripe refuses the key, `OutcomeUnknown` when it does not
answer, `InvalidRequest` when it refuses a request).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import stripe
from stripe.params import (
    AccountRetrieveCurrentParams,
    CustomerCreateParams,
    CustomerListParams,
    PaymentIntentCancelParams,
    PaymentIntentCreateParams,
)
from stripe.params.terminal import ReaderListParams

from gateway.client import STRIPE_API_VERSION, GatewayOptions, build_stripe_client
from gateway.errors import GatewayError, InvalidRequest
from gateway.translate import translate

T = TypeVar("T")
# Stripe's test PaymentMethod for a Visa that authorizes (https://docs.stripe.com/testing).
TEST_PAYMENT_METHOD = "pm_card_visa"
# The customer the test authorization is placed for: one per test account, reused.
CHECK_CUSTOMER_EMAIL = "paydesk-doctor@example.com"


def key_mode(api_key: str | None) -> str | None:
    """"test" or "live" from the key's prefix (no network needed); None without a key."""
    if not api_key:
        return None
    return "test" if api_key.startswith(("sk_test_", "rk_test_")) else "live"


def sdk_api_version() -> str:
    """The API version the installed stripe SDK was generated for."""
    return str(stripe.api_version)


def pinned_api_version() -> str:
    """The API version every request of Paydesk's is pinned to."""
    return STRIPE_API_VERSION


@dataclass(frozen=True)
class AccountSummary:
    id: str
    name: str | None
    country: str | None
    default_currency: str | None
    charges_enabled: bool
    livemode_key: bool


@dataclass(frozen=True)
class ReaderSummary:
    id: str
    label: str
    status: str | None
    device_type: str | None


@dataclass(frozen=True)
class ChargeTestResult:
    """The test authorization: its PaymentIntent, and its status after the hold and after
    the cancel ("requires_capture", then "canceled", when all is well)."""

    payment_intent_id: str
    amount: int
    currency: str
    held_status: str
    final_status: str


class SetupCheck:
    """Read-only questions about the set-up, plus the optional test authorization."""

    def __init__(self, options: GatewayOptions, client: stripe.StripeClient | None = None
                 ) -> None:
        self._options = options
        self._v1 = (client or build_stripe_client(options)).v1

    @staticmethod
    def _call(request: Callable[[], T]) -> T:
        try:
            return request()
        except stripe.StripeError as exc:
            raise translate(exc) from exc

    def account(self) -> AccountSummary:
        """The account the API key belongs to (GET /v1/account)."""
        params: AccountRetrieveCurrentParams = {}
        acct: dict[str, Any] = self._call(
            lambda: self._v1.accounts.retrieve_current(params=params)).to_dict()
        profile = acct.get("business_profile") or {}
        dashboard = (acct.get("settings") or {}).get("dashboard") or {}
        return AccountSummary(
            id=acct["id"], name=dashboard.get("display_name") or profile.get("name"),
            country=acct.get("country"), default_currency=acct.get("default_currency"),
            charges_enabled=bool(acct.get("charges_enabled")),
            livemode_key=key_mode(self._options.api_key) == "live")

    def readers(self) -> list[ReaderSummary]:
        """Every card reader registered on the account (GET /v1/terminal/readers)."""
        params: ReaderListParams = {"limit": 100}
        page = self._call(lambda: self._v1.terminal.readers.list(params=params))
        readers = self._call(lambda: [r.to_dict() for r in page.auto_paging_iter()])
        return [ReaderSummary(id=r["id"], label=r.get("label") or r["id"],
                              status=r.get("status"), device_type=r.get("device_type"))
                for r in readers]

    def charge_test(self, *, amount: int, currency: str) -> ChargeTestResult:
        """Authorize `amount` (manual capture) on Stripe's test Visa for a test customer,
        then cancel it. Test keys (sk_test_) only: InvalidRequest, with nothing sent,
        otherwise. The idempotency keys are new on every run."""
        if not self._options.api_key.startswith("sk_test_"):
            raise InvalidRequest("The test authorization runs only with a test key (sk_test_): "
                                 "on a live key it would place a real hold on a real card.")
        run = uuid.uuid4().hex
        customer_id = self._check_customer(run)
        create: PaymentIntentCreateParams = {
            "amount": amount, "currency": currency.lower(), "customer": customer_id,
            "payment_method": TEST_PAYMENT_METHOD, "capture_method": "manual",
            "confirm": True, "allowed_payment_method_types": ["card"],
            "description": "Paydesk set-up check (cancelled at once)",
            "metadata": {"paydesk_doctor": run},
        }
        held = self._call(lambda: self._v1.payment_intents.create(
            params=create, options={"idempotency_key": f"paydesk-doctor-{run}-authorize"}))
        cancel: PaymentIntentCancelParams = {"cancellation_reason": "abandoned"}
        try:
            cancelled = self._call(lambda: self._v1.payment_intents.cancel(
                held.id, params=cancel,
                options={"idempotency_key": f"paydesk-doctor-{run}-cancel"}))
        except GatewayError as exc:
            raise type(exc)(f"The test authorization {held.id} was placed but could not "
                            f"be cancelled: {exc.message} It lapses by itself within 7 days; "
                            "it can also be cancelled in the Stripe dashboard.") from exc
        return ChargeTestResult(payment_intent_id=held.id, amount=amount,
                                currency=currency.lower(), held_status=held.status,
                                final_status=cancelled.status)

    def _check_customer(self, run: str) -> str:
        """The test account's set-up check customer, made on the first run."""
        wanted: CustomerListParams = {"email": CHECK_CUSTOMER_EMAIL, "limit": 1}
        found = self._call(lambda: self._v1.customers.list(params=wanted))
        if found.data:
            return found.data[0].id
        create: CustomerCreateParams = {"email": CHECK_CUSTOMER_EMAIL,
                                        "name": "Paydesk set-up check"}
        made = self._call(lambda: self._v1.customers.create(
            params=create, options={"idempotency_key": f"paydesk-doctor-{run}-customer"}))
        return made.id
