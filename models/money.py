"""Money as a value type: integer minor units plus an ISO currency code.

Parsing what a client types and formatting what they see both live here, so no other
module does arithmetic on floats or on formatted strings (DESIGN.md section 3).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache, total_ordering

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    is_currency,
    parse_decimal,
)


class MoneyError(ValueError):
    """A money value is invalid; the message is fit to show a client."""


class AmountError(MoneyError):
    """A typed or chosen amount cannot be paid; the message says what is wrong."""


# Stripe's exponents, not CLDR's: they disagree (ISK, IQD, LAK, ... are 0 in CLDR but
# two-decimal at Stripe), and Stripe is what charges the card.
# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())
_ISO_CODE = re.compile(r"[A-Z]{3}")

# A sanity cap on what a client can type: 9,999,999,999 minor units, i.e. 99,999,999.99 in
# a two-decimal currency. Stripe's own per-charge limits are lower and are the gateway's
# business; this only stops absurd input early.
MAX_MINOR = 9_999_999_999


def currency_exponent(currency: str) -> int:
    """Number of decimals Stripe uses for `currency` (0, 2 or 3).

    Raises MoneyError if `currency` is not an upper-case ISO code that Babel knows.
    """
    if not isinstance(currency, str):
        raise MoneyError(f"{currency!r} is not a currency code")
    return _checked_exponent(currency)


# Every Money checks its currency, and a payment page builds thousands: Babel is asked once
# per code. Only known codes are kept (a refusal raises, and no exception is cached),
# so the cache cannot grow past the few hundred ISO codes.
@cache
def _checked_exponent(currency: str) -> int:
    if not _ISO_CODE.fullmatch(currency):
        raise MoneyError(f"{currency!r} is not a currency code")
    if not is_currency(currency):
        raise MoneyError(f"{currency} is not a known currency")
    if currency in _ZERO_DECIMAL:
        return 0
    if currency in _THREE_DECIMAL:
        return 3
    return 2


@total_ordering  # from __lt__ and __eq__; a mixed-currency comparison raises in __lt__
@dataclass(frozen=True, order=False)
class Money:
    """An amount in a currency's minor unit (cents for USD, yen for JPY, fils for KWD)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True dollars is a bug, not an amount.
        if type(self.minor) is not int:
            raise TypeError(f"Money.minor must be an int, not {type(self.minor).__name__}")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in `currency`."""
        return cls(0, currency)

    @classmethod
    def sum_of(cls, items: Iterable[Money], currency: str) -> Money:
        """The total of `items`; zero in `currency` when empty. Mixed currencies raise."""
        total = cls.zero(currency)
        for item in items:
            total = total + item
        return total

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        """Exact conversion of a Decimal in major units (12.34 -> 1234 cents).

        Refuses floats, non-finite values and values that need more decimals than the
        currency has (Decimal("1.50") is fine for USD, Decimal("1.005") is not).
        """
        if not isinstance(value, Decimal):
            raise TypeError(f"from_decimal needs a Decimal, not {type(value).__name__}")
        exponent = currency_exponent(currency)
        if not value.is_finite():
            raise MoneyError("An amount must be a finite number")
        if value.adjusted() > 30:
            raise MoneyError("That amount is too large")
        minor = _to_minor(value, exponent)
        if minor is None:
            raise MoneyError(_decimals_message(currency, exponent))
        return cls(minor, currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, with exactly the currency's number of decimals."""
        return _major(self.minor, currency_exponent(self.currency))

    @property
    def is_zero(self) -> bool:
        # A property, not a method: `if m.is_zero()` then fails loudly instead of a bound
        # method silently being truthy.
        return self.minor == 0

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"Cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor < other.minor


sum_of = Money.sum_of


def _major(minor: int, exponent: int) -> Decimal:
    # Exact whatever the size: a string is parsed digit for digit, never rounded.
    return Decimal(f"{minor}e-{exponent}")


def _to_minor(value: Decimal, exponent: int) -> int | None:
    """Exact minor units of a finite Decimal, or None if it has too many decimals.

    Integer arithmetic on the digits: Decimal multiplication would round at the context's
    28 digits.
    """
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int)  # finite: the caller checked
    number = int("".join(map(str, digits)) or "0")
    shift = exp + exponent
    if shift >= 0:
        number *= 10**shift
    else:
        number, rest = divmod(number, 10**-shift)
        if rest:
            return None
    return -number if sign else number


def _decimals_message(currency: str, exponent: int) -> str:
    if exponent == 0:
        return f"Amounts have no decimals in {currency}"
    return f"Amounts have at most {exponent} decimals in {currency}"


# --- formatting ------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _locale(locale: str) -> Locale:
    """The parsed locale: Babel would parse the name again on every call given a string."""
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise MoneyError(f"{locale!r} is not a known locale") from exc


@lru_cache(maxsize=256)
def _pattern(locale: str, exponent: int, *, currency: bool) -> NumberPattern:
    """The locale's currency (or plain number) pattern, showing exactly `exponent` decimals.

    CLDR's currency digits differ from Stripe's for some currencies (ISK, IQD, ...), so the
    pattern's own precision is forced and `currency_digits=False` is passed when applying.
    """
    loc = _locale(locale)
    base = loc.currency_formats["standard"] if currency else loc.decimal_formats[None]
    pattern = copy.copy(base)
    pattern.frac_prec = (exponent, exponent)
    return pattern


def format_money(money: Money, locale: str) -> str:
    """The amount as the client sees it, e.g. "$1,250.00" (en_US) or "1.250,00 €" (de_DE).

    Always shows Stripe's number of decimals, so parse_amount reads it back exactly.
    """
    return _formatted(money.minor, money.currency, locale, symbol=True)


def format_amount_plain(money: Money, locale: str) -> str:
    """The number only, with the locale's separators ("1.250,00"): for an editable field."""
    return _formatted(money.minor, money.currency, locale, symbol=False)


# A payment page shows thousands of amounts, many of them more than once (balance, amount,
# totals), and redraws them as the payer sorts and types: each is formatted by Babel once.
@lru_cache(maxsize=16384)
def _formatted(minor: int, currency: str, locale: str, *, symbol: bool) -> str:
    exponent = currency_exponent(currency)
    pattern = _pattern(locale, exponent, currency=symbol)
    value = _major(minor, exponent)
    if symbol:
        return format_currency(value, currency, format=pattern, locale=_locale(locale),
                               currency_digits=False)
    return format_decimal(value, format=pattern, locale=_locale(locale))


# --- parsing ---------------------------------------------------------------------------

# Bidi marks: Babel puts U+200F/U+200E around Arabic amounts and symbols; invisible when
# pasted back, so they are dropped rather than refused.
_BIDI = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_SPACES = " \u00a0\u202f\u2009"
_MINUS = "-\u2212\u2012\u2013"
# Aliases people type that CLDR does not list for every locale.
_SYMBOL_ALIASES = {
    "JPY": ("¥", "￥", "円"), "USD": ("$", "US$"), "EUR": ("€",), "GBP": ("£",),
    "KWD": ("د.ك.", "د.ك", "KD"), "BHD": ("د.ب.", "د.ب", "BD"),
}  # fmt: skip
# Digits of a locale's native numbering system, when it is not Latin.
_NATIVE_DIGITS = {"arab": "٠١٢٣٤٥٦٧٨٩", "arabext": "۰۱۲۳۴۵۶۷۸۹"}
_MAX_TEXT = 100


@dataclass(frozen=True)
class _Grammar:
    """What a typed amount may contain in one locale and currency."""

    decimal: str
    group: str
    symbols: tuple[str, ...]  # longest first, so "US$" wins over "$"
    translate: dict[int, str]  # native digits, separators and aliases -> Latin forms
    allowed: frozenset[str]
    example: str


@lru_cache(maxsize=256)
def _grammar(locale: str, currency: str) -> _Grammar:
    loc = _locale(locale)
    decimal = get_decimal_symbol(loc)
    group = get_group_symbol(loc)
    symbols = {currency, get_currency_symbol(currency, loc), get_currency_symbol(currency, "en")}
    symbols.update(_SYMBOL_ALIASES.get(currency, ()))
    symbols = {s.translate(_BIDI).strip() for s in symbols}
    translate: dict[int, str] = {}
    # ar_KW: CLDR's default numbering system is "arab" (digits ٠-٩, decimal "٫", group
    # "٬"), but Babel formats and parses with Latin digits and "." / "," unless told
    # otherwise, and format_money shows that Latin form. A client may type either, so the
    # native digits and separators are translated to the Latin form before parsing.
    native = loc.default_numbering_system
    if native in _NATIVE_DIGITS:
        translate.update({ord(d): str(i) for i, d in enumerate(_NATIVE_DIGITS[native])})
        native_decimal = get_decimal_symbol(loc, numbering_system=native)
        native_group = get_group_symbol(loc, numbering_system=native)
        if native_decimal != decimal:
            translate[ord(native_decimal)] = decimal
        if native_group != group:
            translate[ord(native_group)] = group
    if group in _SPACES:
        # fr_FR groups with U+202F; people type a plain space or U+00A0.
        translate.update({ord(s): group for s in _SPACES})
    elif group == "\u2019":
        translate[ord("'")] = group  # de_CH: the apostrophe on the keyboard
    exponent = currency_exponent(currency)
    example = format_amount_plain(Money(1250 * 10**exponent, currency), locale)
    allowed = frozenset("0123456789.," + decimal + group)
    return _Grammar(
        decimal, group, tuple(sorted(symbols, key=len, reverse=True)), translate, allowed, example
    )


def _strip_symbol(text: str, grammar: _Grammar) -> str:
    """Remove one currency symbol or code typed before or after the number."""
    for symbol in grammar.symbols:
        n = len(symbol)
        if text[:n].upper() == symbol.upper():
            return text[n:].strip()
        if text[-n:].upper() == symbol.upper():
            return text[:-n].strip()
    return text


def _take_sign(text: str) -> tuple[str, str]:
    """Split a leading or trailing sign off `text`: (sign or "", rest)."""
    for end in (0, -1):
        if text and text[end] in _MINUS + "+":
            rest = text[1:] if end == 0 else text[:-1]
            return text[end], rest.strip()
    return "", text


def parse_amount(text: str, currency: str, locale: str) -> Money:
    """Read an amount a client typed, in `locale`'s way of writing numbers.

    Returns a positive Money of at most MAX_MINOR minor units. A currency symbol or code
    may be typed before or after the number. Anything else wrong raises AmountError with
    a message that says what is wrong.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_amount needs text, not {type(text).__name__}")
    exponent = currency_exponent(currency)
    grammar = _grammar(locale, currency)
    generic = AmountError(f"Enter an amount like {grammar.example}")
    if len(text) > _MAX_TEXT:
        raise generic
    text = text.translate(_BIDI).strip()
    sign, text = _take_sign(text)
    text = _strip_symbol(text, grammar)
    if not sign:
        sign, text = _take_sign(text)
    if sign and sign in _MINUS:
        raise AmountError("The amount must be more than zero")
    if sign:
        raise AmountError(f"Enter the amount without a + sign, like {grammar.example}")
    text = text.translate(grammar.translate)
    if not text or not set(text) <= grammar.allowed or not any(c.isdigit() for c in text):
        raise generic
    foreign = {".", ","} - {grammar.decimal, grammar.group}
    if foreign & set(text):
        raise _separator_error(grammar)
    try:
        value = parse_decimal(text, locale=_locale(locale), strict=True)
    except NumberFormatError as exc:
        raise _format_error(text, grammar, exc) from None
    minor = _to_minor(value, exponent)
    if minor is None or value.as_tuple().exponent < -exponent:  # "1.500" for USD too
        raise AmountError(_decimals_message(currency, exponent))
    if minor <= 0:
        raise AmountError("The amount must be more than zero")
    if minor > MAX_MINOR:
        raise AmountError("That amount is too large")
    return Money(minor, currency)


def _separator_error(grammar: _Grammar) -> AmountError:
    return AmountError(
        f'In this locale the decimal separator is "{grammar.decimal}": '
        f"enter an amount like {grammar.example}"
    )


def _format_error(text: str, grammar: _Grammar, exc: NumberFormatError) -> AmountError:
    """Say which separator is wrong when strict parsing refused `text`."""
    separators = [c for c in text if c in (grammar.decimal, grammar.group)]
    if not separators:
        return AmountError(f"Enter an amount like {grammar.example}")
    last = text.rfind(grammar.group)
    digits_after = len(text) - last - 1
    if (
        separators.count(grammar.group) == 1
        and separators[-1] == grammar.group
        and (digits_after != 3 or grammar.decimal in separators)
    ):
        # "30.00" in de_DE, "30,00" or "1.250,00" in en_US: the other convention.
        return _separator_error(grammar)
    if grammar.group not in separators:  # e.g. "1.2.3" in en_US
        return AmountError(f"Enter an amount like {grammar.example}")
    # Babel's suggestion is the same digits grouped properly: "12,34,567" in en_IN.
    suggestions = getattr(exc, "suggestions", None)
    hint = (
        f"did you mean {suggestions[0]}?"
        if suggestions
        else f"enter an amount like {grammar.example}"
    )
    return AmountError(f'The "{grammar.group}" separators are in the wrong places: {hint}')


# --- checks ----------------------------------------------------------------------------

# Stripe's documented minimum charge amounts, in minor units.
# https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
_STRIPE_MINIMUM = {
    "USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50,
    "CZK": 1500, "DKK": 250, "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17500, "INR": 50,
    "JPY": 50, "MXN": 1000, "MYR": 200, "NOK": 300, "NZD": 50, "PLN": 200, "RON": 200,
    "SEK": 300, "SGD": 50, "THB": 1000,
}  # fmt: skip
# Stripe lists no minimum for other presentment currencies: it converts to the settlement
# currency and applies that currency's minimum, which we cannot know without an exchange
# rate. 50 minor units is only a floor that catches obvious slips; Stripe still has the
# last word, and the gateway reports its refusal as an invalid amount.
_DEFAULT_MINIMUM = 50


def stripe_minimum_charge(currency: str) -> Money:
    """The smallest card charge Stripe accepts in `currency` (see _DEFAULT_MINIMUM)."""
    return Money(_STRIPE_MINIMUM.get(currency, _DEFAULT_MINIMUM), currency)


def check_amount(
    amount: Money, *, balance: Money, minimum: Money | None = None, locale: str
) -> None:
    """Raise AmountError unless 0 < amount <= balance and amount >= minimum (if given).

    Mixed currencies raise MoneyError. Messages name the balance or minimum, formatted.
    """
    if amount.minor <= 0:
        raise AmountError("The amount must be more than zero")
    if amount > balance:
        raise AmountError(f"That is more than the balance of {format_money(balance, locale)}")
    if minimum is not None and amount < minimum:
        raise AmountError(f"The smallest card payment is {format_money(minimum, locale)}")
