"""ACH Direct Debit: a US bank account typed in at the desk, debited once per invoice under a
mandate the payer accepted, verified by microdeposits the first time.

How Stripe runs it (docs.stripe.com/payments/ach-direct-debit/accept-a-payment, direct
API): the bank account becomes a `us_bank_account` PaymentMethod (routing and account
number, holder type, `billing_details.name`); each PaymentIntent is confirmed with the
payer's acceptance of the mandate (`mandate_data`: online with IP address and browser, or
offline), or with the id of a mandate already active for that account. An account typed in
is verified by microdeposits: the first debit waits in `requires_action` until the payer
reads the code (or two amounts) on their statement (`verify_microdeposits`). A confirmed
debit is `processing` for up to 4 business days, then `succeeded` or, when the bank returns
it, `requires_payment_method` with the failure (`PaymentIntentInfo.failure`).

The account number goes to Stripe once and is never returned, logged or kept: only the last
four digits come back (`BankAccountInfo`).
"""

from __future__ import annotations

from stripe.params import (
    MandateRetrieveParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    PaymentIntentVerifyMicrodepositsParams,
    PaymentMethodAttachParams,
    PaymentMethodCreateParams,
)

from gateway.errors import InvalidRequest
from gateway.stripe_calls import StripeCalls
from gateway.values import (
    BankAccountInfo,
    ExistingMandate,
    MandateAcceptance,
    MandateInfo,
    OfflineAcceptance,
    OnlineAcceptance,
    PaymentIntentInfo,
)

_ABA_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)
HOLDER_TYPES = ("individual", "company")
ACCOUNT_TYPES = ("checking", "savings")
VERIFICATION_METHODS = ("automatic", "microdeposits")
ROUTING_INVALID = ("That routing number is not valid: it has 9 digits and is printed at the "
                   "bottom left of a cheque.")
ACCOUNT_INVALID = "That account number is not valid: it has 4 to 17 digits."


def routing_number_ok(routing: str) -> bool:
    """Nine digits whose ABA checksum (3, 7, 1 weights) is a multiple of 10."""
    if len(routing) != 9 or not routing.isascii() or not routing.isdigit():
        return False
    return sum(int(d) * w for d, w in zip(routing, _ABA_WEIGHTS, strict=True)) % 10 == 0


def _digits(text: str) -> str:
    return "".join(text.split()).replace("-", "")


class BankDebits(StripeCalls):
    """Bank accounts, their mandates, and debits from them."""

    def create_bank_account(self, *, routing: str, account: str, holder_name: str,
                            holder_type: str = "individual", account_type: str = "checking",
                            customer_id: str | None = None,
                            idempotency_key: str) -> BankAccountInfo:
        """A bank account typed in, as a PaymentMethod (attached to `customer_id` when given,
        so that each invoice of a sitting can be debited from it). The numbers are checked
        here first and sent once; a failure leaves without chained exceptions or frames that
        could show them."""
        try:
            return self._bank_account(routing, account, holder_name, holder_type,
                                      account_type, customer_id, idempotency_key)
        except Exception as exc:  # noqa: BLE001 - every failure is scrubbed the same way
            failure = exc
        failure.__cause__ = failure.__context__ = None
        failure.__suppress_context__ = True
        failure.__traceback__ = None
        raise failure

    def _bank_account(self, routing: str, account: str, holder_name: str, holder_type: str,
                      account_type: str, customer_id: str | None,
                      idempotency_key: str) -> BankAccountInfo:
        routing, account = _digits(routing), _digits(account)
        if not routing_number_ok(routing):
            raise InvalidRequest(ROUTING_INVALID, code="routing_number_invalid",
                                 param="us_bank_account[routing_number]")
        if not (account.isascii() and account.isdigit() and 4 <= len(account) <= 17):
            raise InvalidRequest(ACCOUNT_INVALID, code="account_number_invalid",
                                 param="us_bank_account[account_number]")
        if not holder_name.strip():
            raise InvalidRequest("The account holder's name is needed.",
                                 code="parameter_missing", param="billing_details[name]")
        if holder_type not in HOLDER_TYPES or account_type not in ACCOUNT_TYPES:
            raise InvalidRequest("The account holder type is individual or company, the "
                                 "account type checking or savings.")
        params: PaymentMethodCreateParams = {
            "type": "us_bank_account",
            "us_bank_account": {"routing_number": routing, "account_number": account,
                                "account_holder_type": holder_type,
                                "account_type": account_type},
            "billing_details": {"name": holder_name.strip()}}
        opts = self._key(idempotency_key)
        pm = self._call(lambda: self._v1.payment_methods.create(params=params, options=opts))
        if customer_id:
            attach: PaymentMethodAttachParams = {"customer": customer_id}
            attach_opts = self._key(idempotency_key, "attach")
            pm = self._call(lambda: self._v1.payment_methods.attach(
                pm["id"], params=attach, options=attach_opts))
        return BankAccountInfo.from_stripe(pm)

    def start_bank_debit(self, *, amount: int, currency: str, customer: str | None,
                         payment_method_id: str, metadata: dict[str, str],
                         acceptance: MandateAcceptance, idempotency_key: str,
                         verification_method: str = "automatic",
                         description: str | None = None) -> PaymentIntentInfo:
        """One debit (one invoice), created and confirmed in one request. The result is
        `requires_action` (microdeposits to verify: `verify_microdeposits`), `processing`
        (settles later: `bank_debit` reads it), or a refusal (InvalidRequest)."""
        if verification_method not in VERIFICATION_METHODS:
            raise InvalidRequest("A bank account typed in is verified automatically or by "
                                 "microdeposits.")
        params: PaymentIntentCreateParams = {
            "amount": amount, "currency": currency,
            "allowed_payment_method_types": ["us_bank_account"],
            "payment_method": payment_method_id, "confirm": True,
            "metadata": dict(metadata),
            "payment_method_options": {"us_bank_account": {
                "verification_method": verification_method}},
            "expand": ["latest_charge"]}
        if customer:
            params["customer"] = customer
        if description:
            params["description"] = description
        if isinstance(acceptance, ExistingMandate):
            params["mandate"] = acceptance.mandate_id
            params["off_session"] = True
        elif isinstance(acceptance, OnlineAcceptance):
            params["mandate_data"] = {"customer_acceptance": {
                "type": "online", "online": {"ip_address": acceptance.ip_address,
                                            "user_agent": acceptance.user_agent}}}
        elif isinstance(acceptance, OfflineAcceptance):
            params["mandate_data"] = {"customer_acceptance": {"type": "offline",
                                                              "offline": {}}}
        else:  # pragma: no cover - the type checker sees every kind above
            raise TypeError(f"not a mandate acceptance: {acceptance!r}")
        opts = self._key(idempotency_key)
        return PaymentIntentInfo.from_stripe(self._call(
            lambda: self._v1.payment_intents.create(params=params, options=opts)))

    def verify_microdeposits(self, payment_intent_id: str, *,
                             amounts: tuple[int, int] | None = None,
                             descriptor_code: str | None = None,
                             idempotency_key: str) -> PaymentIntentInfo:
        """The payer's reading of the microdeposit: its descriptor code (SM....) or its two
        amounts in cents. Wrong values raise InvalidRequest (code ..._mismatch; Stripe
        counts the attempts); the last attempt fails the debit instead."""
        if (amounts is None) == (descriptor_code is None):
            raise InvalidRequest("Give either the descriptor code or the two amounts.")
        params: PaymentIntentVerifyMicrodepositsParams = {"expand": ["latest_charge"]}
        if amounts is not None:
            params["amounts"] = [int(a) for a in amounts]
        else:
            assert descriptor_code is not None
            params["descriptor_code"] = descriptor_code.strip().upper()
        opts = self._key(idempotency_key)
        return PaymentIntentInfo.from_stripe(self._call(
            lambda: self._v1.payment_intents.verify_microdeposits(
                payment_intent_id, params=params, options=opts)))

    def bank_debit(self, payment_intent_id: str) -> PaymentIntentInfo:
        """A debit as it stands now, with its mandate and (if returned) its failure."""
        params: PaymentIntentRetrieveParams = {"expand": ["latest_charge"]}
        return PaymentIntentInfo.from_stripe(self._call(
            lambda: self._v1.payment_intents.retrieve(payment_intent_id, params=params)))

    def mandate(self, mandate_id: str) -> MandateInfo:
        params: MandateRetrieveParams = {}
        return MandateInfo.from_stripe(self._call(
            lambda: self._v1.mandates.retrieve(mandate_id, params=params)))
