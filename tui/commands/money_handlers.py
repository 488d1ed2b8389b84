"""The handlers of `paydesk invoices | pay | payments | refund | offline-payment | firm |
reconcile`: each runs Paydesk's desk, prints one line per item (or JSON with `--json`) and
returns the exit status."""

from __future__ import annotations

import datetime as dt
import json
import sys

from billing.errors import BillingError
from billing.offline import DuplicateReference
from billing.values import CheckoutResult
from models.money import Money, format_money
from tui.commands.card_input import _card, typed_card
from tui.commands.money_amounts import _amounts, blank_amount, invoice_specs
from tui.commands.money_run import (
    NOT_DONE,
    OK,
    VERIFYING,
    InputError,
    _client_payer,
    _decimal,
    _err,
    _run,
    _staff,
)

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
