"""Plain, frozen values the gateway hands to billing: no Stripe objects leave the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class DeclineInfo(NamedTuple):
    """Why the last attempt on a PaymentIntent failed, as Stripe said it."""

    code: str | None
    decline_code: str | None
    message: str | None


@dataclass(frozen=True)
class CardInfo:
    """A reusable card PaymentMethod: never more of the number than the last four digits."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    # Stripe's fingerprint: the same for every PaymentMethod of one card number.
    fingerprint: str | None = None
    # Stripe's `allow_redisplay`: "always" once the payer agreed to keep the card on file.
    allow_redisplay: str = "unspecified"
    customer: str | None = None
    created: int = 0

    @classmethod
    def from_stripe(cls, pm: dict[str, Any]) -> CardInfo:
        card = pm.get("card") or pm.get("card_present") or {}
        customer = pm.get("customer")
        return cls(pm["id"], card.get("brand") or "unknown", card.get("last4") or "",
                   int(card.get("exp_month") or 0), int(card.get("exp_year") or 0),
                   fingerprint=card.get("fingerprint") or None,
                   allow_redisplay=pm.get("allow_redisplay") or "unspecified",
                   customer=customer if isinstance(customer, str) else None,
                   created=int(pm.get("created") or 0))


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    status: str
    amount: int
    currency: str
    amount_capturable: int
    amount_received: int
    latest_charge: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    card: CardInfo | None = None
    decline: DeclineInfo | None = None
    customer: str | None = None
    created: int = 0
    # A bank debit's mandate (read from an expanded `latest_charge`) and why it failed.
    mandate: str | None = None
    failure: BankDebitFailure | None = None
    # requires_action for microdeposits: what was sent, "descriptor_code" or "amounts".
    microdeposit_type: str | None = None

    @classmethod
    def from_stripe(cls, pi: dict[str, Any]) -> PaymentIntentInfo:
        pm = pi.get("payment_method")
        error = pi.get("last_payment_error")
        charge = pi.get("latest_charge")
        return cls(
            id=pi["id"], status=pi["status"], amount=int(pi["amount"]),
            currency=pi["currency"], amount_capturable=int(pi.get("amount_capturable") or 0),
            amount_received=int(pi.get("amount_received") or 0),
            latest_charge=charge.get("id") if isinstance(charge, dict) else charge,
            metadata=dict(pi.get("metadata") or {}),
            card=CardInfo.from_stripe(pm) if isinstance(pm, dict)
            and pm.get("type") != "us_bank_account" else None,
            decline=DeclineInfo(error.get("code"), error.get("decline_code"),
                                error.get("message")) if error else None,
            customer=pi.get("customer") if isinstance(pi.get("customer"), str) else None,
            created=int(pi.get("created") or 0),
            mandate=_mandate_of(charge),
            failure=BankDebitFailure.from_error(error) if error and _is_bank(pi) else None,
            microdeposit_type=((pi.get("next_action") or {}).get("verify_with_microdeposits")
                               or {}).get("microdeposit_type"),
        )


def _mandate_of(charge: Any) -> str | None:
    if not isinstance(charge, dict):
        return None
    details = (charge.get("payment_method_details") or {}).get("us_bank_account") or {}
    return details.get("mandate") or None


def _is_bank(pi: dict[str, Any]) -> bool:
    return "us_bank_account" in (pi.get("payment_method_types") or [])


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount: int
    payment_intent: str
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_stripe(cls, refund: dict[str, Any]) -> RefundInfo:
        return cls(refund["id"], refund["status"], int(refund["amount"]),
                   refund.get("payment_intent") or "", refund["currency"],
                   dict(refund.get("metadata") or {}))


@dataclass(frozen=True)
class NoReusableCard:
    """What the reader gives when the card presented on it cannot be kept: a wallet tap
    (Apple Pay, Google Pay), or a card whose network yields no reusable `generated_card`.
    Nothing here can be charged: each payment must be tapped on the reader
    (`StripeGateway.authorize_on_reader`). `wallet` is Stripe's wallet type, if any."""

    brand: str
    last4: str
    wallet: str | None = None

    message = "No reusable card: each invoice must be tapped on the reader."


@dataclass(frozen=True)
class SetupDecline:
    """Why the last card tried on a hosted page was refused (its SetupIntent's
    `last_setup_error`): Stripe's codes and message, and the card's brand and last four
    digits, never more."""

    code: str | None
    decline_code: str | None
    message: str | None
    brand: str
    last4: str

    @classmethod
    def from_stripe(cls, error: dict[str, Any]) -> SetupDecline:
        pm = error.get("payment_method")
        card = (pm.get("card") or {}) if isinstance(pm, dict) else {}
        return cls(error.get("code"), error.get("decline_code"), error.get("message"),
                   card.get("brand") or "", card.get("last4") or "")


@dataclass(frozen=True)
class HostedSetup:
    """A hosted card page (a Stripe Checkout Session in setup mode) the payer opens on their
    own phone. `url` is the page (None once it is complete or expired: Stripe clears it);
    nothing here is secret. `status`: "open", "complete" or "expired"; `card` is the card
    the payer saved, once complete; `declined`, while it is open, why the last card tried
    on it was refused (read from the session's expanded SetupIntent)."""

    session_id: str
    url: str | None
    expires_at: int
    status: str
    customer: str | None = None
    card: CardInfo | None = None
    declined: SetupDecline | None = None

    @classmethod
    def from_stripe(cls, session: dict[str, Any]) -> HostedSetup:
        seti = session.get("setup_intent")
        pm = seti.get("payment_method") if isinstance(seti, dict) else None
        error = seti.get("last_setup_error") if isinstance(seti, dict) else None
        customer = session.get("customer")
        complete = session["status"] == "complete"
        return cls(session["id"], session.get("url"), int(session["expires_at"]),
                   session["status"],
                   customer=customer if isinstance(customer, str) else None,
                   card=CardInfo.from_stripe(pm) if complete and isinstance(pm, dict)
                   else None,
                   declined=SetupDecline.from_stripe(error)
                   if session["status"] == "open" and isinstance(error, dict) else None)


@dataclass(frozen=True)
class BankAccountInfo:
    """A us_bank_account PaymentMethod: the bank's name and the last four digits, never the
    account or routing number. `verified`: linked through Financial Connections (instantly
    verified); an account typed in is verified by microdeposits on its first debit, after
    which its active mandate (`MandateInfo`) lets later debits skip them."""

    payment_method_id: str
    bank_name: str
    last4: str
    fingerprint: str | None
    verified: bool = False
    account_holder_type: str | None = None
    account_type: str | None = None
    customer: str | None = None

    @classmethod
    def from_stripe(cls, pm: dict[str, Any]) -> BankAccountInfo:
        bank = pm.get("us_bank_account") or {}
        customer = pm.get("customer")
        return cls(pm["id"], bank.get("bank_name") or "", bank.get("last4") or "",
                   bank.get("fingerprint") or None,
                   verified=bool(bank.get("financial_connections_account")),
                   account_holder_type=bank.get("account_holder_type"),
                   account_type=bank.get("account_type"),
                   customer=customer if isinstance(customer, str) else None)


@dataclass(frozen=True)
class OnlineAcceptance:
    """The payer accepted the debit mandate on a web page: their IP address and browser."""

    ip_address: str
    user_agent: str


@dataclass(frozen=True)
class OfflineAcceptance:
    """The payer accepted the debit mandate in person or on paper (at the desk)."""


@dataclass(frozen=True)
class ExistingMandate:
    """Debit again under a mandate already active for this bank account (no new
    microdeposits)."""

    mandate_id: str


MandateAcceptance = OnlineAcceptance | OfflineAcceptance | ExistingMandate


@dataclass(frozen=True)
class MandateInfo:
    """A Stripe Mandate: `status` pending (account not yet verified), active or inactive."""

    id: str
    status: str
    payment_method_id: str
    acceptance_type: str | None
    type: str

    @classmethod
    def from_stripe(cls, mandate: dict[str, Any]) -> MandateInfo:
        accepted = mandate.get("customer_acceptance") or {}
        pm = mandate.get("payment_method")
        return cls(mandate["id"], mandate["status"],
                   str((pm.get("id") if isinstance(pm, dict) else pm) or ""),
                   accepted.get("type"), mandate.get("type") or "")


# Stripe's failure codes of an ACH debit and the Nacha return code each stands for
# (R01 insufficient funds, R02 account closed, R03 no account / unable to locate, R10
# customer advises not authorized; R05, R07, R29 and R51 are reported as
# debit_not_authorized too).
ACH_RETURN_CODES = {
    "insufficient_funds": "R01",
    "account_closed": "R02",
    "no_account": "R03",
    "invalid_account_number": "R04",
    "debit_not_authorized": "R10",
}


@dataclass(frozen=True)
class BankDebitFailure:
    """Why an ACH debit (or its microdeposit verification) failed: Stripe's code, the ACH
    return code it stands for when there is one, and Stripe's message."""

    code: str
    ach_return_code: str | None
    message: str | None

    @classmethod
    def from_error(cls, error: dict[str, Any]) -> BankDebitFailure:
        code = str(error.get("code") or "")
        return cls(code, ACH_RETURN_CODES.get(code), error.get("message"))
