"""`paydesk receipt REFERENCE --staff NAME [--pdf FILE]` and `paydesk outbox send`.

A receipt names the client and what was paid, and receipt numbers follow one another, so
reading one needs a staff sign-in (the PIN from PAYDESK_STAFF_PIN or asked for), as
`paydesk payments` does; a client reads their own receipts in their session.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billing.desk import Desk
from billing.errors import BillingError
from billing.outbox import deliver_due
from billing.receipts import write_new_file
from models import bind, open_database
from models.db import DatabaseUrlError
from models.schema import upgrade
from tui.commands.common import database_problem


def register(sub: argparse._SubParsersAction) -> None:
    receipt = sub.add_parser(
        "receipt", help="print a receipt (R-000123 for a payment, RF-000007 for a refund)"
    )
    receipt.add_argument("reference", metavar="REFERENCE", help="the receipt number")
    receipt.add_argument("--pdf", metavar="FILE", help="write the receipt as PDF to FILE")
    receipt.add_argument("--staff", required=True, metavar="NAME",
                         help="staff name; the PIN comes from PAYDESK_STAFF_PIN or a prompt")
    receipt.set_defaults(func=_receipt)

    outbox = sub.add_parser("outbox", help="the confirmation emails waiting to be delivered")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    outbox_sub.required = True
    send = outbox_sub.add_parser(
        "send", help="deliver the emails that are due (SMTP when configured, else .eml files)"
    )
    send.set_defaults(func=_send)

    # `--db` is also accepted after the command, as in `paydesk receipt R-000001 --db URL`.
    for parser in (receipt, send):
        parser.add_argument("--db", dest="db_after", metavar="URL", help=argparse.SUPPRESS)
        parser.set_defaults(
            setting_overrides=lambda a: {"database.url": getattr(a, "db_after", None)}
        )


def _fail(message: str, status: int = 1) -> int:
    print(f"paydesk: {message}", file=sys.stderr)
    return status


def _open(settings):
    """The firm's database, checked first: never created here, and one without Paydesk's
    schema is named (`paydesk db upgrade`)."""
    problem = database_problem(settings)
    if problem:
        print(f"paydesk: {problem}", file=sys.stderr)
        return None
    try:
        db = bind(open_database(settings.database_url))
    except DatabaseUrlError as exc:
        print(f"paydesk: database.url: {exc}", file=sys.stderr)
        return None
    upgrade(db)
    return db


def _receipt(args, settings) -> int:
    from tui.commands.money_run import staff_pin

    db = _open(settings)
    if db is None:
        return 1
    try:
        pin = staff_pin(args.staff)
    except BillingError as exc:
        db.close()
        return _fail(exc.message, 2)
    desk = Desk(settings, gateway=None)
    try:
        with db.connection_context():
            desk.sign_in_staff(args.staff, pin)
            if args.pdf:
                data = desk.receipt_pdf(args.reference)
            else:
                text = desk.receipt_text(args.reference)
    except BillingError as exc:
        return _fail(exc.message, 2)
    if not args.pdf:
        sys.stdout.write(text)
        return 0
    try:
        # A file already there is never overwritten: the receipt goes beside it.
        target = write_new_file(Path(args.pdf), data)
    except OSError as exc:
        return _fail(f"cannot write {args.pdf}: {exc.strerror or exc}")
    print(f"wrote receipt {args.reference.strip().upper()} to {target}")
    return 0


def _send(args, settings) -> int:
    db = _open(settings)
    if db is None:
        return 1
    try:
        with db.connection_context():
            report = deliver_due(settings.smtp, settings.outbox_dir)
    except BillingError as exc:
        return _fail(exc.message)
    smtp = settings.smtp
    where = f"SMTP {smtp.host}:{smtp.port}" if smtp.enabled else f".eml files in {settings.outbox_dir}"
    print(f"sent {report.sent}, failed {report.failed}, still queued {report.still_queued} ({where})")
    for error in report.errors:
        print(f"paydesk: {error}", file=sys.stderr)
    if report.failed:
        return _fail("some emails could not be delivered; they stay queued and will be retried")
    return 0
