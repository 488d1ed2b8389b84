"""How the card is given: typed in (keyed), a saved card of the client, or a card reader;
or, where the firm allows it, a US bank account to debit (tui.screens.bank_fields).

The keyed number stays in its field until Review is pressed; it is then handed over in a
transient KeyedCard (inside the CardChoice) and the fields are cleared, so going back
means typing it again. Nothing but the brand and the last four is ever shown again."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from billing.errors import BillingError
from billing.saved_cards import keep_label
from billing.values import CardChoice, FirmInfo, Payer
from gateway.cards import KeyedCard, check_number
from gateway.errors import CardNumberInvalid, GatewayError
from tui.flow_values import TEST_CARDS, CardChosen, FlowStep, SelectedInvoice, selection_line
from tui.screens import PaydeskScreen
from tui.screens.bank_fields import MaskedDigitsField, bank_entry, bank_tab_fields, routing_problem
from tui.widgets import CardNumberField, Checkbox, ScreenTitle, TextField, card_label


def parse_expiry(text: str, year_now: int) -> tuple[int, int]:
    """(month, four-digit year) from "MM/YY", "MMYY" or "MM/YYYY"; ValueError with the
    reason otherwise."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 4:
        month, year = int(digits[:2]), 2000 + int(digits[2:])
    elif len(digits) == 6:
        month, year = int(digits[:2]), int(digits[2:])
    else:
        raise ValueError("Type the expiry as MM/YY, e.g. 12/29")
    if not 1 <= month <= 12:
        raise ValueError("The expiry month must be 01 to 12")
    if year > year_now + 25:
        raise ValueError("That expiry year is too far ahead")
    return month, year


class PaymentMethodScreen(PaydeskScreen):
    CSS_PATH = "payment_method.tcss"
    HELP = (
        "Choose how the card is given: type the card number, use a saved card, present "
        "the card on a card reader, or enter it on your own phone (a QR code after the "
        "review). Only the brand and the last four digits are shown once the number is "
        "typed. F5 (or the Review button) shows every transaction before paying."
    )

    BINDINGS = [
        Binding("f5", "review", "Review", id="method.review"),
        Binding("escape", "back", "Back", id="method.back"),
        Binding("delete", "remove_card", "Remove saved card", id="method.remove-card"),
    ]

    @dataclass
    class Choices(Message):
        saved: list[CardChoice]
        readers: list[tuple[str, str]]
        # Why a list could not be read (Stripe did not answer, say), shown in its place.
        saved_problem: str = ""
        readers_problem: str = ""

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...]) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self._saved: list[CardChoice] = []
        self._readers: list[tuple[str, str]] = []
        # Set when the card is handed on to the review: coming back means a card anew.
        self._handed_on = False
        # A new card may be kept on file (with consent) for a client, not a payment code.
        self._may_keep = payer.kind in ("client", "staff")

    def compose(self) -> ComposeResult:
        firm = self.app.firm
        yield ScreenTitle("Payment method")
        yield Static(selection_line(self.selection, firm.locale), id="method-summary")
        with TabbedContent(id="method-tabs"):
            for tab in self._tabs():
                yield from getattr(self, f"_{tab}_pane")(firm)
            if firm.bank_debits_enabled and firm.currency == "USD":
                with TabPane("Bank account", id="method-bank"):
                    yield from bank_tab_fields(self.payer.client_name)
        with Horizontal(id="method-buttons"):
            yield Button("Back", id="method-back", compact=True)
            yield Button("Review", id="method-review", variant="primary", compact=True)
        yield Footer()

    def _tabs(self) -> list[str]:
        """The card tabs in order: the ways this terminal offers (tui.factory, from
        billing.card_entry.offered_ways), a saved card second (the first tab is the way the
        terminal prefers; a card on file is the next quickest). The phone is for a client."""
        ways = [w for w in self.app.card_entry_ways if w != "phone" or self._may_keep]
        return [*ways[:1], "saved", *ways[1:]]

    def _keyed_pane(self, firm: FirmInfo) -> ComposeResult:
        with TabPane("Card number", id="method-keyed"):
            with Horizontal(classes="method-row"):
                yield Label("Card number", classes="method-label")
                yield CardNumberField(id="card-number", compact=True,
                                      placeholder="1234 5678 9012 3456")
                yield Static("", id="card-brand")
            with Horizontal(classes="method-row"):
                yield Label("Expiry", classes="method-label")
                yield TextField(id="card-expiry", compact=True, placeholder="MM/YY",
                                max_length=7)
                yield Label("CVC", classes="method-label-short")
                yield TextField(id="card-cvc", compact=True, password=True, max_length=4)
                yield Label("Postal code", classes="method-label-short")
                yield TextField(id="card-postal", compact=True, max_length=10)
            if self._may_keep:
                # Off by default: a card is kept on file only with the payer's consent.
                yield Checkbox(keep_label(self.payer), False, id="keep-card",
                               compact=True, classes="keep-card")
            yield Static("", id="card-error")
            if firm.test_mode:
                yield Static(self._test_cards(), id="method-test-cards")

    def _saved_pane(self, firm: FirmInfo) -> ComposeResult:
        with TabPane("Saved card", id="method-saved"):
            yield OptionList(id="saved-cards")
            yield Static("Del removes the highlighted card from file (you are asked first).",
                         id="saved-note")

    def _reader_pane(self, firm: FirmInfo) -> ComposeResult:
        with TabPane("Card reader", id="method-reader"):
            yield OptionList(id="readers")
            if self._may_keep:
                yield Checkbox(keep_label(self.payer), False, id="keep-card-reader",
                               compact=True, classes="keep-card")
            yield Static(
                "After the review, present the card on the reader."
                + (" In test mode you can simulate a test card there." if firm.test_mode
                   else ""),
                id="reader-note",
            )

    def _phone_pane(self, firm: FirmInfo) -> ComposeResult:
        with TabPane("On my phone", id="method-phone"):
            yield Static(self._phone_note(), id="method-phone-note")

    def _phone_note(self) -> str:
        how = ("the client scans it with their phone's camera and enters the card"
               if self.payer.kind == "staff" else
               "scan it with your phone's camera and enter your card")
        note = (f"After the review, a QR code is shown: {how} on the page it opens, which "
                "lists what will be charged. The card number never passes through this "
                "terminal.")
        if self.payer.kind == "staff":
            note += " You can also email the link to the client."
        return note

    def _test_cards(self) -> Text:
        text = Text("Test cards (any future expiry, any CVC):", style="dim")
        for number, what in TEST_CARDS:
            text.append(f"\n{number}  ")
            text.append(what, style="dim")
        return text

    def on_mount(self) -> None:
        self._focus_first_field()
        self._load_choices()

    def on_screen_resume(self) -> None:
        # Back here from the review, from a decline ("Another card") or from a payment that
        # stopped: the keyed number was handed on and cleared, so the next keystroke is the
        # next card's number (not more digits in the postal code, where the focus was left).
        # Other returns (the help screen closing) leave the focus where it was.
        if self._handed_on:
            self._handed_on = False
            self._focus_first_field()

    def _focus_first_field(self) -> None:
        # Before the tabs are drawn none is active yet: the first one will be.
        tab = self.query_one(TabbedContent).active or f"method-{self._tabs()[0]}"
        target = {"method-saved": "#saved-cards", "method-reader": "#readers",
                  "method-phone": "#method-review", "method-bank": "#bank-routing"}.get(tab, "#card-number")
        self.query_one(target).focus()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load_choices(self) -> None:
        desk = self.app.desk
        saved: list[CardChoice] = []
        readers: list[tuple[str, str]] = []
        saved_problem = readers_problem = ""
        try:
            saved = desk.saved_cards(self.payer)
        except (BillingError, GatewayError) as exc:
            saved_problem = exc.message
        try:
            readers = desk.readers()
        except (BillingError, GatewayError) as exc:
            readers_problem = exc.message
        self.post_message(self.Choices(saved, readers, saved_problem, readers_problem))

    @on(Choices)
    def _choices(self, message: Choices) -> None:
        self._saved, self._readers = message.saved, message.readers
        saved = self.query_one("#saved-cards", OptionList)
        saved.clear_options()
        if self._saved:
            saved.add_options([Option(Text(c.label)) for c in self._saved])
            saved.highlighted = 0
        elif message.saved_problem:
            saved.add_option(Option(Text(message.saved_problem), disabled=True))
        else:
            saved.add_option(Option("No saved cards on file.", disabled=True))
        readers = self.query_one("#readers", OptionList)
        readers.clear_options()
        if self._readers:
            readers.add_options([Option(Text(label)) for _, label in self._readers])
            readers.highlighted = 0
        elif message.readers_problem:
            readers.add_option(Option(Text(message.readers_problem), disabled=True))
        else:
            readers.add_option(Option("No card reader is set up.", disabled=True))
        self.query_one("#saved-note", Static).display = bool(self._saved)
        self.refresh_bindings()  # "Remove saved card" needs a saved card

    # --- the keyed card ---------------------------------------------------------------

    @on(Input.Changed, "#bank-routing")
    def _routing_typed(self, event: Input.Changed) -> None:
        # Checked on the spot once all nine digits are there (the field shows bullets).
        digits = self.query_one("#bank-routing", MaskedDigitsField).peek_digits()
        problem = routing_problem(digits) if len(digits) >= 9 else ""
        self.query_one("#bank-routing-ok", Static).update(
            Text(problem or ("✓" if len(digits) == 9 else ""),
                 style="red" if problem else "green"))

    @on(Input.Changed, "#card-number")
    def _number_typed(self, event: Input.Changed) -> None:
        field = self.query_one("#card-number", CardNumberField)
        self.query_one("#card-brand", Static).update(Text(field.label()))

    @on(Input.Submitted, "#card-number")
    def _next_expiry(self) -> None:
        self.query_one("#card-expiry", Input).focus()

    @on(Input.Submitted, "#card-expiry")
    def _next_cvc(self) -> None:
        self.query_one("#card-cvc", Input).focus()

    @on(Input.Submitted, "#card-cvc")
    def _next_postal(self) -> None:
        self.query_one("#card-postal", Input).focus()

    @on(Input.Submitted, "#card-postal")
    def _postal_done(self) -> None:
        self.action_review()

    def _keyed_card(self) -> CardChoice | None:
        number_field = self.query_one("#card-number", CardNumberField)
        expiry = self.query_one("#card-expiry", Input).value
        cvc = self.query_one("#card-cvc", Input).value.strip()
        postal = self.query_one("#card-postal", Input).value.strip()
        if not number_field.peek_digits():
            return self._card_error("Enter the card number", "#card-number")
        try:
            digits = check_number(number_field.peek_digits())
        except CardNumberInvalid as exc:
            return self._card_error(exc.message, "#card-number")
        try:
            month, year = parse_expiry(expiry, self.app.now().year)
        except ValueError as exc:
            return self._card_error(str(exc), "#card-expiry")
        now = self.app.now()
        if (year, month) < (now.year, now.month):
            return self._card_error("That card has expired", "#card-expiry")
        wanted = 4 if number_field.brand == "amex" else 3
        if not cvc.isdigit() or len(cvc) != wanted:
            return self._card_error(f"The CVC is the {wanted} digits on the card", "#card-cvc")
        if not postal:
            return self._card_error("Type the postal code of the card's address", "#card-postal")
        label = card_label(number_field.brand, digits[-4:])
        keyed = KeyedCard(number=digits, exp_month=month, exp_year=year, cvc=cvc,
                          postal_code=postal)
        # The number and CVC now live only in the KeyedCard handed on to the payment.
        number_field.take_number()
        self.query_one("#card-cvc", Input).value = ""
        self.query_one("#card-brand", Static).update("")
        self.query_one("#card-error", Static).update("")
        return CardChoice(kind="keyed", keyed=keyed, label=label, keep=self._consent("#keep-card"))

    def _consent(self, selector: str) -> bool:
        """Whether the payer agreed to keep this card on file; the choice is then cleared
        (off again), since it is given for one card: the next card is asked anew."""
        if not self._may_keep:
            return False
        box = self.query_one(selector, Checkbox)
        agreed = box.value
        box.value = False
        return agreed

    def _card_error(self, message: str, focus: str) -> None:
        """Say what is wrong and put the focus in the field to fix (a card number that is
        not valid is then typed again: a masked number is never shown)."""
        self.query_one("#card-error", Static).update(Text(message))
        self.query_one(focus).focus()
        return None

    # --- going on -----------------------------------------------------------------------

    def _choice(self) -> CardChoice | None:
        tab = self.query_one(TabbedContent).active
        if tab == "method-saved":
            index = self.query_one("#saved-cards", OptionList).highlighted
            if not self._saved or index is None:
                self.notify("There is no saved card to use.", severity="warning", markup=False)
                return None
            return self._saved[index]
        if tab == "method-reader":
            index = self.query_one("#readers", OptionList).highlighted
            if not self._readers or index is None:
                self.notify("There is no card reader to use.", severity="warning", markup=False)
                return None
            reader_id, label = self._readers[index]
            return CardChoice(kind="reader", reader_id=reader_id, label=f"card on {label}",
                              keep=self._consent("#keep-card-reader"))
        if tab == "method-bank":
            return bank_entry(self)
        if tab == "method-phone":
            # The card is saved on the payer's phone after the review (tui.flow).
            whose = "the client's" if self.payer.kind == "staff" else "your"
            return CardChoice(kind="phone", label=f"a card entered on {whose} phone")
        return self._keyed_card() if tab == "method-keyed" else None

    @on(Button.Pressed, "#method-review")
    def action_review(self) -> None:
        choice = self._choice()
        if choice is None:
            return
        self._handed_on = True
        self.post_message(FlowStep(CardChosen(self.payer, self.selection, choice)))

    # --- removing a saved card -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_card":
            return self.query_one(TabbedContent).active == "method-saved" and bool(self._saved)
        return True

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_remove_card(self) -> None:
        index = self.query_one("#saved-cards", OptionList).highlighted
        if not self._saved or index is None:
            return
        card = self._saved[index]
        from tui.screens.remove_card import RemoveCardScreen

        def answered(remove: bool | None) -> None:
            if remove and card.payment_method_id:
                self._remove_card(card.payment_method_id)

        self.app.push_screen(RemoveCardScreen(card.label), answered)

    @work(thread=True, exclusive=True, group="remove-card", exit_on_error=False)
    def _remove_card(self, payment_method_id: str) -> None:
        try:
            label = self.app.desk.remove_saved_card(self.payer, payment_method_id)
        except (BillingError, GatewayError) as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self.notify, f"{label} was removed from file.",
                                  markup=False)
        self.app.call_from_thread(self._load_choices)

    @on(Button.Pressed, "#method-back")
    def action_back(self) -> None:
        for number in self.query("#card-number").results(CardNumberField):
            number.clear_number()
        for field in self.query("#bank-account, #bank-routing").results(MaskedDigitsField):
            field.clear_number()
        self.dismiss()
