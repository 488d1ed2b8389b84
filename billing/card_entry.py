"""One check of a card typed in (number, expiry, CVC), shared by the screens, the command
line and `Desk.pay`, made before anything is reserved or written.

Nothing here keeps or logs a number or CVC: functions take them, answer, and forget them.
Only ASCII digits count as digits: `١٢٣` is not a CVC.

Which ways of giving a card a terminal offers (`offered_ways`) is decided here too.
"""

from __future__ import annotations

import datetime as dt

from billing.config import Settings, StripeSettings
from billing.errors import BillingError
from gateway.cards import INVALID_NUMBER_MESSAGE, KeyedCard, brand_of, check_number, normalise
from gateway.errors import CardNumberInvalid

_DIGITS = frozenset("0123456789")
# How far ahead an expiry may be; cards are issued for a few years, never 25.
MAX_YEARS_AHEAD = 25


# The front desk's ways, in the order of its tabs (the kiosk's are kiosk.card_entry).
DESK_WAYS = ("keyed", "reader", "phone")


def keyed_entry_allowed(stripe: StripeSettings) -> bool:
    """A typed card number can be sent: always in test mode (Stripe's test cards), in live
    mode only with the account's raw-card-data access (else Stripe refuses the number, and
    the terminal would be taking card numbers outside the simple PCI self-assessment)."""
    return stripe.test_mode or stripe.raw_card_data_access


def offered_ways(settings: Settings, mode: str) -> tuple[str, ...]:
    """How a card may be given at a terminal in `mode`, in tab order: the kiosk's
    kiosk.card_entry, the front desk's (and the demo's) every way; keyed entry only where
    `keyed_entry_allowed`. A saved card is not a way of entering one: it is offered apart."""
    listed = settings.kiosk.card_entry if mode == "kiosk" else DESK_WAYS
    keyed = keyed_entry_allowed(settings.stripe)
    return tuple(way for way in listed if way != "keyed" or keyed)


class CardEntryError(BillingError):
    """A typed card is incomplete or not valid; `field` names what to correct
    ("number", "expiry" or "cvc"). Nothing was reserved, written or sent."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def ascii_digits(text: str) -> bool:
    return bool(text) and all(ch in _DIGITS for ch in text)


def parse_expiry(text: str, year_now: int) -> tuple[int, int]:
    """(month, four-digit year) from "MM/YY", "MMYY" or "MM/YYYY"; CardEntryError with the
    reason otherwise."""
    compact = "".join(ch for ch in text if ch not in " /-")
    if not compact:
        raise CardEntryError("Enter the card's expiry date as MM/YY, e.g. 12/29.", "expiry")
    if not ascii_digits(compact) or len(compact) not in (4, 6):
        raise CardEntryError("Type the expiry as MM/YY, e.g. 12/29.", "expiry")
    month = int(compact[:2])
    year = 2000 + int(compact[2:]) if len(compact) == 4 else int(compact[2:])
    if not 1 <= month <= 12:
        raise CardEntryError("The expiry month must be 01 to 12.", "expiry")
    if year > year_now + MAX_YEARS_AHEAD:
        raise CardEntryError("That expiry year is too far ahead.", "expiry")
    return month, year


def cvc_length(number: str) -> int:
    """4 digits on American Express cards, 3 on the others."""
    return 4 if brand_of(number) == "amex" else 3


def check_keyed_card(card: KeyedCard, *, today: dt.date) -> None:
    """Raise CardEntryError unless the number, expiry and CVC are all valid."""
    if not normalise(card.number or ""):
        raise CardEntryError("Enter the card number.", "number")
    try:
        check_number(card.number)
    except CardNumberInvalid:
        raise CardEntryError(INVALID_NUMBER_MESSAGE, "number") from None
    if not 1 <= card.exp_month <= 12:
        raise CardEntryError("The expiry month must be 01 to 12.", "expiry")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise CardEntryError("That card has expired.", "expiry")
    if card.exp_year > today.year + MAX_YEARS_AHEAD:
        raise CardEntryError("That expiry year is too far ahead.", "expiry")
    wanted = cvc_length(card.number)
    if not card.cvc:
        raise CardEntryError(f"Enter the CVC: the {wanted} digits on the card.", "cvc")
    if not ascii_digits(card.cvc) or len(card.cvc) != wanted:
        raise CardEntryError(f"The CVC is the {wanted} digits on the card.", "cvc")


def keyed_card(number: str, expiry: str, cvc: str, postal_code: str | None = None, *,
               today: dt.date) -> KeyedCard:
    """A checked KeyedCard from what was typed, or CardEntryError naming what to correct."""
    digits = normalise(number or "")
    if not digits:
        raise CardEntryError("Enter the card number.", "number")
    try:
        digits = check_number(digits)
    except CardNumberInvalid:
        raise CardEntryError(INVALID_NUMBER_MESSAGE, "number") from None
    month, year = parse_expiry(expiry or "", today.year)
    card = KeyedCard(number=digits, exp_month=month, exp_year=year, cvc=(cvc or "").strip(),
                     postal_code=(postal_code or "").strip() or None)
    check_keyed_card(card, today=today)
    return card
