"""The payment running with the card the payer saved on their phone: the processing screen,
paying through the page's entry (once) instead of with a card chosen here."""

from __future__ import annotations

from textual import work

from billing.errors import BalancesChanged
from billing.values import CardChoice, Payer
from tui.flow_values import SelectedInvoice
from tui.screens.processing import ProcessingScreen


class PhoneProcessingScreen(ProcessingScreen):
    CSS_PATH = "processing.tcss"

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 card: CardChoice, entry_id: int) -> None:
        super().__init__(payer, selection, card)
        self.entry_id = entry_id

    @work(thread=True, exclusive=True, exit_on_error=False, group="pay")
    def _pay(self) -> None:
        self._card = None  # the page's entry names the card: nothing of it is kept here
        amounts = {s.invoice.invoice_id: s.amount for s in self.selection}
        try:
            result = self.app.desk.pay_phone_entry(
                self.payer, self.entry_id, amounts,
                on_progress=lambda event: self.post_message(self.Progress(event)),
            )
        except BalancesChanged as exc:
            self.post_message(self.Refused(exc.changes, exc.message))
            return
        except BaseException:
            self.post_message(self.Stopped())
            raise  # the app's worker handler shows the reason
        self.post_message(self.Done(result))
