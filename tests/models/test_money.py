"""Money: exponents, arithmetic, parsing what a client types, formatting what they see."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import models.money as money_module
from models.money import (
    MAX_MINOR,
    AmountError,
    Money,
    MoneyError,
    check_amount,
    currency_exponent,
    format_amount_plain,
    format_money,
    parse_amount,
    stripe_minimum_charge,
    sum_of,
)

LOCALES = ["en_US", "de_DE", "fr_FR", "ja_JP", "ar_KW", "de_CH", "en_IN", "pt_BR"]
CURRENCIES = ["JPY", "USD", "EUR", "KWD", "BHD"]
NNBSP, NBSP, RLM = "\u202f", "\u00a0", "\u200f"

# Babel is slow on a locale's first use; Hypothesis must not count that as a timeout.
# A decorator, not a loaded profile: a profile would change every other module's tests.
money_settings = settings(deadline=None, max_examples=150)


# --- exponents and the value type --------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("JPY", 0), ("KRW", 0), ("UGX", 0), ("XOF", 0),
        ("USD", 2), ("EUR", 2), ("ISK", 2), ("IQD", 2), ("HUF", 2),  # CLDR says 0 for ISK/IQD
        ("KWD", 3), ("BHD", 3), ("TND", 3),
    ],
)  # fmt: skip
def test_currency_exponent_follows_stripe_not_cldr(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("code", ["usd", "US", "USDD", "", "U$D", "XYZ", "QQQ", None, 840])
def test_currency_exponent_refuses_codes_that_are_not_known_iso_codes(code: object) -> None:
    with pytest.raises(MoneyError):
        currency_exponent(code)  # type: ignore[arg-type]


@pytest.mark.parametrize("minor", [1.5, 1.0, True, Decimal("1"), "100", None])
def test_money_refuses_anything_but_an_int_for_minor_units(minor: object) -> None:
    with pytest.raises(TypeError):
        Money(minor, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["usd", "Usd", "XYZ", ""])
def test_money_refuses_an_unknown_or_lower_case_currency(currency: str) -> None:
    with pytest.raises(MoneyError):
        Money(100, currency)


def test_money_is_frozen_and_hashable() -> None:
    money = Money(100, "USD")
    with pytest.raises(AttributeError):
        money.minor = 5  # type: ignore[misc]
    assert {money, Money(100, "USD")} == {Money(100, "USD")}


def test_money_adds_subtracts_and_compares_within_a_currency() -> None:
    a, b = Money(1050, "USD"), Money(50, "USD")
    assert a + b == Money(1100, "USD")
    assert a - b == Money(1000, "USD")
    assert b - a == Money(-1000, "USD")
    assert b < a and b <= a and a > b and a >= b and a >= Money(1050, "USD")
    assert Money.zero("JPY") == Money(0, "JPY") and Money.zero("JPY").is_zero
    assert not a.is_zero


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_money_refuses_to_mix_currencies(operation) -> None:
    with pytest.raises(MoneyError, match="Cannot combine USD and EUR"):
        operation(Money(100, "USD"), Money(100, "EUR"))


def test_different_currencies_are_never_equal() -> None:
    assert Money(100, "USD") != Money(100, "EUR")


@pytest.mark.parametrize("other", [1, 1.0, Decimal("1")])
def test_money_does_not_add_or_compare_with_bare_numbers(other: object) -> None:
    with pytest.raises(TypeError):
        Money(100, "USD") + other  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Money(100, "USD") < other  # type: ignore[operator]


def test_sum_of_totals_one_currency_and_is_zero_when_empty() -> None:
    items = [Money(100, "EUR"), Money(250, "EUR"), Money(1, "EUR")]
    assert sum_of(items, "EUR") == Money(351, "EUR")
    assert Money.sum_of(iter(items), "EUR") == Money(351, "EUR")
    assert sum_of([], "KWD") == Money(0, "KWD")
    with pytest.raises(MoneyError):
        sum_of([Money(100, "EUR"), Money(100, "USD")], "EUR")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(125000, "USD"), "1250.00"),
        (Money(5, "USD"), "0.05"),
        (Money(-5, "USD"), "-0.05"),
        (Money(1250, "JPY"), "1250"),
        (Money(5, "KWD"), "0.005"),
        (Money(0, "BHD"), "0.000"),
    ],
)
def test_to_decimal_has_exactly_the_currency_decimals(money: Money, text: str) -> None:
    value = money.to_decimal()
    assert isinstance(value, Decimal)
    assert str(value) == text


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        (Decimal("12.34"), "USD", 1234),
        (Decimal("1.50"), "USD", 150),
        (Decimal("1.500"), "USD", 150),  # same value; not typed text
        (Decimal("100"), "JPY", 100),
        (Decimal("100.0"), "JPY", 100),
        (Decimal("12.345"), "KWD", 12345),
        (Decimal("-0.01"), "EUR", -1),
        (Decimal("1E+3"), "USD", 100000),
    ],
)
def test_from_decimal_is_exact(value: Decimal, currency: str, minor: int) -> None:
    assert Money.from_decimal(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        (Decimal("1.005"), "USD", "Amounts have at most 2 decimals in USD"),
        (Decimal("100.5"), "JPY", "Amounts have no decimals in JPY"),
        (Decimal("1.0001"), "KWD", "Amounts have at most 3 decimals in KWD"),
        (Decimal("NaN"), "USD", "finite"),
        (Decimal("Infinity"), "USD", "finite"),
        (Decimal("1E+40"), "USD", "too large"),
    ],
)
def test_from_decimal_refuses_values_the_currency_cannot_hold(
    value: Decimal, currency: str, message: str
) -> None:
    with pytest.raises(MoneyError, match=message):
        Money.from_decimal(value, currency)


@pytest.mark.parametrize("value", [1.5, 1, "1.50", None])
def test_from_decimal_refuses_floats_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        Money.from_decimal(value, "USD")  # type: ignore[arg-type]


# --- parsing: good forms -----------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "currency", "text", "minor"),
    [
        ("en_US", "USD", "1,250.00", 125000),
        ("en_US", "USD", "1250", 125000),
        ("en_US", "USD", "0.5", 50),
        ("en_US", "USD", "830.50", 83050),
        ("en_US", "USD", "  830.50\t", 83050),
        ("en_US", "USD", "$1,250.00", 125000),
        ("en_US", "USD", "$ 12", 1200),
        ("en_US", "USD", "USD 12", 1200),
        ("en_US", "USD", "12 usd", 1200),
        ("en_US", "USD", "99,999,999.99", MAX_MINOR),
        ("de_DE", "EUR", "1.250,00", 125000),
        ("de_DE", "EUR", "30,00", 3000),
        ("de_DE", "EUR", "30", 3000),
        ("de_DE", "EUR", "1.250,00 €", 125000),
        ("de_DE", "EUR", "1.500", 150000),  # a German thousands point, not 1.5
        ("fr_FR", "EUR", f"1{NNBSP}250,00", 125000),
        ("fr_FR", "EUR", f"1{NBSP}250,00", 125000),
        ("fr_FR", "EUR", "1 250,00", 125000),
        ("fr_FR", "EUR", f"1 250,00{NBSP}€", 125000),
        ("ja_JP", "JPY", "1,250", 1250),
        ("ja_JP", "JPY", "¥1,250", 1250),
        ("ja_JP", "JPY", "￥1,250", 1250),
        ("ja_JP", "JPY", "1250円", 1250),
        ("ar_KW", "KWD", "12.345", 12345),
        ("ar_KW", "KWD", "1,234.567", 1234567),
        ("ar_KW", "KWD", "١٢٫٣٤٥", 12345),  # Arabic-Indic digits, Arabic separators
        ("ar_KW", "KWD", "١٬٢٣٤٫٥٦٧", 1234567),
        ("ar_KW", "KWD", "12.345 د.ك.", 12345),
        ("ar_KW", "KWD", f"{RLM}12.345{NBSP}د.ك.{RLM}", 12345),
        ("ar_KW", "KWD", "KWD 12.3", 12300),
        ("de_CH", "CHF", "1'250.50", 125050),
        ("de_CH", "CHF", "1’250.50", 125050),
        ("en_IN", "USD", "12,34,567.89", 123456789),
    ],
)
def test_parse_amount_reads_good_forms_exactly(
    locale: str, currency: str, text: str, minor: int
) -> None:
    assert parse_amount(text, currency, locale) == Money(minor, currency)


# --- parsing: bad forms, each with a message that says what is wrong ----------------

ENTER_US = "Enter an amount like 1,250.00"
POSITIVE = "The amount must be more than zero"
DECIMAL_COMMA = 'In this locale the decimal separator is ","'
DECIMAL_POINT = 'In this locale the decimal separator is "."'


@pytest.mark.parametrize(
    ("locale", "currency", "text", "message"),
    [
        ("en_US", "USD", "", ENTER_US),
        ("en_US", "USD", "   ", ENTER_US),
        ("en_US", "USD", "$", ENTER_US),
        ("en_US", "USD", "NaN", ENTER_US),
        ("en_US", "USD", "nan", ENTER_US),
        ("en_US", "USD", "Infinity", ENTER_US),
        ("en_US", "USD", "inf", ENTER_US),
        ("en_US", "USD", "1E3", ENTER_US),
        ("en_US", "USD", "1e3", ENTER_US),
        ("en_US", "USD", "1_000", ENTER_US),
        ("en_US", "USD", "0x10", ENTER_US),
        ("en_US", "USD", "twelve", ENTER_US),
        ("en_US", "USD", "12 dollars", ENTER_US),
        ("en_US", "USD", "€12", ENTER_US),  # another currency's symbol
        ("en_US", "USD", "$12$", ENTER_US),
        ("en_US", "USD", "1 250", ENTER_US),
        ("en_US", "USD", "1.2.3", ENTER_US),
        ("en_US", "USD", "١٢", ENTER_US),  # Arabic digits mean nothing in en_US
        ("en_US", "USD", "1" * 101, ENTER_US),
        ("en_US", "USD", "-5", POSITIVE),
        ("en_US", "USD", "−5", POSITIVE),  # U+2212 minus
        ("en_US", "USD", "-$5", POSITIVE),
        ("en_US", "USD", "$-5", POSITIVE),
        ("en_US", "USD", "5-", POSITIVE),
        ("en_US", "USD", "+5", "Enter the amount without a + sign, like 1,250.00"),
        ("en_US", "USD", "0", POSITIVE),
        ("en_US", "USD", "0.00", POSITIVE),
        ("en_US", "USD", "$0", POSITIVE),
        ("en_US", "USD", "1.001", "Amounts have at most 2 decimals in USD"),
        ("en_US", "USD", "1.500", "Amounts have at most 2 decimals in USD"),
        ("en_US", "USD", "0.001", "Amounts have at most 2 decimals in USD"),
        ("en_US", "USD", "100000000", "That amount is too large"),
        ("en_US", "USD", "99,999,999.991", "Amounts have at most 2 decimals in USD"),
        ("en_US", "USD", "1,2,3", 'The "," separators are in the wrong places: did you mean 123?'),
        ("en_US", "USD", "30,00", DECIMAL_POINT),
        ("en_US", "USD", "1.250,00", DECIMAL_POINT),
        ("en_US", "USD", "1250,5", DECIMAL_POINT),
        ("de_DE", "EUR", "30.00", DECIMAL_COMMA),
        ("de_DE", "EUR", "1,250.00", DECIMAL_COMMA),
        ("de_DE", "EUR", "1.5", DECIMAL_COMMA),
        ("de_DE", "EUR", "1250.500", 'The "." separators are in the wrong places: did you mean 1.250.500?'),
        ("de_DE", "EUR", "-30,00", POSITIVE),
        ("de_DE", "EUR", "1,001", "Amounts have at most 2 decimals in EUR"),
        ("de_DE", "EUR", "abc", "Enter an amount like 1.250,00"),
        ("fr_FR", "EUR", "30.00", DECIMAL_COMMA),
        ("fr_FR", "EUR", "1 2 3,00", 'The "\u202f" separators are in the wrong places'),
        ("de_CH", "CHF", "30,00", DECIMAL_POINT),
        ("ja_JP", "JPY", "1250.5", "Amounts have no decimals in JPY"),
        ("ja_JP", "JPY", "100.5", "Amounts have no decimals in JPY"),
        ("ja_JP", "JPY", "¥1,250.0", "Amounts have no decimals in JPY"),
        ("ja_JP", "JPY", "abc", "Enter an amount like 1,250"),
        ("ar_KW", "KWD", "1.0001", "Amounts have at most 3 decimals in KWD"),
        ("ar_KW", "KWD", "١٫٠٠٠١", "Amounts have at most 3 decimals in KWD"),
        ("ar_KW", "KWD", "abc", "Enter an amount like 1,250.000"),
        ("en_IN", "USD", "1,234,567", "separators are in the wrong places: did you mean 12,34,567?"),
    ],
)  # fmt: skip
def test_parse_amount_refuses_bad_forms_and_says_why(
    locale: str, currency: str, text: str, message: str
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, currency, locale)
    assert message in str(caught.value)


def test_parse_amount_refuses_a_float_instead_of_text() -> None:
    with pytest.raises(TypeError):
        parse_amount(12.5, "USD", "en_US")  # type: ignore[arg-type]


def test_parse_amount_refuses_an_unknown_locale() -> None:
    with pytest.raises(MoneyError):
        parse_amount("12", "USD", "xx_NOPE")


# --- formatting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "locale", "shown", "plain"),
    [
        (Money(125000, "USD"), "en_US", "$1,250.00", "1,250.00"),
        (Money(125000, "EUR"), "de_DE", f"1.250,00{NBSP}€", "1.250,00"),
        (Money(125000, "EUR"), "fr_FR", f"1{NNBSP}250,00{NBSP}€", f"1{NNBSP}250,00"),
        (Money(1250, "JPY"), "ja_JP", "￥1,250", "1,250"),
        (Money(1250, "KWD"), "ar_KW", f"{RLM}1.250{NBSP}د.ك.{RLM}", "1.250"),
        (Money(5, "USD"), "en_US", "$0.05", "0.05"),
        # CLDR gives ISK no decimals; Stripe gives it two, and Stripe's count is shown.
        (Money(125000, "ISK"), "en_US", "ISK1,250.00", "1,250.00"),
    ],
)
def test_format_money_shows_stripe_decimals_in_the_locale(
    money: Money, locale: str, shown: str, plain: str
) -> None:
    assert format_money(money, locale) == shown
    assert format_amount_plain(money, locale) == plain


# --- checks against the balance and Stripe's minimum --------------------------------


def test_check_amount_accepts_an_amount_between_minimum_and_balance() -> None:
    balance = Money(83050, "USD")
    minimum = stripe_minimum_charge("USD")
    assert check_amount(balance, balance=balance, minimum=minimum, locale="en_US") is None
    assert check_amount(minimum, balance=balance, minimum=minimum, locale="en_US") is None


@pytest.mark.parametrize(
    ("amount", "minimum", "locale", "message"),
    [
        (Money(0, "USD"), None, "en_US", "The amount must be more than zero"),
        (Money(-100, "USD"), None, "en_US", "The amount must be more than zero"),
        (Money(83051, "USD"), None, "en_US", "That is more than the balance of $830.50"),
        (Money(83051, "USD"), None, "de_DE", f"That is more than the balance of 830,50{NBSP}$"),
        (Money(49, "USD"), Money(50, "USD"), "en_US", "The smallest card payment is $0.50"),
        (Money(1, "USD"), Money(50, "USD"), "de_DE", f"The smallest card payment is 0,50{NBSP}$"),
    ],
)
def test_check_amount_refuses_and_names_the_limit(
    amount: Money, minimum: Money | None, locale: str, message: str
) -> None:
    with pytest.raises(AmountError) as caught:
        check_amount(amount, balance=Money(83050, "USD"), minimum=minimum, locale=locale)
    assert str(caught.value) == message


def test_check_amount_refuses_a_different_currency_from_the_balance() -> None:
    with pytest.raises(MoneyError):
        check_amount(Money(100, "EUR"), balance=Money(83050, "USD"), locale="en_US")


@pytest.mark.parametrize(
    ("currency", "minor"),
    [("USD", 50), ("EUR", 50), ("GBP", 30), ("JPY", 50), ("CAD", 50), ("AUD", 50),
     ("CHF", 50), ("HUF", 17500), ("MXN", 1000), ("KWD", 50), ("ISK", 50)],
)  # fmt: skip
def test_stripe_minimum_charge_per_currency_with_a_default(currency: str, minor: int) -> None:
    assert stripe_minimum_charge(currency) == Money(minor, currency)


# --- properties --------------------------------------------------------------------

amounts = st.one_of(st.integers(1, 10_000), st.integers(1, MAX_MINOR))


@money_settings
@given(minor=amounts, currency=st.sampled_from(CURRENCIES), locale=st.sampled_from(LOCALES))
def test_what_is_shown_parses_back_to_the_same_money(minor: int, currency: str, locale: str):
    money = Money(minor, currency)
    assert parse_amount(format_money(money, locale), currency, locale) == money
    assert parse_amount(format_amount_plain(money, locale), currency, locale) == money


@money_settings
@given(minor=st.integers(-MAX_MINOR, MAX_MINOR), currency=st.sampled_from(CURRENCIES))
def test_to_decimal_and_from_decimal_round_trip(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.from_decimal(money.to_decimal(), currency) == money


money_pairs = st.sampled_from(CURRENCIES).flatmap(
    lambda cur: st.tuples(*[st.builds(Money, st.integers(-(10**15), 10**15), st.just(cur))] * 3)
)


@money_settings
@given(money_pairs)
def test_money_arithmetic_behaves_like_integers(triple: tuple[Money, Money, Money]) -> None:
    a, b, c = triple
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert a + b - b == a
    assert a + Money.zero(a.currency) == a
    assert (a < b) == (a.minor < b.minor) and (a >= b) == (a.minor >= b.minor)
    assert sum_of([a, b, c], a.currency).minor == a.minor + b.minor + c.minor


TRICKY = "0123456789.,'’ \u00a0\u202f\u200f-−+$€¥￥円٫٬٠١٢٣eEnaIif_KWDUSdك."


@money_settings
@given(
    text=st.one_of(st.text(), st.text(alphabet=TRICKY, max_size=16)),
    currency=st.sampled_from(CURRENCIES),
    locale=st.sampled_from(LOCALES),
)
def test_parse_amount_only_returns_positive_capped_money_or_raises_amount_error(
    text: str, currency: str, locale: str
) -> None:
    try:
        money = parse_amount(text, currency, locale)
    except AmountError as error:
        assert str(error)
    else:
        assert 0 < money.minor <= MAX_MINOR
        assert money.currency == currency


# --- layering ------------------------------------------------------------------------


def test_money_module_imports_nothing_from_the_ui_or_other_layers() -> None:
    source = Path(money_module.__file__)
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in imported}
    assert "babel" in roots  # the walk sees the imports at all
    assert not roots & {"textual", "billing", "tui", "gateway", "stripe"}
