"""What `paydesk doctor` asks Stripe about a firm's set-up: the account behind the API key,
the card readers registered on it, and (test mode only) a minimum-amount authorization
that is cancelled at once.

Separate from `StripeGateway`: these calls check the set-up and never take part in a
payment. They use the SDK's typed request params and raise the gateway's own errors
(`GatewayMisconfigured` when Stripe refuses the key, `KeyLacksPermission` when it refuses
a restricted key a request for its permissions, `OutcomeUnknown` when it does not answer,
`InvalidRequest` when it refuses a request).

A restricted key (rk_) that Paydesk takes payments with needs Write access to what
`StripeGateway` calls: Customers, PaymentMethods, PaymentIntents, SetupIntents, Refunds and
Terminal Readers (`RESTRICTED_KEY_NEEDS`). Stripe often refuses a restricted key the
account itself (GET /v1/account answers 403: no permission allows it, or only an account
details permission Paydesk does not otherwise need); the 403 still shows that the key is
Stripe's, so `paydesk doctor` says so and checks the rest.
"""

from __future__ import annotations

import re
import time
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
    PaymentIntentListParams,
    PaymentIntentRetrieveParams,
)
from stripe.params.terminal import ReaderListParams

from gateway.client import STRIPE_API_VERSION, GatewayOptions, build_stripe_client
from gateway.errors import GatewayError, GatewayMisconfigured, InvalidRequest, OutcomeUnknown
from gateway.translate import translate

T = TypeVar("T")
# Stripe's test PaymentMethod for a Visa that authorizes (https://docs.stripe.com/testing).
TEST_PAYMENT_METHOD = "pm_card_visa"
# The customer the test authorization is placed for: one per test account, reused.
CHECK_CUSTOMER_EMAIL = "paydesk-doctor@example.com"
# What the test authorization carries, so that it can be found again (and in the Dashboard).
CHECK_DESCRIPTION = "Paydesk set-up check (cancelled at once)"
CHECK_METADATA_KEY = "paydesk_doctor"


# What to do with a key that is not a secret or restricted one (a publishable pk_ key, or
# anything else pasted in by mistake).
WHICH_KEY = ("In the Stripe Dashboard, open Developers > API keys and copy the secret key "
             "(it starts sk_test_ or sk_live_), or a restricted key (rk_) with the "
             "permissions Paydesk needs.")
# The restricted-key permissions (Dashboard > Developers > API keys) Paydesk's calls need.
RESTRICTED_KEY_NEEDS = ("Write access to Customers, PaymentMethods, PaymentIntents, "
                        "SetupIntents, Refunds and Terminal Readers")
# How long Stripe keeps an online card authorization before it lapses by itself.
HOLD_LAPSES = "within 7 days"
# How far back the test authorization is looked for after a lost answer (covers a computer
# clock that is wrong by up to a day; the run's metadata picks the one hold out).
LOOKUP_WINDOW_SECONDS = 24 * 3600
_PREFIXES = {"sk_test_": ("secret", "test"), "sk_live_": ("secret", "live"),
             "rk_test_": ("restricted", "test"), "rk_live_": ("restricted", "live"),
             "pk_test_": ("publishable", "test"), "pk_live_": ("publishable", "live")}
_NEEDED_PERMISSION = re.compile(r"Having the '(rak_[a-z0-9_]+)' permission")


def _kind_and_mode(api_key: str | None) -> tuple[str, str | None] | None:
    if not api_key:
        return None
    for prefix, found in _PREFIXES.items():
        if api_key.startswith(prefix) and len(api_key) > len(prefix):
            return found
    return ("unknown", None)


def key_kind(api_key: str | None) -> str | None:
    """"secret" (sk_), "restricted" (rk_), "publishable" (pk_, which cannot make the calls
    Paydesk makes) or "unknown" (no Stripe key at all), from the prefix; None without a key."""
    found = _kind_and_mode(api_key)
    return None if found is None else found[0]


def key_mode(api_key: str | None) -> str | None:
    """"test" or "live" for a secret or restricted key (from its prefix, no network needed);
    "not secret" for a publishable key or anything else that no Stripe secret key looks
    like; None without a key."""
    found = _kind_and_mode(api_key)
    if found is None:
        return None
    kind, mode = found
    return mode if kind in ("secret", "restricted") and mode else "not secret"


class KeyLacksPermission(GatewayMisconfigured):
    """Stripe knows the key (a restricted one) but refused it this request (HTTP 403).
    `permission` is what Stripe said would allow it (e.g. "rak_terminal_reader_read"),
    when it said."""

    def __init__(self, message: str, *, permission: str | None = None) -> None:
        super().__init__(message)
        self.permission = permission


class HoldNotSettled(OutcomeUnknown):
    """The test authorization may have been placed (Stripe's answer was lost) and could not
    be read back or cancelled: it lapses by itself. The message says what to look for."""


def look_for(run: str) -> str:
    """How a run's test authorization is recognised in the Stripe Dashboard."""
    return (f"customer {CHECK_CUSTOMER_EMAIL}, description \"{CHECK_DESCRIPTION}\", metadata "
            f"{CHECK_METADATA_KEY} = {run}")


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
    # Stripe's answer to the authorization was lost; the hold was found by its metadata.
    answer_lost: bool = False


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
        except stripe.PermissionError as exc:
            # Stripe's message names the key (masked) and the account: only the permission
            # it asks for is kept.
            needed = _NEEDED_PERMISSION.search(str(exc.user_message or exc))
            raise KeyLacksPermission(
                "Stripe knows the key but refused it this request: the key (a restricted "
                "one) lacks the permission.",
                permission=needed.group(1) if needed else None) from exc
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
        then cancel it. Test secret keys (sk_test_) only: InvalidRequest, with nothing sent,
        otherwise. The idempotency keys are new on every run.

        When Stripe's answer to the authorization is lost (OutcomeUnknown), the hold may
        exist: it is looked up by the run's `paydesk_doctor` metadata among the check
        customer's PaymentIntents (Stripe's list is consistent at once) and cancelled if
        found. OutcomeUnknown when none was found; HoldNotSettled when it could not be read
        back or cancelled (it then lapses by itself)."""
        if key_kind(self._options.api_key) != "secret" or key_mode(
                self._options.api_key) != "test":
            raise InvalidRequest("The test authorization runs only with a test secret key "
                                 "(sk_test_): nothing was sent.")
        run = uuid.uuid4().hex
        customer_id = self._check_customer(run)
        since = int(time.time()) - LOOKUP_WINDOW_SECONDS
        create: PaymentIntentCreateParams = {
            "amount": amount, "currency": currency.lower(), "customer": customer_id,
            "payment_method": TEST_PAYMENT_METHOD, "capture_method": "manual",
            "confirm": True, "allowed_payment_method_types": ["card"],
            "description": CHECK_DESCRIPTION,
            "metadata": {CHECK_METADATA_KEY: run},
        }
        answer_lost = False
        try:
            made = self._call(lambda: self._v1.payment_intents.create(
                params=create, options={"idempotency_key": f"paydesk-doctor-{run}-authorize"}))
            held_id, held_status = made.id, made.status
        except OutcomeUnknown as exc:
            found = self._find_hold(customer_id, run, since)
            if found is None:
                raise OutcomeUnknown(
                    "Stripe did not answer, and reading back found no test authorization of "
                    f"this run ({look_for(run)}), so none was placed. Should one still "
                    f"appear, it lapses by itself {HOLD_LAPSES}.") from exc
            held_id, held_status = found
            answer_lost = True
        final_status = held_status
        if held_status not in ("canceled", "succeeded"):
            final_status = self._cancel(held_id, run)
        return ChargeTestResult(payment_intent_id=held_id, amount=amount,
                                currency=currency.lower(), held_status=held_status,
                                final_status=final_status, answer_lost=answer_lost)

    def _find_hold(self, customer_id: str, run: str, since: int) -> tuple[str, str] | None:
        """(id, status) of this run's test authorization, None when Stripe has none;
        HoldNotSettled when Stripe cannot be read either."""
        params: PaymentIntentListParams = {"customer": customer_id, "created": {"gte": since},
                                           "limit": 100}
        try:
            while True:
                page = self._call(lambda: self._v1.payment_intents.list(params=params))
                for pi in page.data:
                    listed = pi.to_dict()
                    if (listed.get("metadata") or {}).get(CHECK_METADATA_KEY) == run:
                        return listed["id"], listed["status"]
                if not page.has_more or not page.data:
                    return None
                params["starting_after"] = page.data[-1].id
        except GatewayError as exc:
            raise HoldNotSettled(
                "Stripe did not answer the authorization, and it could not be read back "
                f"either ({exc.message.rstrip('.')}): a hold may have been placed on Stripe's "
                f"test Visa. Nothing is charged: it lapses by itself {HOLD_LAPSES}. To cancel "
                "it sooner, find it in the Stripe Dashboard (test mode) under Payments, "
                f"uncaptured, {look_for(run)}.") from exc

    def _cancel(self, payment_intent_id: str, run: str) -> str:
        """Cancel the hold; its status afterwards. When the cancel's answer is lost the hold
        is read back; HoldNotSettled when it is not known to be cancelled."""
        cancel: PaymentIntentCancelParams = {"cancellation_reason": "abandoned"}
        try:
            return self._call(lambda: self._v1.payment_intents.cancel(
                payment_intent_id, params=cancel,
                options={"idempotency_key": f"paydesk-doctor-{run}-cancel"})).status
        except OutcomeUnknown as exc:
            read: PaymentIntentRetrieveParams = {}
            try:
                status: str = self._call(lambda: self._v1.payment_intents.retrieve(
                    payment_intent_id, params=read)).status
            except GatewayError:
                status = "unknown"
            if status == "canceled":
                return status
            failure: GatewayError = exc
        except GatewayError as exc:
            failure = exc
        raise HoldNotSettled(
            f"The test authorization {payment_intent_id} was placed but could not be "
            f"cancelled: {failure.message} It lapses by itself {HOLD_LAPSES} (nothing is "
            "charged); it can also be cancelled in the Stripe Dashboard.") from failure

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
