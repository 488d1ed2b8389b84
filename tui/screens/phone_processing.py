"""The payment running with the card the payer saved on their phone: the processing screen,
paying through the page's entry (once) instead of with a card chosen here."""

from __future__ import annotations

from collections.abc import Callable

from billing.values import CardChoice, CheckoutResult, Payer, ProgressEvent
from models.money import Money
from tui.flow_values import SelectedInvoice
from tui.screens.processing import ProcessingScreen


class PhoneProcessingScreen(ProcessingScreen):
    CSS_PATH = "processing.tcss"

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 card: CardChoice, entry_id: int) -> None:
        super().__init__(payer, selection, card)
        self.entry_id = entry_id

    def _charge(self, amounts: dict[int, Money],
                on_progress: Callable[[ProgressEvent], None]) -> CheckoutResult:
        keep = self._card is not None and self._card.keep  # asked once the card was saved
        self._card = None  # the page's entry names the card: nothing of it is kept here
        return self.app.desk.pay_phone_entry(self.payer, self.entry_id, amounts,
                                             on_progress=on_progress, keep=keep)
