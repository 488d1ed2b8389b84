"""Snapshots of the reader-first kiosk's payment method screen (kiosk.card_entry left at
its default: the reader, then the phone; no typed card), at 80x24 and 120x40, with the
demo firm's values, a fixed clock and no blinking cursor."""

from __future__ import annotations

import pytest

from billing.config import defaults
from tests.tui.fakes import DANA, FIXED_NOW, FakeDesk, FakeServices
from tests.tui.test_snapshots_client import SELECTION, SIZES, settle
from tui.factory import make_app
from tui.screens.payment_method import PaymentMethodScreen


def reader_first_kiosk():
    app = make_app(defaults(), mode="kiosk", services=FakeServices(FakeDesk()),
                   clock=lambda: FIXED_NOW)
    assert app.card_entry_ways == ("reader", "phone")
    app.cursor_blink = False
    return app


async def method_screen(pilot):
    await settle(pilot)
    pilot.app.push_screen(PaymentMethodScreen(DANA, SELECTION))
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_reader_first_kiosk_payment_method(snap_compare, size):
    assert snap_compare(reader_first_kiosk(), terminal_size=size, run_before=method_screen)
