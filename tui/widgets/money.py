"""Money as the screens show it: formatted in the firm's locale, right-aligned in tables."""

from __future__ import annotations

from rich.text import Text

from models.money import Money, format_money


def money_text(money: Money | None, locale: str) -> str:
    """"$1,250.00" in en_US; an empty string for None."""
    return "" if money is None else format_money(money, locale)


def amount_cell(money: Money | None, locale: str, *, style: str = "") -> Text:
    """A right-aligned table cell for an amount."""
    return Text(money_text(money, locale), style=style, justify="right")
