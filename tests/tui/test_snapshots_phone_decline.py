"""Snapshots of the "Pay on your phone" screen once a card was declined on the phone (80x24
and 120x40; the demo firm's values, a fixed clock, a fixed link): the page stays open, the
QR code stays, and the screen says why the card was refused, in Paydesk's words."""

from __future__ import annotations

import pytest

from billing.phone_entry import PhoneStatus, declined_words
from gateway.values import SetupDecline
from tests.tui.fakes import FakeDesk
from tests.tui.test_snapshots_client import SIZES, make
from tests.tui.test_snapshots_phone_entry import phone_entry_shown

INSUFFICIENT = SetupDecline("card_declined", "insufficient_funds",
                            "Your card has insufficient funds.", "visa", "9995")


class DeclinedOnThePhone(FakeDesk):
    """The page stays open after the payer's card was refused on it."""

    def phone_entry_status(self, payer, entry_id):
        return PhoneStatus("pending", declined=declined_words(INSUFFICIENT, payer.kind))


def declined_shown(desk: FakeDesk):
    """run_before: the phone screen with its QR code (as in the phone screen's snapshots),
    then once the decline is drawn."""
    shown = phone_entry_shown(desk)

    async def run_before(pilot):
        await shown(pilot)
        state = pilot.app.screen.query_one("#phone-state")
        for _ in range(100):
            if state.has_class("-declined"):
                break
            await pilot.pause(0.02)
        assert state.has_class("-declined"), "the decline was never drawn"
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_phone_entry_after_a_decline(snap_compare, size):
    desk = DeclinedOnThePhone()
    assert snap_compare(make(desk=desk), terminal_size=size, run_before=declined_shown(desk))


def test_the_words_on_the_screen_for_the_client():
    assert declined_words(INSUFFICIENT, "client") == (
        "The card ending 9995 was declined on the phone. The card was declined: the account "
        "does not have enough funds. Nothing was charged. You can try another card on the "
        "same page.")
