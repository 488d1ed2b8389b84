"""Widgets shared by the screens: the title bar with its TEST MODE mark, text fields that
do not blink in snapshots, the invoice table, and the way money is shown."""

from tui.widgets.amount_field import AmountField
from tui.widgets.card_fields import CardNumberField, card_label
from tui.widgets.chrome import ScreenTitle, TestModeBanner
from tui.widgets.fields import TextField
from tui.widgets.invoice_table import InvoiceTable
from tui.widgets.money import amount_cell, money_text
from tui.widgets.toggles import Checkbox, RadioButton, RadioSet, Switch

__all__ = [
    "AmountField", "CardNumberField", "Checkbox", "InvoiceTable", "RadioButton", "RadioSet",
    "ScreenTitle", "Switch", "TestModeBanner", "TextField", "amount_cell", "card_label",
    "money_text",
]
