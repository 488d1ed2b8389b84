"""The payment page's amount field: one field for the amount of whichever invoice is
highlighted.

It knows which invoice it is showing (`load`) and reports every change of its text with
that invoice (`Typed`, or at once to `on_typed`), so a change handled after the highlight
has moved on still lands on the invoice it was typed for, never on the next one. With
`on_typed` the change is handled in the same step as the key, so the frame that shows the
digit also shows what it changed (a message would be handled a frame later). Enter hands the focus back at once
(`return_to`), before any key typed after it is handled (see tui.widgets.fields)."""

from __future__ import annotations

from collections.abc import Callable
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

    def __init__(self, *, return_to: str,
                 on_typed: Callable[[str, str], None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.return_to = return_to
        self._on_typed = on_typed
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
        if self._loading or self.key is None:
            return
        if self._on_typed is not None:
            self._on_typed(self.key, value)
        else:
            self.post_message(self.Typed(self, self.key, value))

    async def action_submit(self) -> None:
        await super().action_submit()
        # Screen.set_focus moves the focus now; Widget.focus() would wait for the next idle.
        self.screen.set_focus(self.screen.query_one(self.return_to))
