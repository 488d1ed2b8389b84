"""The card page asks before a card is kept on file: the choice is off by default, says at
the front desk that the payer agreed, goes with the card to the review, and a saved card
can be removed from the Saved card tab after a confirmation."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Checkbox, OptionList, TabbedContent

from billing.saved_cards import KEEP_LABEL, KEEP_LABEL_STAFF
from billing.values import CardChoice, Payer
from tests.tui.fakes import (
    DANA,
    DANA_BY_CODE,
    DANA_INVOICES,
    FIRM,
    FIXED_NOW,
    FRONT_DESK,
    FakeDesk,
    screen_text,
    settle,
    type_text,
)
from tui.app import PaydeskApp
from tui.flow_values import SelectedInvoice
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.remove_card import RemoveCardScreen
from tui.screens.review import ReviewScreen

STAFF_FOR_DANA = replace(DANA, kind="staff", staff=FRONT_DESK)
SELECTION = (SelectedInvoice(DANA_INVOICES[0], DANA_INVOICES[0].balance),)


class CardsDesk(FakeDesk):
    """Two saved cards; removing one takes it off the list."""

    def __init__(self) -> None:
        super().__init__()
        self.cards = [
            CardChoice(kind="saved", payment_method_id="pm_visa", label="Visa •••• 4242 "
                       "(expires 12/30)"),
            CardChoice(kind="saved", payment_method_id="pm_mc", label="Mastercard •••• 4444 "
                       "(expires 01/29)"),
        ]
        self.removed: list[tuple[str, str]] = []

    def saved_cards(self, payer: Payer) -> list[CardChoice]:
        return [] if payer.kind == "code" else list(self.cards)

    def remove_saved_card(self, payer: Payer, payment_method_id: str) -> str:
        self.removed.append((payer.kind, payment_method_id))
        card = next(c for c in self.cards if c.payment_method_id == payment_method_id)
        self.cards.remove(card)
        return card.label.split(" (")[0]


def make(desk, mode: str = "kiosk") -> PaydeskApp:
    app = PaydeskApp(desk, mode=mode, firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


async def card_page(pilot, payer: Payer) -> PaymentMethodScreen:
    await settle(pilot)
    pilot.app.push_screen(PaymentMethodScreen(payer, SELECTION))
    for _ in range(50):
        await settle(pilot)
        if isinstance(pilot.app.screen, PaymentMethodScreen):
            return pilot.app.screen
    raise AssertionError("the card page did not open")


async def to_review(pilot, *, tick: bool) -> ReviewScreen:
    for text in ("4242424242424242", "12/30", "123"):
        await type_text(pilot, text)
        await pilot.press("enter")
    await type_text(pilot, "94107")
    if tick:
        await pilot.press("tab")  # from the postal code to the choice
        await settle(pilot)
        assert isinstance(pilot.app.focused, Checkbox)
        await pilot.press("space")
    await pilot.press("f5")
    for _ in range(50):
        await settle(pilot)
        if isinstance(pilot.app.screen, ReviewScreen):
            return pilot.app.screen
    raise AssertionError("no review")


async def test_the_keep_choice_is_off_by_default_and_goes_with_the_card() -> None:
    app = make(FakeDesk())
    async with app.run_test(size=(100, 30)) as pilot:
        method = await card_page(pilot, DANA)
        box = method.query_one("#keep-card", Checkbox)
        assert box.value is False
        assert str(box.label) == KEEP_LABEL
        assert KEEP_LABEL in screen_text(app)
        review = await to_review(pilot, tick=False)
        assert review.card.keep is False
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is method
        review = await to_review(pilot, tick=True)
        assert review.card.keep is True
        await pilot.press("escape")
        await settle(pilot)
        # Given for one card: the next card is asked anew.
        assert method.query_one("#keep-card", Checkbox).value is False


async def test_at_the_front_desk_staff_confirm_the_payer_agreed() -> None:
    app = make(FakeDesk(), mode="desk")
    async with app.run_test(size=(100, 30)) as pilot:
        method = await card_page(pilot, STAFF_FOR_DANA)
        for selector in ("#keep-card", "#keep-card-reader"):
            box = method.query_one(selector, Checkbox)
            assert box.value is False
            assert str(box.label) == KEEP_LABEL_STAFF
        assert "The payer agreed to keep this card on file" in screen_text(app)


async def test_a_payment_code_payer_is_not_offered_to_keep_the_card() -> None:
    app = make(FakeDesk())
    async with app.run_test(size=(100, 30)) as pilot:
        method = await card_page(pilot, DANA_BY_CODE)
        assert not method.query(Checkbox)
        assert "on file" not in screen_text(app)


async def _saved_tab(pilot, method: PaymentMethodScreen) -> OptionList:
    method.query_one(TabbedContent).active = "method-saved"
    await settle(pilot)
    saved = method.query_one("#saved-cards", OptionList)
    saved.focus()
    await settle(pilot)
    return saved


async def test_a_saved_card_is_removed_after_a_confirmation() -> None:
    desk = CardsDesk()
    app = make(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        method = await card_page(pilot, DANA)
        saved = await _saved_tab(pilot, method)
        assert saved.option_count == 2
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, RemoveCardScreen)
        assert "Remove Visa •••• 4242 (expires 12/30) from file?" in screen_text(app)
        await pilot.press("enter")  # "Keep it" has the focus: nothing is removed
        await settle(pilot)
        assert app.screen is method
        assert desk.removed == []
        await pilot.press("down", "delete")
        await settle(pilot)
        await pilot.press("y")
        for _ in range(50):
            await settle(pilot)
            if saved.option_count == 1:
                break
        assert desk.removed == [("client", "pm_mc")]
        assert [c.payment_method_id for c in method._saved] == ["pm_visa"]
        told = [n.message for n in app._notifications]
        assert "Mastercard •••• 4444 was removed from file." in told


async def test_staff_remove_a_saved_card_for_the_client() -> None:
    desk = CardsDesk()
    app = make(desk, mode="desk")
    async with app.run_test(size=(100, 30)) as pilot:
        method = await card_page(pilot, STAFF_FOR_DANA)
        await _saved_tab(pilot, method)
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        for _ in range(50):
            await settle(pilot)
            if desk.removed:
                break
        assert desk.removed == [("staff", "pm_visa")]
