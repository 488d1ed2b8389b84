"""The plain values of a bank debit checkout, for the screens and the command line."""

from __future__ import annotations

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
