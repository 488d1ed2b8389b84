"""`paydesk invoices | pay | payments | refund | offline-payment | reconcile`: the payment
engine without the screens, for scripts, support staff and automated checks.

Each handler builds Paydesk through `billing.services.build_services`, prints one line per
item (or JSON with `--json`) and returns the exit status: 0 when everything asked for
succeeded; 1 when a payment or refund did not go through (declined, failed); 2 for bad
input or a broken rule (nothing changed); 3 when an outcome is still being verified.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
import threading
from typing import Any

from billing.errors import AmountRejected, BillingError, SignInFailed, StripeUnavailable
from billing.services import build_services
from billing.values import CardChoice, CheckoutResult, Payer, StaffSession
from gateway import GatewayError, GatewayMisconfigured, KeyedCard, OutcomeUnknown, ReaderTimeout
from models.money import Money, MoneyError, format_money

PIN_ENV = "PAYDESK_STAFF_PIN"
OK, NOT_DONE, BAD_INPUT, VERIFYING = 0, 1, 2, 3
# What reconciliation does with a payment or refund whose answer was lost (billing.reconcile):
# it asks Stripe what happened, then finishes or releases it under the stored keys.
PAYMENT_NOT_KNOWN = (
    "the outcome is not known yet: Stripe did not answer in time. `paydesk reconcile` (also "
    "run whenever Paydesk starts) checks it with Stripe: each card hold is then either "
    "captured and recorded or released, and nothing will be charged twice. Do not pay "
    "these invoices again until they show as paid or not paid.")
REFUND_NOT_KNOWN = (
    "the outcome of the refund is not known yet: Stripe did not answer in time. "
    "`paydesk reconcile` (also run whenever Paydesk starts) checks it with Stripe and "
    "records it; nothing will be refunded twice.")


def register(sub: Any) -> None:
    p = sub.add_parser("invoices", help="a client's payable invoices")
    p.add_argument("--client", required=True, metavar="EMAIL")
    _common(p, staff=False)
    p.set_defaults(func=invoices)

    p = sub.add_parser("pay", help="pay invoices by card: one transaction per invoice")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--client", metavar="EMAIL", help="the client paying (or paid for)")
    who.add_argument("--code", metavar="CODE", help="a payment link's code (one invoice)")
    p.add_argument("--invoice", action="append", default=[], metavar="NUMBER[=AMOUNT]",
                   help="an invoice and the amount (default: its balance); repeat for more")
    p.add_argument("--amount", metavar="X", help="with --code: the amount (default: balance)")
    card = p.add_mutually_exclusive_group(required=True)
    card.add_argument("--card", metavar="NUMBER", help="a card number, typed in")
    card.add_argument("--saved-card", nargs="?", const="", metavar="PM_ID",
                      help="a saved card of the client (default: the newest)")
    card.add_argument("--reader", nargs="?", const="", metavar="READER_ID",
                      help="the card reader (default: the first)")
    p.add_argument("--exp", metavar="MM/YY", help="the card's expiry")
    p.add_argument("--cvc", metavar="NNN", help="the card's security code")
    p.add_argument("--present", metavar="NUMBER", default="4242424242424242",
                   help="test mode, with --reader: the test card tapped on the reader")
    _common(p, staff=False, optional_staff=True)
    p.set_defaults(func=pay)

    p = sub.add_parser("payments", help="invoice payments (staff)")
    p.add_argument("--client", metavar="EMAIL")
    p.add_argument("--checkout", type=int, metavar="ID")
    p.add_argument("--status", metavar="STATUS")
    p.add_argument("--limit", type=int, default=200)
    _common(p, staff=True)
    p.set_defaults(func=payments)

    p = sub.add_parser("refund", help="refund an invoice payment or a whole checkout (staff)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--invoice-payment", type=int, metavar="ID")
    what.add_argument("--checkout", type=int, metavar="ID")
    p.add_argument("--amount", metavar="X", help="default: all that is left")
    p.add_argument("--reason", required=True, metavar="TEXT")
    _common(p, staff=True)
    p.set_defaults(func=refund)

    p = sub.add_parser("offline-payment",
                       help="record a check, cash or bank transfer over invoices (staff)")
    p.add_argument("--client", required=True, metavar="EMAIL")
    p.add_argument("--invoice", action="append", required=True, metavar="NUMBER=AMOUNT")
    p.add_argument("--method", required=True, choices=("check", "cash", "bank_transfer"))
    p.add_argument("--reference", default="", metavar="TEXT")
    _common(p, staff=True)
    p.set_defaults(func=offline_payment)

    p = sub.add_parser("reconcile", help="settle unfinished checkouts and refunds with Stripe")
    p.add_argument("--min-age", type=float, default=0.0, metavar="SECONDS",
                   help="only those untouched for this long (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=reconcile)


def _common(p: argparse.ArgumentParser, *, staff: bool, optional_staff: bool = False) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    if staff or optional_staff:
        p.add_argument("--staff", required=staff, metavar="NAME",
                       help=f"staff name; the PIN comes from {PIN_ENV} or a prompt")


def _err(message: str, status: int = BAD_INPUT) -> int:
    print(f"paydesk: {message}", file=sys.stderr)
    return status


def _services(settings):
    return build_services(settings)


def _staff(desk, name: str | None) -> StaffSession | None:
    if not name:
        return None
    pin = os.environ.get(PIN_ENV)
    if pin is None:
        pin = getpass.getpass(f"PIN for {name}: ")
    return desk.sign_in_staff(name, pin)


def _client_payer(desk, email: str, staff: StaffSession | None) -> Payer:
    from models import Client

    client = Client.get_or_none(Client.email == email.strip().lower())
    if client is None:
        raise BillingError(f"No client with the email {email}.")
    if staff is not None:
        return desk.payer_for_client(staff, client.id)
    # Without --staff the operator of this command line acts for the client.
    return Payer(kind="client", client_id=client.id, client_name=client.name, email=client.email)


def _decimal(money: Money) -> str:
    return str(money.to_decimal())


def gateway_sentence(exc: GatewayError) -> str:
    """A gateway error that reached the command line, as one sentence a person can act on."""
    if isinstance(exc, OutcomeUnknown):
        return ("Stripe did not answer (it could not be reached, or timed out). Anything it "
                "may have done is checked by `paydesk reconcile` (also run whenever Paydesk "
                "starts), and nothing will be charged twice.")
    if isinstance(exc, GatewayMisconfigured):
        return f"{exc.message} `paydesk doctor` checks the set-up."
    if isinstance(exc, ReaderTimeout):
        return f"{exc.message} Nothing was charged."
    return exc.message


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _run(settings, body) -> int:
    try:
        services = _services(settings)
    except Exception as exc:  # noqa: BLE001 - a database or Stripe set-up problem
        return _err(f"cannot start: the database could not be opened or brought up to date "
                    f"({_one_line(exc)}). `paydesk doctor` checks the set-up.", NOT_DONE)
    try:
        return body(services.desk)
    except StripeUnavailable as exc:
        return _err(exc.message, NOT_DONE)
    except GatewayError as exc:
        return _err(gateway_sentence(exc), NOT_DONE)
    except SignInFailed as exc:
        return _err(exc.message, BAD_INPUT)
    except (BillingError, MoneyError) as exc:
        return _err(getattr(exc, "message", str(exc)), BAD_INPUT)
    finally:
        services.close()


def invoices(args, settings) -> int:
    def body(desk) -> int:
        payer = _client_payer(desk, args.client, None)
        rows = desk.payable_invoices(payer)
        locale = desk.firm().locale
        if args.json:
            print(json.dumps([{
                "number": i.number, "case": i.case_number, "case_title": i.case_title,
                "due_date": i.due_date.isoformat(), "total": _decimal(i.total),
                "total_minor": i.total.minor, "balance": _decimal(i.balance),
                "balance_minor": i.balance.minor, "currency": i.currency,
                "instalment_due": None if i.instalment_due is None else {
                    "amount": _decimal(i.instalment_due.amount),
                    "amount_minor": i.instalment_due.amount.minor,
                    "due_date": i.instalment_due.due_date.isoformat(),
                    "sequence": i.instalment_due.sequence, "of": i.instalment_due.of,
                    "overdue": i.instalment_due.overdue},
            } for i in rows], indent=2))
        else:
            for i in rows:
                due = (f"  instalment due {format_money(i.instalment_due.amount, locale)}"
                       if i.instalment_due else "")
                print(f"{i.number}  {i.case_number}  due {i.due_date}  "
                      f"{format_money(i.balance, locale)} of {format_money(i.total, locale)}{due}")
        return OK
    return _run(settings, body)


def _keyed(args) -> KeyedCard:
    if args.exp:
        month, _, year = args.exp.partition("/")
        if not (month.isdigit() and year.isdigit()):
            raise BillingError("--exp must be MM/YY.")
        exp_month, exp_year = int(month), int(year)
    else:
        exp_month, exp_year = 12, dt.datetime.now(dt.UTC).year + 5  # test cards: any future date
    return KeyedCard(args.card, exp_month, exp_year, args.cvc or "123")


def _card(desk, args, payer: Payer) -> CardChoice:
    if args.card is not None:
        return CardChoice(kind="keyed", keyed=_keyed(args))
    if args.saved_card is not None:
        cards = desk.saved_cards(payer)
        chosen = [c for c in cards if not args.saved_card or c.payment_method_id == args.saved_card]
        if not chosen:
            raise BillingError("The client has no such saved card.")
        return chosen[0]
    readers = desk.readers()
    reader = args.reader or (readers[0][0] if readers else "")
    if not reader:
        raise BillingError("No card reader is registered.")
    if desk.firm().test_mode:
        _tap_later(desk, reader, args.present)
    return CardChoice(kind="reader", reader_id=reader)


def _tap_later(desk, reader_id: str, number: str) -> None:
    """Test mode: tap the test card on the simulated reader once it is waiting."""
    def tap() -> None:
        for _ in range(40):
            threading.Event().wait(0.5)
            try:
                desk.present_test_card(reader_id, number)
                return
            except Exception:  # noqa: BLE001,S112 - the reader is not waiting yet
                continue
    threading.Thread(target=tap, daemon=True).start()


def _amounts(desk, payer: Payer, specs: list[str]) -> dict[int, Money]:
    page = {i.number.upper(): i for i in desk.payable_invoices(payer)}
    amounts: dict[int, Money] = {}
    for spec in specs:
        number, _, text = spec.partition("=")
        invoice = page.get(number.strip().upper())
        if invoice is None:
            raise BillingError(f"{number.strip()} is not payable by this payer.")
        try:
            amounts[invoice.invoice_id] = (desk.parse_amount(payer, invoice, text)
                                           if text.strip() else invoice.balance)
        except MoneyError as exc:
            raise AmountRejected(invoice.number, str(exc)) from None
    return amounts


def _print_checkout(result: CheckoutResult, locale: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({
            "checkout": result.checkout_id, "status": result.status, "message": result.message,
            "total": _decimal(result.total), "total_minor": result.total.minor,
            "currency": result.total.currency, "email_to": result.email_to,
            "transactions": [{
                "invoice_payment": t.invoice_payment_id, "invoice": t.invoice_number,
                "amount": _decimal(t.amount), "amount_minor": t.amount.minor,
                "status": t.status, "payment_intent": t.payment_intent_id,
                "reference": t.reference, "statement_descriptor": t.statement_descriptor,
                "failure": t.failure_message} for t in result.transactions],
        }, indent=2))
        return
    for t in result.transactions:
        print(f"{t.invoice_number}  {format_money(t.amount, locale)}  {t.status}  "
              f"{t.payment_intent_id or '-'}  {t.reference or '-'}")


def _checkout_status(result: CheckoutResult) -> int:
    if result.succeeded:
        return OK
    if result.status == "verifying":
        print(f"paydesk: checkout {result.checkout_id}: {PAYMENT_NOT_KNOWN}", file=sys.stderr)
        return VERIFYING
    print(f"paydesk: {result.message}", file=sys.stderr)
    return NOT_DONE


def pay(args, settings) -> int:
    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        if args.code:
            payer, invoice = desk.payer_for_code(args.code)
            amount = (desk.parse_amount(payer, invoice, args.amount) if args.amount
                      else invoice.balance)
            amounts = {invoice.invoice_id: amount}
        else:
            if not args.invoice:
                raise BillingError("Name at least one --invoice NUMBER[=AMOUNT].")
            payer = _client_payer(desk, args.client, staff)
            amounts = _amounts(desk, payer, args.invoice)
        result = desk.pay(payer, amounts, _card(desk, args, payer))
        _print_checkout(result, desk.firm().locale, args.json)
        return _checkout_status(result)
    return _run(settings, body)


def payments(args, settings) -> int:
    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        client_id = _client_payer(desk, args.client, staff).client_id if args.client else None
        rows = desk.payments(staff, client_id=client_id, checkout_id=args.checkout,
                             status=args.status, limit=args.limit)
        locale = desk.firm().locale
        if args.json:
            print(json.dumps([{
                "invoice_payment": r.invoice_payment_id, "checkout": r.checkout_id,
                "at": r.at.isoformat(), "client": r.client_name, "invoice": r.invoice_number,
                "case": r.case_number, "method": r.method, "card": r.card,
                "amount": _decimal(r.amount), "amount_minor": r.amount.minor,
                "refunded_minor": r.refunded.minor, "currency": r.amount.currency,
                "status": r.status, "reference": r.reference} for r in rows], indent=2))
        else:
            for r in rows:
                print(f"{r.invoice_payment_id}  checkout {r.checkout_id}  {r.invoice_number}  "
                      f"{format_money(r.amount, locale)}  refunded "
                      f"{format_money(r.refunded, locale)}  {r.status}  {r.card}  "
                      f"{r.reference or '-'}")
        return OK
    return _run(settings, body)


def refund(args, settings) -> int:
    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        currency = desk.firm().currency
        if args.checkout is not None:
            if args.amount:
                raise BillingError("--amount goes with --invoice-payment, not --checkout.")
            results = desk.refund_checkout(staff, args.checkout, args.reason)
        else:
            from models.money import parse_amount

            amount = parse_amount(args.amount, currency, desk.firm().locale) if args.amount else None
            results = [desk.refund(staff, args.invoice_payment, amount, args.reason)]
        locale = desk.firm().locale
        if args.json:
            print(json.dumps([{
                "refund": r.refund_id, "invoice_payment": r.invoice_payment_id,
                "invoice": r.invoice_number, "amount": _decimal(r.amount),
                "amount_minor": r.amount.minor, "status": r.status, "reference": r.reference,
                "message": r.message} for r in results], indent=2))
        else:
            for r in results:
                print(f"{r.invoice_number}  {format_money(r.amount, locale)}  {r.status}  "
                      f"{r.reference or '-'}")
        bad = [r for r in results if r.status != "succeeded"]
        for r in bad:
            message = r.message if r.status == "failed" else REFUND_NOT_KNOWN
            print(f"paydesk: {r.invoice_number}: {message}", file=sys.stderr)
        if any(r.status == "failed" for r in bad):
            return NOT_DONE
        return VERIFYING if bad else OK
    return _run(settings, body)


def offline_payment(args, settings) -> int:
    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        payer = _client_payer(desk, args.client, staff)
        invoices = {i.number.upper(): i for i in desk.shareable_invoices(staff, payer.client_id)}
        locale, currency = desk.firm().locale, desk.firm().currency
        amounts: dict[int, Money] = {}
        from models.money import parse_amount

        for spec in args.invoice:
            number, _, text = spec.partition("=")
            invoice = invoices.get(number.strip().upper())
            if invoice is None:
                raise BillingError(f"{number.strip()} is not an open invoice of this client.")
            amounts[invoice.invoice_id] = (parse_amount(text, currency, locale) if text.strip()
                                           else invoice.balance)
        result = desk.record_offline_payment(staff, payer.client_id, amounts, args.method,
                                             args.reference)
        _print_checkout(result, locale, args.json)
        return _checkout_status(result)
    return _run(settings, body)


def reconcile(args, settings) -> int:
    def body(desk) -> int:
        older = dt.timedelta(seconds=args.min_age) if args.min_age > 0 else None
        report = desk.reconcile(older_than=older)
        if args.json:
            print(json.dumps({"checkouts_settled": report.checkouts_settled,
                              "refunds_settled": report.refunds_settled,
                              "still_unknown": report.still_unknown,
                              "notes": list(report.notes)}, indent=2))
        else:
            print(f"settled {report.checkouts_settled} checkout(s) and "
                  f"{report.refunds_settled} refund(s); {report.still_unknown} still unknown")
            for note in report.notes:
                print(f"  {note}")
        if report.still_unknown:
            print(f"paydesk: {report.still_unknown} payment(s) or refund(s) are not settled "
                  "yet: Stripe did not answer, or has not decided. Run `paydesk reconcile` "
                  "again later; nothing will be charged or refunded twice.", file=sys.stderr)
            return VERIFYING
        return OK
    return _run(settings, body)
