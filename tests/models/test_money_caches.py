"""Money asks Babel about a currency once, parses a locale once and formats an amount once:
a payment page builds and shows thousands of them. What is cached never changes what is
refused or how an amount reads."""

from __future__ import annotations

import pytest
from babel import Locale

from models import money
from models.money import Money, MoneyError, format_amount_plain, format_money, parse_amount


@pytest.fixture
def cold():
    """Empty caches before and after, so no other test's work is counted."""
    for cache in (money._checked_exponent, money._formatted, money._locale):
        cache.cache_clear()
    yield
    for cache in (money._checked_exponent, money._formatted, money._locale):
        cache.cache_clear()


def counting(monkeypatch, name: str) -> list:
    calls: list = []
    real = getattr(money, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(money, name, wrapper)
    return calls


def test_a_currency_is_checked_with_babel_once(cold, monkeypatch) -> None:
    calls = counting(monkeypatch, "is_currency")
    amounts = [Money(n, "USD") for n in range(2000)]
    assert sum(amounts[1:], amounts[0]) == Money(1999 * 1000, "USD")
    assert calls == [("USD",)]


def test_an_unknown_currency_is_refused_every_time(cold) -> None:
    for _ in range(3):
        with pytest.raises(MoneyError, match="not a known currency"):
            Money(100, "XYZ")
        with pytest.raises(MoneyError, match="not a currency code"):
            Money(100, "usd")
    with pytest.raises(MoneyError, match="not a currency code"):
        Money(100, None)  # type: ignore[arg-type]


def test_an_amount_is_formatted_by_babel_once(cold, monkeypatch) -> None:
    calls = counting(monkeypatch, "format_currency")
    for _ in range(3):
        assert format_money(Money(125000, "USD"), "en_US") == "$1,250.00"
        assert format_money(Money(125000, "EUR"), "de_DE") == "1.250,00\xa0€"
    assert len(calls) == 2
    assert format_amount_plain(Money(125000, "EUR"), "de_DE") == "1.250,00"
    assert format_money(Money(-5, "KWD"), "en_US") == "-KWD0.005"
    assert format_money(Money(5, "JPY"), "ja_JP") == "￥5"


def test_a_locale_is_parsed_once(cold, monkeypatch) -> None:
    parsed: list[str] = []
    real = Locale.parse

    def parse(identifier, *args, **kwargs):
        if isinstance(identifier, str):  # Babel passes the parsed Locale on: not parsing
            parsed.append(identifier)
        return real(identifier, *args, **kwargs)

    monkeypatch.setattr(Locale, "parse", parse)
    for minor in range(1, 200):
        format_money(Money(minor * 101, "USD"), "en_US")
        format_amount_plain(Money(minor * 101, "USD"), "en_US")
    assert parse_amount("1,250.00", "USD", "en_US") == Money(125000, "USD")
    assert parsed.count("en_US") == 1


def test_a_large_amount_is_exact() -> None:
    big = Money(10**30 + 7, "USD")
    assert str(big.to_decimal()) == "10000000000000000000000000000.07"
    assert Money(-7, "KWD").to_decimal().as_tuple() == (1, (7,), -3)
