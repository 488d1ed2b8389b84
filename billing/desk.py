"""`Desk`: the one implementation of `DeskApi`, over the database and the Stripe gateway.

Every method is blocking (database, Stripe): the screens call it from worker threads.
Values in and out are plain (`billing.values`, `models.money.Money`); errors are
`billing.errors` with a message a person can act on.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from billing.audit import audit
from billing.config import Settings
from billing.errors import BillingError, NotAllowed, StripeUnavailable
from billing.lazy_import import LazyModule
from billing.startup_gate import StartupGate
from billing.values import (
    AuditRow,
    BalanceChange,
    CardChoice,
    CheckoutResult,
    ClientSummary,
    FirmInfo,
    InvoiceDetails,
    PayableInvoice,
    Payer,
    PaymentRow,
    ProgressEvent,
    ReconcileReport,
    RefundResult,
    ShareResult,
    StaffSession,
)
from gateway import errors as gw
from models.db import write_transaction
from models.events import dispute_flags
from models.firm import Case, Client, Firm, Staff, utcnow
from models.invoices import Invoice
from models.money import (
    Money,
    check_amount,
    format_money,
    parse_amount,
    stripe_minimum_charge,
)
from models.payments import Checkout, InvoicePayment
from models.records import AuditEntry

# Loaded when first used: the first screen is drawn before any of them is needed.
engine = LazyModule("billing.checkout")
clients = LazyModule("billing.clients")
emails = LazyModule("billing.emails")
firm_details = LazyModule("billing.firm_details")
ledger = LazyModule("billing.ledger")
offline = LazyModule("billing.offline")
outbox = LazyModule("billing.outbox")
receipts = LazyModule("billing.receipts")
reconcile = LazyModule("billing.reconcile")
refunds = LazyModule("billing.refunds")
reserve = LazyModule("billing.reserve")
saved_cards = LazyModule("billing.saved_cards")
sharing = LazyModule("billing.sharing")
staff = LazyModule("billing.staff")
card_entry = LazyModule("billing.card_entry")
phone_entry = LazyModule("billing.phone_entry")
phone_link_email = LazyModule("billing.phone_link_email")

log = logging.getLogger(__name__)
# A start-up reconciliation leaves alone what another terminal may still be paying.
STARTUP_RECONCILE_AFTER = dt.timedelta(minutes=2)


class Desk:
    """Paydesk's billing, for one terminal."""

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

    # --- the firm ---------------------------------------------------------------------------
    def _firm(self) -> Firm:
        firm = Firm.select().order_by(Firm.id).first()
        if firm is None:
            raise BillingError("No firm is set up yet: run `paydesk db seed-demo` or add one.")
        return firm

    def firm(self) -> FirmInfo:
        f = self._firm()
        return FirmInfo(
            name=f.name, currency=f.currency, locale=f.locale,
            online_payments_enabled=f.online_payments_enabled,
            multi_invoice_payments_enabled=f.multi_invoice_payments_enabled,
            statement_descriptor_prefix=f.statement_descriptor_prefix,
            test_mode=self.settings.stripe.test_mode,
            time_zone=f.time_zone,
        )

    def set_firm_switches(self, staff_session: StaffSession, *, online: bool | None = None,
                          multi_invoice: bool | None = None) -> FirmInfo:
        staff.require_admin(staff_session)
        firm = self._firm()
        changes = {}
        if online is not None:
            changes["online_payments_enabled"] = bool(online)
        if multi_invoice is not None:
            changes["multi_invoice_payments_enabled"] = bool(multi_invoice)
        if changes:
            with write_transaction():
                Firm.update(**changes).where(Firm.id == firm.id).execute()
                audit(actor=f"staff:{staff_session.name}", action="firm.switches",
                      subject=f"firm:{firm.id}", result="changed", terminal=self.terminal,
                      details=" ".join(f"{k}={v}" for k, v in changes.items()))
        return self.firm()

    def set_firm_details(self, staff_session: StaffSession, *, time_zone: str | None = None,
                         address: str | None = None, phone: str | None = None,
                         email: str | None = None) -> FirmInfo:
        """The firm's time zone (IANA name) and the contact details printed on receipts and
        in emails (admin only); a bad value is refused naming its setting, nothing changes."""
        staff.require_admin(staff_session)
        firm_details.set_firm_details(
            self._firm().id, actor=f"staff:{staff_session.name}", terminal=self.terminal,
            time_zone=time_zone, address=address, phone=phone, email=email)
        return self.firm()

    # --- who pays ---------------------------------------------------------------------------
    def sign_in_client(self, email: str, password: str) -> Payer:
        return clients.sign_in_client(email, password, terminal=self.terminal, clock=self.clock)

    def payer_for_code(self, code: str) -> tuple[Payer, PayableInvoice]:
        return clients.payer_for_code(code, today=self._today())

    def sign_in_staff(self, name: str, pin: str) -> StaffSession:
        return staff.sign_in_staff(name, pin, terminal=self.terminal, clock=self.clock)

    def find_clients(self, staff_session: StaffSession, query: str,
                     limit: int = 50) -> list[ClientSummary]:
        staff.require_staff(staff_session)
        return clients.find_clients(query, limit)

    def payer_for_client(self, staff_session: StaffSession, client_id: int) -> Payer:
        staff.require_staff(staff_session)
        return clients.payer_for_client(staff_session, client_id)

    # --- what can be paid -------------------------------------------------------------------
    def payable_invoices(self, payer: Payer) -> list[PayableInvoice]:
        return clients.payable_for(payer, today=self._today())

    def invoice_details(self, payer: Payer, invoice_id: int) -> InvoiceDetails:
        return clients.invoice_details(payer, invoice_id, today=self._today())

    def parse_amount(self, payer: Payer, invoice: PayableInvoice, text: str) -> Money:
        locale = self._firm().locale
        amount = parse_amount(text, invoice.currency, locale)
        check_amount(amount, balance=invoice.balance,
                     minimum=stripe_minimum_charge(invoice.currency), locale=locale)
        return amount

    def balance_changes(self, payer: Payer, amounts: Mapping[int, Money]
                        ) -> tuple[BalanceChange, ...]:
        return reserve.balance_changes(payer, amounts)

    def statement_descriptor(self, invoice_number: str) -> str:
        return ledger.statement_descriptor(self._firm().statement_descriptor_prefix,
                                           invoice_number)

    # --- paying -----------------------------------------------------------------------------
    def saved_cards(self, payer: Payer) -> list[CardChoice]:
        if payer.kind == "code":
            return []
        client = Client.get_or_none(Client.id == payer.client_id)
        if client is None or not client.stripe_customer_id:
            return []
        # Only the cards kept on file with the payer's consent (allow_redisplay=always).
        return [
            CardChoice(kind="saved", payment_method_id=c.payment_method_id,
                       label=f"{receipts.card_label(c.brand, c.last4)} (expires "
                             f"{saved_cards.expiry(c)})")
            for c in _asking_stripe("The client's saved cards could not be read",
                                    saved_cards.saved_cards, self.gateway, client)
        ]

    def remove_saved_card(self, payer: Payer, payment_method_id: str) -> str:
        """Take one of the client's saved cards off file (the client, or staff acting for
        them); returns the card's label. Recorded in the audit log."""
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        return saved_cards.remove_saved_card(self.gateway, payer, payment_method_id,
                                             terminal=self.terminal)

    def readers(self) -> list[tuple[str, str]]:
        return list(_asking_stripe("The card readers could not be listed",
                                   self.gateway.list_readers))

    def present_test_card(self, reader_id: str, card_number: str) -> None:
        if not self.settings.stripe.test_mode:
            raise NotAllowed("A test card can be presented only in test mode.")
        _asking_stripe("The test card could not be presented on the reader",
                       self.gateway.present_test_card_on_reader, reader_id, card_number)

    def pay(self, payer: Payer, amounts: Mapping[int, Money], card: CardChoice,
            on_progress: Callable[[ProgressEvent], None] | None = None) -> CheckoutResult:
        if card.kind not in engine.CARD_METHODS:
            raise BillingError("Choose how the card is given: typed in, saved or the reader.")
        if card.kind == "keyed" and card.keyed is None:
            raise BillingError("Enter the card number.")
        if card.kind == "keyed":
            # The whole card is checked before anything is reserved: a typo leaves nothing.
            card_entry.check_keyed_card(card.keyed, today=self._today())
        if card.kind == "saved" and not card.payment_method_id:
            raise BillingError("Choose a saved card.")
        if card.kind == "reader" and not card.reader_id:
            raise BillingError("Choose a card reader.")
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        if payer.kind == "code" and payer.email is not None:
            # The code holder's own address for their receipt (never the client's).
            payer = replace(payer, email=emails.check_address(payer.email))
        saved_cards.check_keep(payer, card)
        # Nothing is reserved or sent before start-up has settled what earlier runs left.
        gateway = self.gateway
        checkout_id = reserve.reserve(payer, amounts, method=engine.CARD_METHODS[card.kind],
                                     terminal=self.terminal, today=self._today())
        saved_cards.record_consent(checkout_id, payer, card, terminal=self.terminal)
        result = engine.run_checkout(gateway, checkout_id, card, terminal=self.terminal,
                                     on_progress=on_progress)
        if result.status == "verifying":
            # One more try now (the card processor may answer at once); else reconciliation.
            try:
                reconcile.settle_checkout(gateway, checkout_id, terminal=self.terminal)
            except Exception:  # noqa: BLE001 - left for reconciliation
                log.warning("checkout %s: still verifying", checkout_id)
            result = ledger.result_of(checkout_id)
            saved_cards.settle_card(gateway, checkout_id, terminal=self.terminal)
        if result.succeeded:
            self._deliver_email()
        return result

    # --- the card entered on the payer's phone (billing.phone_entry) ------------------------
    def start_phone_entry(self, payer: Payer, amounts: Mapping[int, Money]):
        """A card page for the payer's phone, paying exactly `amounts` (a PhoneLink)."""
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        return phone_entry.start(self.gateway, payer, amounts, terminal=self.terminal,
                                 minutes=self.settings.kiosk.phone_link_minutes,
                                 clock=self.clock, locale=self._firm().locale)

    def phone_entry_status(self, payer: Payer, entry_id: int):
        """How the page is doing (a PhoneStatus): pending, saved, expired, canceled, used."""
        return phone_entry.poll(self.gateway, entry_id, clock=self.clock, payer=payer)

    def cancel_phone_entry(self, payer: Payer, entry_id: int) -> None:
        phone_entry.cancel(self.gateway, entry_id, payer=payer)

    def pay_phone_entry(self, payer: Payer, entry_id: int, amounts: Mapping[int, Money],
                        on_progress: Callable[[ProgressEvent], None] | None = None
                        ) -> CheckoutResult:
        """Pay with the card saved on the page, once (see billing.phone_entry.charge)."""
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        result = phone_entry.charge(self.gateway, payer, entry_id, amounts,
                                    terminal=self.terminal, today=self._today(),
                                    clock=self.clock, on_progress=on_progress)
        if result.succeeded:
            self._deliver_email()
        return result

    def email_phone_link(self, payer: Payer, entry_id: int, to: str,
                         local_expiry: str) -> str:
        """Queue the page's link to the payer's address; the address it goes to."""
        queued = phone_link_email.queue_phone_link_email(
            entry_id, to, client_id=payer.client_id, local_expiry=local_expiry)
        self._deliver_email()
        return queued.recipient

    # --- bank debits (billing.bank_checkout) ----------------------------------------------
    def bank_authorization_text(self, payer: Payer, amounts: Mapping[int, Money], kind: str,
                                last4: str = "") -> str:
        """The authorization to show (WEB) or read aloud (TEL) for these amounts today."""
        from billing.bank_authorization import authorization_text

        firm = Client.get_by_id(payer.client_id).firm
        return authorization_text(firm, payer, amounts, kind, self._today(), last4=last4)

    def pay_by_bank(self, payer: Payer, amounts: Mapping[int, Money], account, context):
        """One bank debit per invoice (billing.bank_checkout.start_bank_checkout): a
        BankCheckoutResult, or NeedsVerification while the account is being verified."""
        from billing import bank_checkout

        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        if not context.terminal:
            context = replace(context, terminal=self.terminal)
        gateway = self.gateway
        result = bank_checkout.start_bank_checkout(gateway, payer, amounts, account, context,
                                                   today=self._today())
        self._deliver_email()
        return result

    def verify_bank_account(self, payer: Payer, checkout_id: int, *,
                            descriptor_code: str | None = None,
                            amounts: tuple[int, int] | None = None):
        """The microdeposit's code or amounts; then the debits start (see bank_checkout)."""
        from billing import bank_checkout

        result = bank_checkout.verify_bank_account(
            self.gateway, payer, checkout_id, descriptor_code=descriptor_code, amounts=amounts)
        self._deliver_email()
        return result

    def pending_bank_payments(self, payer: Payer):
        """The payer's bank debits still settling ("bank payment pending", with amounts)."""
        from billing.bank_pending import pending_bank_payments

        return pending_bank_payments(payer.client_id)

    def set_bank_debits(self, staff_session: StaffSession, enabled: bool) -> bool:
        """Bank debits on or off for the firm (administrators only; audited)."""
        from billing.bank_pending import set_bank_debits

        return set_bank_debits(staff_session, enabled, terminal=self.terminal)

    def _deliver_email(self) -> None:
        """Best effort: the email is queued with the payment; a failure here only delays it."""
        try:
            outbox.deliver_due(self.settings.smtp, self.settings.outbox_dir)
        except Exception:  # noqa: BLE001 - never fail a payment over its email
            log.warning("confirmation email: delivery postponed", exc_info=False)

    # --- staff ------------------------------------------------------------------------------
    def payments(self, staff_session: StaffSession, *, client_id: int | None = None,
                 checkout_id: int | None = None, status: str | None = None, text: str = "",
                 limit: int = 200) -> list[PaymentRow]:
        staff.require_staff(staff_session)
        return payment_rows(client_id=client_id, checkout_id=checkout_id, status=status,
                            text=text, limit=limit)

    def refund(self, staff_session: StaffSession, invoice_payment_id: int,
               amount: Money | None, reason: str) -> RefundResult:
        staff.require_staff(staff_session)
        result = refunds.refund(self.gateway, staff_session, invoice_payment_id, amount,
                                reason, terminal=self.terminal)
        self._deliver_email()  # the refund confirmation, queued with the refund
        return result

    def refund_checkout(self, staff_session: StaffSession, checkout_id: int,
                        reason: str) -> list[RefundResult]:
        staff.require_staff(staff_session)
        if not (reason or "").strip():
            raise BillingError("Give a reason for the refund.")
        results = refunds.refund_checkout(self.gateway, staff_session, checkout_id, reason,
                                          terminal=self.terminal)
        self._deliver_email()
        return results

    def record_offline_payment(self, staff_session: StaffSession, client_id: int,
                               amounts: Mapping[int, Money], method: str,
                               reference: str, *,
                               allow_duplicate_reference: bool = False) -> CheckoutResult:
        staff.require_staff(staff_session)
        result = offline.record_offline_payment(
            staff_session, client_id, amounts, method, reference, terminal=self.terminal,
            allow_duplicate_reference=allow_duplicate_reference)
        self._deliver_email()
        return result

    def share_invoice(self, staff_session: StaffSession, invoice_id: int, channel: str,
                      recipient: str | None) -> ShareResult:
        staff.require_staff(staff_session)
        return sharing.share_invoice(staff_session, invoice_id, channel, recipient,
                                     terminal=self.terminal)

    def shareable_invoices(self, staff_session: StaffSession,
                           client_id: int) -> list[PayableInvoice]:
        staff.require_staff(staff_session)
        return sharing.shareable_invoices(client_id, today=self._today())

    def audit_log(self, staff_session: StaffSession, *, limit: int = 200,
                  offset: int = 0) -> list[AuditRow]:
        staff.require_staff(staff_session)
        entries = list(AuditEntry.select()
                       .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                       .limit(max(1, min(limit, 1000))).offset(max(0, offset)))
        return audit_rows(entries, self._firm())

    def receipt_text(self, reference: str, *, payer: Payer | None = None) -> str:
        return receipts.receipt_text(reference, show_client=_may_see_client(payer))

    def receipt_pdf(self, reference: str, *, payer: Payer | None = None) -> bytes:
        return receipts.receipt_pdf(reference, show_client=_may_see_client(payer))

    def email_receipt(self, reference: str, to: str, *, payer: Payer | None = None) -> str:
        """Queue the receipt to `to` (at a kiosk or over SSH, instead of a file on the
        server) and try to deliver it now; the address it goes to. BillingError for a bad
        address or an unknown receipt, with nothing queued."""
        queued = emails.queue_receipt_email(reference, to, show_client=_may_see_client(payer))
        self._deliver_email()
        return queued.recipient

    def reconcile(self, *, older_than: dt.timedelta | None = None) -> ReconcileReport:
        """Settle every unfinished checkout and refund (with `older_than`: only those
        untouched for that long)."""
        return self._reconcile(self.gateway, older_than)

    def reconcile_at_start(self, gateway) -> ReconcileReport:
        """Start-up's reconciliation, over the `gateway` start-up has just built (the gate is
        still shut: it opens once this has run)."""
        self._gateway = gateway
        return self._reconcile(gateway, STARTUP_RECONCILE_AFTER)

    def _reconcile(self, gateway, older_than: dt.timedelta | None) -> ReconcileReport:
        report = reconcile.reconcile(gateway, terminal=self.terminal,
                                     older_than=older_than, clock=self.clock)
        # The cards of checkouts that ended meanwhile are kept or released now.
        saved_cards.settle_pending(gateway, terminal=self.terminal)
        return report


def payment_rows(*, client_id: int | None = None, checkout_id: int | None = None,
                 status: str | None = None, text: str = "", limit: int = 200) -> list[PaymentRow]:
    """Invoice payments, newest first, for the staff payments list and the CLI."""
    query = (InvoicePayment.select(InvoicePayment, Checkout, Invoice, Client, Case)
             .join(Checkout).join(Client)
             .switch(InvoicePayment).join(Invoice).join(Case))
    if client_id is not None:
        query = query.where(Checkout.client == client_id)
    if checkout_id is not None:
        query = query.where(InvoicePayment.checkout == checkout_id)
    if status:
        query = query.where(InvoicePayment.status == status)
    if text.strip():
        pattern = f"%{text.strip()}%"
        query = query.where((Invoice.number ** pattern) | (Client.name ** pattern)
                            | (InvoicePayment.receipt_number ** pattern))
    query = query.order_by(Checkout.created_at.desc(), InvoicePayment.id.desc())
    rows = []
    found = list(query.limit(max(1, min(limit, 5000))))
    disputed, charged_back = dispute_flags([p.id for p in found])
    for p in found:
        c = p.checkout
        rows.append(PaymentRow(
            invoice_payment_id=p.id, checkout_id=c.id, at=p.completed_at or c.created_at,
            client_name=c.client.name, invoice_number=p.invoice.number,
            case_number=p.invoice.case.number, method=c.method,
            card=receipts.method_label(c.method, c.card_brand, c.card_last4, c.reference),
            amount=Money(p.amount_minor, c.currency), refunded=Money(p.refunded_minor, c.currency),
            status=p.status, reference=p.receipt_number,
            failure_message=p.failure_message if p.status in ("declined", "failed") else None,
            failure_code=(p.decline_code or p.failure_code)
            if p.status in ("declined", "failed") else None,
            disputed=p.id in disputed, charged_back=p.id in charged_back,
        ))
    return rows


# The audit log's actions in words; an action not listed here is shown as it is stored.
ACTION_WORDS = {
    "payment.capture": "payment captured",
    "checkout.fail": "checkout failed",
    "offline_payment.record": "offline payment",
    "refund": "refund",
    "staff.sign_in": "staff sign-in",
    "client.sign_in": "client sign-in",
    "firm.switches": "settings changed",
    "invoice.share": "invoice shared",
    "duplicate saved card removed": "duplicate card removed",
}
# Ids in an entry's details that only the raw view shows.
_RAW_ONLY = ("invoice_payment:", "refund:", "payment_intent:")


class _Names:
    """Names for the ids in a page of audit entries, read in a few queries."""

    def __init__(self, entries: list[AuditEntry], firm: Firm) -> None:
        texts = [t for e in entries for t in (e.actor, e.subject)]
        ids = {v for t in texts for v in re.findall(r"client:(\d+)", t)}
        emails = {v for t in texts for v in re.findall(r"client:([^\s:]+@[^\s]+)", t)}
        staff_ids = {v for e in entries for v in re.findall(r"^staff:(\d+)$", e.subject)}
        self.firm = firm
        self.clients = {str(c.id): c.name for c in Client.select(Client.id, Client.name)
                        .where(Client.id.in_(ids or {0}))}
        self.emails = {c.email: c.name for c in Client.select(Client.email, Client.name)
                       .where(Client.email.in_(emails or {""}))}
        self.staff = {str(m.id): m.name for m in Staff.select(Staff.id, Staff.name)
                      .where(Staff.id.in_(staff_ids or {0}))}

    def client(self, key: str) -> str:
        if key.isdigit():
            return self.clients.get(key, f"client {key}")
        return self.emails.get(key, key)

    def who(self, actor: str) -> str:
        """ "staff:Front Desk for client:1" -> "Front Desk for Dana Whitfield"."""
        if actor == "system":
            return "Paydesk"
        if " for " in actor:
            first, _sep, second = actor.partition(" for ")
            return f"{self.who(first)} for {self.who(second)}"
        kind, _sep, value = actor.partition(":")
        if kind == "staff":
            return value
        if kind == "client":
            return "unknown client" if value == "unknown" else self.client(value)
        if kind == "code":
            return f"payment code for {self.who(value)}" if value else "payment code"
        return actor

    def subject(self, subject: str) -> str:
        kind, _sep, value = subject.partition(":")
        if kind == "client":
            return "unknown client" if value == "unknown" else self.client(value)
        if kind == "staff":
            return self.staff.get(value, f"staff {value}")
        if kind == "checkout":
            return f"Checkout {value}"
        if kind == "invoice":
            return value
        if kind == "firm":
            return self.firm.name if value == str(self.firm.id) else f"firm {value}"
        return subject


def _details_in_words(details: str, currency: str, locale: str) -> tuple[Money | None, str]:
    """(the amount, the details in words): "checkout:17 invoice_payment:17
    amount_minor=53050 USD payment_intent:pi_..." -> ($530.50, "$530.50 · Checkout 17")."""
    amount = None
    words: list[str] = []
    tokens = details.split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("reason="):
            words.append("reason: " + " ".join([token[7:], *tokens[index:]]).strip())
            break
        if token.startswith("amount_minor=") and token[13:].lstrip("-").isdigit():
            code = currency
            if index < len(tokens) and re.fullmatch(r"[A-Z]{3}", tokens[index]):
                code = tokens[index]
                index += 1
            amount = Money(int(token[13:]), code)
        elif token.startswith("checkout:"):
            words.append(f"Checkout {token[9:]}")
        elif token.startswith(_RAW_ONLY):
            continue
        elif re.fullmatch(r"[a-z_]+=(True|False)", token):
            key, _sep, value = token.partition("=")
            words.append(f"{key.replace('_', ' ')} {'on' if value == 'True' else 'off'}")
        else:
            words.append(token)
    money = format_money(amount, locale) if amount is not None else ""
    return amount, " · ".join(p for p in (money, " ".join(words)) if p)


def audit_rows(entries: list[AuditEntry], firm: Firm) -> list[AuditRow]:
    """Audit entries as the audit log shows them: the raw values, and the same in words
    (names for ids, amounts in the firm's money format)."""
    names = _Names(entries, firm)
    rows = []
    for e in entries:
        amount, summary = _details_in_words(e.details or "", firm.currency, firm.locale)
        rows.append(AuditRow(
            at=e.at, actor=e.actor, action=e.action, subject=e.subject, result=e.result,
            terminal=e.terminal, details=e.details, who=names.who(e.actor),
            what=ACTION_WORDS.get(e.action, e.action), subject_name=names.subject(e.subject),
            amount=amount, summary=summary,
        ))
    return rows


__all__ = ["ACTION_WORDS", "STARTUP_RECONCILE_AFTER", "Desk", "audit_rows", "payment_rows"]


def _asking_stripe(what: str, call: Callable, *args):
    """`call(*args)`, a read (or a test-mode reader tap) made before any payment or refund
    is sent; a gateway error becomes StripeUnavailable, in words, saying nothing was charged."""
    try:
        return call(*args)
    except gw.OutcomeUnknown:
        raise StripeUnavailable(
            f"{what}: Stripe did not answer. Nothing was charged; check the connection to "
            "Stripe and try again in a moment.") from None
    except gw.GatewayError as exc:
        raise StripeUnavailable(f"{what}. {exc.message} Nothing was charged.") from None


def _may_see_client(payer: Payer | None) -> bool:
    """A payment-code holder sees the invoice, never whose it is (DESIGN.md section 1)."""
    return payer is None or payer.kind != "code"
