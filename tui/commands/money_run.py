"""Running one money command: its exit statuses, the staff member's sign-in, the client it
acts for, and every failure turned into one sentence on standard error."""

from __future__ import annotations

import os
import sys

from billing.errors import BillingError, SignInFailed, StripeUnavailable
from billing.services import build_services
from billing.values import Payer, StaffSession
from gateway import GatewayError, GatewayMisconfigured, OutcomeUnknown, ReaderTimeout
from models.money import Money, MoneyError
from tui.commands.common import NoTerminal, ask_secret, database_problem
from tui.commands.doctor import startup_failure

PIN_ENV = "PAYDESK_STAFF_PIN"
OK, NOT_DONE, BAD_INPUT, VERIFYING = 0, 1, 2, 3


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
