"""Words for a count: the form is chosen by Babel's plural rules for the firm's locale, so
that "1 transaction" and "4 transactions" (and a locale's other categories) each read right.

Paydesk's words are English; the locale decides which of the given forms a number takes,
and how the number itself is written ("1,000" or "1.000")."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

_FALLBACK = "en"


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(_FALLBACK)


def plural_form(count: int, locale: str) -> str:
    """The CLDR plural category of `count` in `locale`: "zero", "one", "two", "few",
    "many" or "other" (English when Babel does not know the locale)."""
    return _locale(locale).plural_form(count)


def plural(count: int, locale: str, *, one: str, other: str, **more: str) -> str:
    """The form for `count`: `one`, `other`, or another category given by name (`zero`,
    `two`, `few`, `many`); a category not given reads as `other`. "{n}" in the form is
    replaced by the count written for the locale."""
    forms = {"one": one, "other": other, **more}
    form = forms.get(plural_form(count, locale), other)
    if "{n}" not in form:
        return form
    return form.replace("{n}", format_decimal(count, locale=_locale(locale)))


def statement_sentence(count: int, locale: str) -> str:
    """What the payer's card statement will show for a card payment of `count` invoices:
    one transaction per invoice (said before paying, after paying and in the email)."""
    return plural(count, locale, one="1 transaction will appear on your statement.",
                  other="{n} separate transactions will appear on your statement.")
