"""Widgets shared by the screens: the title bar with its TEST MODE mark, text fields that
do not blink in snapshots, the invoice table, and the way money is shown."""

from tui.widgets.amount_field import AmountField
from tui.widgets.card_fields import CardNumberField, card_label
from tui.widgets.chrome import ScreenTitle, TestModeBanner
from tui.widgets.fields import TextField
from tui.widgets.invoice_table import InvoiceTable
from tui.widgets.money import amount_cell, money_text

__all__ = [
    "AmountField", "CardNumberField", "InvoiceTable", "ScreenTitle", "TestModeBanner", "TextField", "amount_cell", "card_label",
    "money_text",
]
