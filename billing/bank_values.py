"""The plain values of a bank debit checkout, for the screens and the command line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from models.money import Money

WEB, TEL = "WEB", "TEL"


@dataclass(frozen=True)
class BankAccountEntry:
    """A bank account as typed in. The numbers go to Stripe once and are never stored,
    logged or shown: `repr` (tracebacks, logs) shows the last four digits only."""

    routing: str = field(repr=False)
    account: str = field(repr=False)
    holder_name: str
    holder_type: str = "individual"
    account_type: str = "checking"

    @property
    def last4(self) -> str:
        digits = "".join(c for c in self.account if c.isdigit())
        return digits[-4:]

    def __repr__(self) -> str:
        return f"BankAccountEntry(account ending {self.last4}, holder={self.holder_name!r})"


@dataclass(frozen=True)
class AuthorizationContext:
    """How and where the payer agreed: WEB (on screen, at the kiosk or in their own
    session) or TEL (staff read the script on a call). `text` is exactly what was shown or
    read. `ip_address` and `user_agent` (WEB) describe the terminal or the SSH peer, as
    Stripe's online acceptance wants them; `confirmation` says how the payer agreed."""

    kind: str
    text: str
    terminal: str
    confirmation: str
    ssh_peer: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class BankDebitLine:
    """One invoice's debit: "processing" (bank payment pending), "captured" (settled),
    "failed" (with the reason), "waiting" (the account is being verified), "unknown" (sent
    without an answer: held, and sent again with the same key) or "pending" (not sent)."""

    invoice_payment_id: int
    invoice_number: str
    amount: Money
    status: str
    payment_intent_id: str | None
    message: str | None = None
    # The bank checkout it belongs to: the debits of one checkout wait on one verification.
    checkout_id: int | None = None


@dataclass(frozen=True)
class BankFailure:
    """A recent bank debit that failed, on an invoice still unpaid with no newer attempt:
    "Bank payment of $500.00 failed on Oct 20, 2026: the bank account is closed"."""

    invoice_id: int
    invoice_number: str
    amount: Money
    failed_on: dt.date
    reason: str


@dataclass(frozen=True)
class WaitingVerification:
    """A bank checkout whose account waits for the microdeposit's code, offered again on a
    later visit: its debits (held, not sent), the account's last four digits, the day
    Stripe stops waiting, and the tries left when Stripe said (None before a wrong one)."""

    checkout_id: int
    last4: str
    debits: tuple[BankDebitLine, ...]
    expires_on: dt.date
    attempts_left: int | None = None
    # What Stripe sent: "descriptor_code" (one deposit, a code SMxxxx) or "amounts" (two).
    microdeposit_type: str = "descriptor_code"

    @property
    def total(self) -> Money:
        return sum((d.amount for d in self.debits[1:]), self.debits[0].amount)


@dataclass(frozen=True)
class BankNotes:
    """What the payment page says of a client's bank debits, read in one query: those
    still settling, those waiting for a verification (offered to verify now), and recent
    failures (shown on their invoice until it is paid or paid again)."""

    pending: tuple[BankDebitLine, ...] = ()
    waiting: tuple[WaitingVerification, ...] = ()
    failed: tuple[BankFailure, ...] = ()


@dataclass(frozen=True)
class BankCheckoutResult:
    checkout_id: int
    debits: tuple[BankDebitLine, ...]
    message: str

    @property
    def processing(self) -> tuple[BankDebitLine, ...]:
        return tuple(d for d in self.debits if d.status == "processing")

    @property
    def failed(self) -> tuple[BankDebitLine, ...]:
        return tuple(d for d in self.debits if d.status == "failed")


@dataclass(frozen=True)
class NeedsVerification:
    """The bank account must be verified before it is debited: Stripe sent a small deposit
    whose statement code (SM followed by four characters) or two amounts the payer reads
    from their bank statement. The checkout waits; its invoices stay held."""

    checkout_id: int
    message: str
    # What to ask for: "descriptor_code" (SMxxxx) or "amounts" (two small deposits).
    microdeposit_type: str = "descriptor_code"
