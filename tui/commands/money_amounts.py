"""The invoices named on the command line and the amount to pay on each."""

from __future__ import annotations

from billing.errors import AmountRejected, BillingError
from billing.values import Payer
from models.money import Money, MoneyError
from tui.commands.money_run import InputError


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
