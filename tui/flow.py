"""The client payment flow's coordinator: invoices -> card -> review -> paying -> result
(for a bank debit: review -> authorization -> debits -> the account's code -> pending).

Each screen of the flow does its own job and reports what the payer did as a step
(tui.flow_values); the steps bubble up to the app, which hands them to its `PaymentFlow`.
The flow alone knows the order of the screens, owns what the payer chose (`selection`), and
takes the payer back to fresh balances when the engine refuses because they changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billing.values import CardChoice, Payer
from tui.flow_values import (
    BackToList,
    BalancesMoved,
    BankAnswered,
    BankLater,
    BankRefused,
    CardChosen,
    InvoicesChosen,
    PayConfirmed,
    PaymentDone,
    PaymentFinished,
    PayOthers,
    PhoneCardSaved,
    PhoneOutcome,
    Selection,
    StartPayment,
    Step,
)
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.processing import ProcessingScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen

if TYPE_CHECKING:
    from textual.app import App

    from billing.bank_values import AuthorizationContext


class PaymentFlow:
    """Pushes each screen of the client payment flow and receives what it reports."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.payer: Payer | None = None
        # What the payer chose to pay, as the flow last heard it (empty before any choice).
        self.selection: Selection = ()
        # How often the phone-entry screen looks at the card page (tests look faster).
        self.phone_poll_seconds: float | None = None

    def handle(self, step: Step) -> None:
        match step:
            case StartPayment(payer=payer, replace=replace):
                self.payer, self.selection = payer, ()
                page = PaymentPageScreen(payer)
                if replace:
                    self.app.switch_screen(page)
                else:
                    self.app.push_screen(page)
            case InvoicesChosen(payer=payer, selection=selection):
                self.payer, self.selection = payer, selection
                self.app.push_screen(PaymentMethodScreen(payer, selection))
            case CardChosen(payer=payer, selection=selection, card=card):
                self.selection = selection
                self.app.push_screen(ReviewScreen(payer, selection, card))
            case PayConfirmed(payer=payer, selection=selection, card=card) if card.kind == "bank":
                self.selection = selection
                self.authorize_bank_debit(payer, selection, card)
            case BankAnswered(payer=payer, selection=selection, outcome=outcome):
                self.bank_answered(payer, selection, outcome)
            case BankRefused(message=message):
                self.app.notify(message, severity="error", markup=False)
                self._back_to_method()
            case BankLater(payer=payer, message=message):
                self.app.notify(message, timeout=15, markup=False)
                self.handle(PaymentDone(payer))
            case PayConfirmed(payer=payer, selection=selection, card=card) if card.kind == "phone":
                self.selection = selection
                self.enter_card_on_phone(payer, selection)
            case PayConfirmed(payer=payer, selection=selection, card=card):
                self.selection = selection
                self.app.switch_screen(ProcessingScreen(payer, selection, card))
            case PaymentFinished(payer=payer, selection=selection, result=result):
                self.app.switch_screen(ResultScreen(payer, result, selection))
            case BalancesMoved():
                self._balances_moved(step)
            case PayOthers(payer=payer, others=others):
                self.selection = others
                self.back_to_page()
                self.app.push_screen(PaymentMethodScreen(payer, others))
            case BackToList():
                self.back_to_page()
            case PaymentDone(payer=payer):
                if payer.kind == "staff":
                    if self.back_to_page() is not None:
                        self.app.pop_screen()  # the page too: back to the front desk
                else:
                    self.app.wipe_session()  # type: ignore[attr-defined]

    def enter_card_on_phone(self, payer: Payer, selection: Selection) -> None:
        """The QR code of a card page over the review; once the card is saved there, pay
        with it as with a saved card. An expired link is followed by a new one when the
        payer asks; cancelled leaves the payer on the review."""
        from tui.screens.phone_entry import PhoneEntryScreen

        def answered(outcome: PhoneOutcome | None) -> None:
            if isinstance(outcome, PhoneCardSaved):
                from tui.screens.phone_processing import PhoneProcessingScreen

                self.app.switch_screen(PhoneProcessingScreen(payer, selection, outcome.card,
                                                             outcome.entry_id))
            elif outcome == "expired":
                self.enter_card_on_phone(payer, selection)

        self.app.push_screen(
            PhoneEntryScreen(payer, selection, poll_seconds=self.phone_poll_seconds), answered)

    # --- bank debits: authorization, then the account's verification if Stripe asks -------

    def authorize_bank_debit(self, payer: Payer, selection: Selection, card: CardChoice) -> None:
        """The authorization over the review (WEB on screen, TEL read aloud); once agreed,
        the debits are sent in the review's place. Back leaves the payer on the review."""
        from tui.screens.bank_authorization import BankAuthorizationScreen

        entry = card.keyed

        def answered(context: AuthorizationContext | None) -> None:
            if context is not None:
                from tui.screens.bank_paying import BankPayingScreen

                self.app.switch_screen(BankPayingScreen(payer, selection, entry, context))

        self.app.push_screen(BankAuthorizationScreen(payer, selection, entry.last4,
                                                     holder=entry.holder_name), answered)

    def bank_answered(self, payer: Payer, selection: Selection, outcome: object) -> None:
        """The microdeposit's code asked for, or the debits' result (pending, or failed)."""
        from billing.bank_values import NeedsVerification

        if isinstance(outcome, NeedsVerification):
            from tui.screens.bank_verify import BankVerifyScreen

            self.app.switch_screen(BankVerifyScreen(payer, selection, outcome))
            return
        from tui.screens.bank_result import BankResultScreen

        self.app.switch_screen(BankResultScreen(payer, selection, outcome))

    def _back_to_method(self) -> None:
        """After a refusal (nothing debited): back to the payment method to fix the account."""
        methods = [s for s in self.app.screen_stack if isinstance(s, PaymentMethodScreen)]
        if not methods:
            self.app.pop_screen()
            return
        while self.app.screen_stack[-1] is not methods[-1]:
            self.app.pop_screen()

    def back_to_page(self) -> PaymentPageScreen | None:
        """Close the flow's screens down to the payment page (None when there is none)."""
        pages = [s for s in self.app.screen_stack if isinstance(s, PaymentPageScreen)]
        if not pages:
            return None
        page = pages[-1]
        while self.app.screen_stack[-1] is not page:
            self.app.pop_screen()
        return page

    def _balances_moved(self, step: BalancesMoved) -> None:
        """Nothing was charged: back to the payment page, which reads the balances again
        and says which invoice changed and how. Without a page, say so where the payer is."""
        pages = [s for s in self.app.screen_stack if isinstance(s, PaymentPageScreen)]
        if pages:
            pages[-1].balances_changed(step.changes)
            self.back_to_page()
            return
        self.app.notify(step.message, severity="error", markup=False)
        if step.close_screen:
            self.app.pop_screen()
