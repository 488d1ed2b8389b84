"""Widgets shared by the screens: the title bar with its TEST MODE mark, text fields that
do not blink in snapshots, the invoice table, and the way money is shown.

Each name is loaded from its module on first use, so that the first screen (which needs the
title bar and a text field) is drawn without loading the tables and toggles of later ones.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.widgets.amount_field import AmountField
    from tui.widgets.card_fields import CardNumberField, card_label
    from tui.widgets.chrome import ScreenTitle, TestModeBanner
    from tui.widgets.fields import TextField
    from tui.widgets.invoice_table import InvoiceTable
    from tui.widgets.money import amount_cell, money_text
    from tui.widgets.toggles import Checkbox, RadioButton, RadioSet, Switch

_EXPORTS = {
    "AmountField": "amount_field",
    "CardNumberField": "card_fields", "card_label": "card_fields",
    "ScreenTitle": "chrome", "TestModeBanner": "chrome",
    "TextField": "fields",
    "InvoiceTable": "invoice_table",
    "amount_cell": "money", "money_text": "money",
    "Checkbox": "toggles", "RadioButton": "toggles", "RadioSet": "toggles", "Switch": "toggles",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tui.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tui.widgets.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AmountField", "CardNumberField", "Checkbox", "InvoiceTable", "RadioButton", "RadioSet",
    "ScreenTitle", "Switch", "TestModeBanner", "TextField", "amount_cell", "card_label",
    "money_text",
]
