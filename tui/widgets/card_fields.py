"""The keyed card number field. Digits show while they are typed; once the field is left
only the brand and the last four remain on screen. The number itself lives only in this
widget until the screen takes it (`take_number`) to build the transient KeyedCard."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from gateway.cards import brand_of, last4, normalise
from tui.widgets.fields import TextField

BRANDS = {
    "visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
    "discover": "Discover", "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay",
}


def card_label(brand: str, last_four: str) -> str:
    """"Visa •••• 4242": never more than the last four."""
    return f"{BRANDS.get(brand, 'Card')} •••• {last_four}"


class CardNumberField(TextField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=23, **kwargs)
        self._number = ""

    @property
    def masked(self) -> bool:
        return bool(self._number)

    @property
    def brand(self) -> str:
        digits = self._number or normalise(self.value)
        return brand_of(digits) if digits.isdigit() else "unknown"

    def label(self) -> str:
        digits = self._number or normalise(self.value)
        if not digits:
            return ""
        return card_label(self.brand, last4(digits)) if len(digits) >= 12 else ""

    def _on_blur(self, event: events.Blur) -> None:
        digits = normalise(self.value)
        if digits and not self._number and len(digits) >= 12:
            self._number = digits
            with self.prevent(Input.Changed):
                self.value = f"•••• {last4(digits)}"
            self.add_class("-masked")

    def _on_focus(self, event: events.Focus) -> None:
        # A masked number is never shown again: coming back means typing it anew.
        if self._number and not event.from_app_focus:
            self.clear_number()

    def clear_number(self) -> None:
        self._number = ""
        self.remove_class("-masked")
        self.value = ""

    def take_number(self) -> str:
        """The digits typed (for the KeyedCard), then forgets them."""
        digits = self._number or normalise(self.value)
        self.clear_number()
        return digits

    def peek_digits(self) -> str:
        return self._number or normalise(self.value)
