"""The payment page's amount field: one field for the amount of whichever invoice is
highlighted.

It knows which invoice it is showing (`load`) and reports every change of its text with
that invoice (`Typed`), so a change handled after the highlight has moved on still lands on
the invoice it was typed for, never on the next one. Enter hands the focus back at once
(`return_to`), before any key typed after it is handled (see tui.widgets.fields)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.widgets.fields import TextField


class AmountField(TextField):
    @dataclass
    class Typed(Message):
        """The payer changed the amount of invoice `key` to `text`."""

        field: AmountField
        key: str
        text: str

        @property
        def control(self) -> AmountField:
            return self.field

    def __init__(self, *, return_to: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.return_to = return_to
        self.key: str | None = None
        self._loading = False

    def load(self, key: str | None, text: str) -> None:
        """Show the amount of invoice `key`: not the payer typing, so no Typed."""
        self.key = key
        self._loading = True
        try:
            self.value = text
        finally:
            self._loading = False

    def watch_value(self, value: str) -> None:
        # Called as the value changes, so `key` is still the invoice it was typed for.
        if not self._loading and self.key is not None:
            self.post_message(self.Typed(self, self.key, value))

    async def action_submit(self) -> None:
        await super().action_submit()
        # Screen.set_focus moves the focus now; Widget.focus() would wait for the next idle.
        self.screen.set_focus(self.screen.query_one(self.return_to))
