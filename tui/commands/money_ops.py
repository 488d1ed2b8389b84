"""`paydesk invoices | pay | payments | refund | offline-payment | firm | reconcile`: the payment
engine without the screens, for scripts, support staff and automated checks.

Each handler builds Paydesk through `billing.services.build_services`, prints one line per
item (or JSON with `--json`) and returns the exit status: 0 when everything asked for
succeeded; 1 when a payment or refund did not go through (declined, failed); 2 for bad
input or a broken rule (nothing changed); 3 when an outcome is still being verified.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
from typing import Any

from billing.card_entry import keyed_card
from billing.errors import AmountRejected, BillingError, SignInFailed, StripeUnavailable
from billing.offline import DuplicateReference
from billing.services import build_services
from billing.values import CardChoice, CheckoutResult, Payer, StaffSession
from gateway import GatewayError, GatewayMisconfigured, KeyedCard, OutcomeUnknown, ReaderTimeout
from gateway.cards import payment_method_for_test_card
from models.money import Money, MoneyError, format_money
from tui.commands.common import NoTerminal, ask, ask_secret, database_problem
from tui.commands.doctor import startup_failure

PIN_ENV = "PAYDESK_STAFF_PIN"
OK, NOT_DONE, BAD_INPUT, VERIFYING = 0, 1, 2, 3
# What reconciliation does with a payment or refund whose answer was lost (billing.reconcile):
# it asks Stripe what happened, then finishes or releases it under the stored keys.
PAYMENT_NOT_KNOWN = (
    "the outcome is not known yet: Stripe did not answer in time. `paydesk reconcile` (also "
    "run whenever Paydesk starts) checks it with Stripe: each card hold is then either "
    "captured and recorded or released, and nothing will be charged twice. Do not pay "
    "these invoices again until they show as paid or not paid.")
STDIN_CARD = "--card - (one line on standard input: NUMBER MM/YY CVC)"
CARD_ARGUMENT_REFUSED = (
    "A card number given as an argument is visible to every user of this computer (ps) and "
    f"kept in the shell's history, so it is refused. Pass the card with {STDIN_CARD}, or give "
    "--card alone at a terminal to be asked for it. Only Stripe's published test card "
    "numbers may be given as an argument, and only in test mode.")
CVC_ARGUMENT_REFUSED = (
    "A CVC given as an argument is visible to every user of this computer (ps) and kept in "
    f"the shell's history, so it is refused. Pass the card with {STDIN_CARD}, or leave out "
    "--cvc at a terminal to be asked for it. Only with Stripe's published test card numbers, "
    "in test mode, may --cvc be an argument.")
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
    card.add_argument("--card", nargs="?", const="", metavar="-",
                      help="a card typed in: `--card -` reads one line NUMBER MM/YY CVC from "
                           "standard input; `--card` alone asks for it at a terminal, echo "
                           "off. A number as the argument only for Stripe's test cards in "
                           "test mode (anything else shows in `ps` and shell history)")
    card.add_argument("--saved-card", nargs="?", const="", metavar="PM_ID",
                      help="a card the client keeps on file (default: the newest)")
    card.add_argument("--reader", nargs="?", const="", metavar="READER_ID",
                      help="the card reader (default: the first)")
    p.add_argument("--keep-card", action="store_true",
                   help="with --card or --reader: the payer agreed to keep this card on file "
                        "for future payments (kept only if the payment succeeds)")
    p.add_argument("--exp", metavar="MM/YY", help="the card's expiry (asked for when missing)")
    p.add_argument("--cvc", metavar="NNN",
                   help="the security code: an argument only with Stripe's test cards in test "
                        "mode; otherwise on standard input with --card -, or asked for")
    p.add_argument("--postal-code", metavar="CODE", help="the postal code of the card's address")
    p.add_argument("--present", metavar="NUMBER", default="4242424242424242",
                   help="test mode, with --reader: the test card tapped on the reader")
    _common(p, staff=False, optional_staff=True)
    p.set_defaults(func=pay)

    p = sub.add_parser("payments", help="invoice payments (staff)")
    p.add_argument("--client", metavar="EMAIL")
    p.add_argument("--checkout", type=record_id, metavar="ID")
    p.add_argument("--status", metavar="STATUS")
    p.add_argument("--limit", type=int, default=200)
    _common(p, staff=True)
    p.set_defaults(func=payments)

    p = sub.add_parser("refund", help="refund an invoice payment or a whole checkout (staff)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--invoice-payment", type=record_id, metavar="ID")
    what.add_argument("--checkout", type=record_id, metavar="ID")
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
    p.add_argument("--allow-duplicate-reference", action="store_true",
                   help="record it even though the same reference is already recorded on "
                        "one of these invoices (a second payment with the same reference)")
    _common(p, staff=True)
    p.set_defaults(func=offline_payment)

    p = sub.add_parser("firm", help="the firm's time zone and the contact details printed on "
                                    "receipts and in emails (set: admin)")
    p.add_argument("--time-zone", metavar="NAME", help="an IANA name, e.g. America/New_York")
    p.add_argument("--address", action="append", metavar="LINE",
                   help="one line of the address; repeat for each line")
    p.add_argument("--phone", metavar="NUMBER")
    p.add_argument("--email", metavar="ADDRESS", help="also the sender of the firm's emails")
    _common(p, staff=True)
    p.set_defaults(func=firm_details)

    p = sub.add_parser("reconcile", help="settle unfinished checkouts and refunds with Stripe")
    p.add_argument("--min-age", type=seconds, default=0.0, metavar="SECONDS",
                   help="only those untouched for this long (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=reconcile)


def record_id(text: str) -> int:
    """A checkout's or invoice payment's number, as the payments list shows it."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number such as 17")
    return int(value)


def seconds(text: str) -> float:
    """A number of seconds from 0 to a year."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 366 * 86400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to "
                                         "31622400 (a year)")
    return value


def _common(p: argparse.ArgumentParser, *, staff: bool, optional_staff: bool = False) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    if staff or optional_staff:
        p.add_argument("--staff", required=staff, metavar="NAME",
                       help=f"staff name; the PIN comes from {PIN_ENV} or a prompt")


class InputError(BillingError):
    """What was typed on the command line cannot be used; nothing was done."""


def _err(message: str, status: int = BAD_INPUT) -> int:
    print(f"paydesk: {message}", file=sys.stderr)
    return status


def _services(settings):
    return build_services(settings)


def _staff(desk, name: str | None) -> StaffSession | None:
    if not name:
        return None
    return desk.sign_in_staff(name, staff_pin(name))


def staff_pin(name: str) -> str:
    """The PIN from PAYDESK_STAFF_PIN, else asked for at the terminal (echo off)."""
    pin = os.environ.get(PIN_ENV)
    if pin is not None:
        return pin
    try:
        return ask_secret(f"PIN for {name}: ")
    except NoTerminal:
        raise InputError(f"No PIN for {name}: set {PIN_ENV}, or run the command at a "
                         "terminal to be asked for it.") from None


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
    problem = database_problem(settings)
    if problem:
        return _err(problem, NOT_DONE)
    try:
        services = _services(settings)
    except Exception as exc:  # noqa: BLE001 - a database or Stripe set-up problem
        # Names the part that failed: the database, or the built-in Stripe sandbox.
        return _err(f"cannot start: {startup_failure(settings, exc)}", NOT_DONE)
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


def _stdin_line() -> str:
    stream = sys.stdin
    if stream is None or stream.closed:
        return ""
    try:
        return stream.readline()
    except (OSError, ValueError, UnicodeDecodeError):
        return ""


def _asked(prompt: str, *, secret: bool, missing: str) -> str:
    try:
        return ask_secret(prompt) if secret else ask(prompt)
    except NoTerminal:
        raise InputError(missing) from None


def typed_card(args, settings) -> KeyedCard | None:
    """The card given with --card, checked in full (number, expiry, CVC) before anything is
    opened or reserved; None when the card is not typed in. InputError for anything else."""
    if args.card is None:
        if args.exp is not None or args.cvc is not None or args.postal_code is not None:
            raise InputError("--exp, --cvc and --postal-code go with --card.")
        return None
    test_mode = settings.stripe.test_mode
    if args.card == "-":
        if args.exp is not None or args.cvc is not None:
            raise InputError("With --card -, the expiry and CVC come on the same line of "
                             "standard input: NUMBER MM/YY CVC.")
        parts = _stdin_line().split()
        if len(parts) < 3:
            raise InputError(f"{STDIN_CARD}: standard input had "
                             f"{'no card' if not parts else 'too little'} (e.g. "
                             "4242424242424242 12/30 123).")
        number, expiry, cvc = "".join(parts[:-2]), parts[-2], parts[-1]
        del parts
    else:
        number = args.card
        if number and not (test_mode and payment_method_for_test_card(number)):
            raise InputError(CARD_ARGUMENT_REFUSED)
        if not number:
            number = _asked("Card number: ", secret=True, missing=(
                f"No card number, and no terminal to ask for it: pass the card with "
                f"{STDIN_CARD}."))
        expiry = args.exp
        if expiry is None:
            expiry = _asked("Expiry (MM/YY): ", secret=False, missing=(
                f"The card's expiry is missing: give --exp MM/YY, or pass the card with "
                f"{STDIN_CARD}."))
        cvc = args.cvc
        if cvc is not None and not (test_mode and payment_method_for_test_card(number)):
            raise InputError(CVC_ARGUMENT_REFUSED)
        if cvc is None:
            cvc = _asked("CVC: ", secret=True, missing=(
                f"The card's CVC is missing: pass the card with {STDIN_CARD}"
                + (", or give --cvc with a Stripe test card in test mode." if test_mode
                   else ".")))
    return keyed_card(number, expiry, cvc, args.postal_code,
                      today=dt.datetime.now(dt.UTC).date())


def invoice_specs(specs: list[str]) -> list[tuple[str, str | None]]:
    """(invoice number, amount text or None for the balance) for each --invoice, refusing
    an invoice named twice and an empty or blank amount (an unset shell variable must not
    turn a part payment into the whole balance)."""
    seen: dict[str, str] = {}
    out: list[tuple[str, str | None]] = []
    for spec in specs:
        number, equals, text = spec.partition("=")
        number = number.strip()
        if not number:
            raise InputError(f"--invoice {spec!r}: name the invoice, as NUMBER or "
                             "NUMBER=AMOUNT.")
        key = number.upper()
        if key in seen:
            raise InputError(f"{number} is named twice (--invoice {seen[key]} and --invoice "
                             f"{spec}): name each invoice once, with the amount to pay on it.")
        seen[key] = spec
        if equals and not text.strip():
            raise InputError(f"--invoice {spec!r}: the amount after '=' is empty. Give an "
                             f"amount ({number}=AMOUNT), or leave out '=' to pay the whole "
                             "balance.")
        out.append((number, text if equals else None))
    return out


def blank_amount(flag: str, text: str | None, whole: str) -> None:
    if text is not None and not text.strip():
        raise InputError(f"{flag} is empty. Give an amount, or leave out {flag} for {whole}.")


def _card(desk, args, payer: Payer, keyed: KeyedCard | None) -> CardChoice:
    keep = bool(getattr(args, "keep_card", False))
    if keep and payer.kind != "staff":
        raise InputError("--keep-card records that the payer agreed to keep the card on file: "
                         "give --staff NAME, the staff member who heard them agree.")
    if keyed is not None:
        return CardChoice(kind="keyed", keyed=keyed, keep=keep)
    if args.saved_card is not None:
        if keep:
            raise BillingError("--keep-card goes with a new card (--card or --reader); a "
                               "saved card is already on file.")
        # Only cards kept on file with the payer's consent are listed.
        cards = desk.saved_cards(payer)
        if not cards:
            raise BillingError("The client has no card on file. Pay with --card or --reader "
                               "(add --keep-card if the payer agrees to keep it on file).")
        chosen = [c for c in cards if not args.saved_card or c.payment_method_id == args.saved_card]
        if not chosen:
            raise BillingError(f"{args.saved_card} is not one of the client's cards on file.")
        return chosen[0]
    readers = desk.readers()
    reader = args.reader or (readers[0][0] if readers else "")
    if not reader:
        raise BillingError("No card reader is registered.")
    if desk.firm().test_mode:
        _tap_later(desk, reader, args.present)
    return CardChoice(kind="reader", reader_id=reader, keep=keep)


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


def _amounts(desk, payer: Payer, specs: list[tuple[str, str | None]]) -> dict[int, Money]:
    page = {i.number.upper(): i for i in desk.payable_invoices(payer)}
    amounts: dict[int, Money] = {}
    for number, text in specs:
        invoice = page.get(number.upper())
        if invoice is None:
            raise BillingError(f"{number} is not payable by this payer.")
        try:
            amounts[invoice.invoice_id] = (desk.parse_amount(payer, invoice, text)
                                           if text is not None else invoice.balance)
        except MoneyError as exc:
            raise AmountRejected(invoice.number, str(exc)) from None
    return amounts


def _print_checkout(result: CheckoutResult, locale: str, as_json: bool, *,
                    show_client: bool = True) -> None:
    """`show_client` False (a payment-code holder): nothing of the client, their email
    included, as on the screen."""
    if as_json:
        print(json.dumps({
            "checkout": result.checkout_id, "status": result.status, "message": result.message,
            "total": _decimal(result.total), "total_minor": result.total.minor,
            "currency": result.total.currency,
            "email_to": result.email_to if show_client else None,
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
    # Everything typed is checked before the database is opened: bad input changes nothing.
    try:
        if args.code:
            if args.invoice:
                raise InputError("A payment code pays its own invoice: leave out --invoice "
                                 "(--amount sets the amount).")
            blank_amount("--amount", args.amount, "the whole balance")
        else:
            if args.amount is not None:
                raise InputError("--amount goes with --code; with --client give "
                                 "--invoice NUMBER=AMOUNT.")
            if not args.invoice:
                raise InputError("Name at least one --invoice NUMBER[=AMOUNT].")
        specs = invoice_specs(args.invoice)
        keyed = typed_card(args, settings)
    except BillingError as exc:
        return _err(exc.message)

    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        if args.code:
            payer, invoice = desk.payer_for_code(args.code)
            amount = (desk.parse_amount(payer, invoice, args.amount) if args.amount is not None
                      else invoice.balance)
            amounts = {invoice.invoice_id: amount}
        else:
            payer = _client_payer(desk, args.client, staff)
            amounts = _amounts(desk, payer, specs)
        result = desk.pay(payer, amounts, _card(desk, args, payer, keyed))
        _print_checkout(result, desk.firm().locale, args.json,
                        show_client=payer.kind != "code")
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
    try:
        blank_amount("--amount", args.amount, "all that is left")
        if args.checkout is not None and args.amount is not None:
            raise InputError("--amount goes with --invoice-payment, not --checkout.")
    except BillingError as exc:
        return _err(exc.message)

    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        currency = desk.firm().currency
        if args.checkout is not None:
            results = desk.refund_checkout(staff, args.checkout, args.reason)
        else:
            from models.money import parse_amount

            amount = (parse_amount(args.amount, currency, desk.firm().locale)
                      if args.amount is not None else None)
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


def firm_details(args, settings) -> int:
    """Show the firm's time zone and contact details; with any option, set them first."""
    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        changes = {"time_zone": args.time_zone, "phone": args.phone, "email": args.email,
                   "address": "\n".join(args.address) if args.address is not None else None}
        if any(value is not None for value in changes.values()):
            desk.set_firm_details(staff, **changes)
        from models import Firm

        firm = Firm.get(Firm.name == desk.firm().name)
        shown = {"name": firm.name, "time_zone": firm.time_zone, "address": firm.address,
                 "phone": firm.phone, "email": firm.email}
        if args.json:
            print(json.dumps(shown, indent=2))
        else:
            for key, value in shown.items():
                print(f"{key:<10} {value.replace(chr(10), ' / ') if value else '-'}")
        return OK
    return _run(settings, body)


def offline_payment(args, settings) -> int:
    try:
        specs = invoice_specs(args.invoice)
    except BillingError as exc:
        return _err(exc.message)

    def body(desk) -> int:
        staff = _staff(desk, args.staff)
        payer = _client_payer(desk, args.client, staff)
        invoices = {i.number.upper(): i for i in desk.shareable_invoices(staff, payer.client_id)}
        locale, currency = desk.firm().locale, desk.firm().currency
        amounts: dict[int, Money] = {}
        from models.money import parse_amount

        for number, text in specs:
            invoice = invoices.get(number.upper())
            if invoice is None:
                raise BillingError(f"{number} is not an open invoice of this client.")
            amounts[invoice.invoice_id] = (parse_amount(text, currency, locale)
                                           if text is not None else invoice.balance)
        try:
            result = desk.record_offline_payment(
                staff, payer.client_id, amounts, args.method, args.reference,
                allow_duplicate_reference=args.allow_duplicate_reference)
        except DuplicateReference as exc:
            raise InputError(f"{exc.message} If it is, add --allow-duplicate-reference.") \
                from None
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
