"""The staff screens show times in the firm's time zone (stored UTC), with Babel."""

from __future__ import annotations

import datetime as dt

from billing.values import FirmInfo
from tui.screens.desk_common import when_text

LATE = dt.datetime(2026, 11, 2, 23, 30)  # naive UTC, as stored


def _firm(time_zone: str, locale: str = "en_US") -> FirmInfo:
    return FirmInfo(name="Harbor & Vale LLP", currency="USD", locale=locale,
                    online_payments_enabled=True, multi_invoice_payments_enabled=True,
                    statement_descriptor_prefix="HARBORVALE", test_mode=True,
                    time_zone=time_zone)


def test_staff_lists_show_the_firms_local_time():
    new_york = _firm("America/New_York")
    assert when_text(LATE, firm=new_york) == "2026-11-02 18:30"
    assert when_text(LATE, short=True, firm=new_york) == "Nov 02 18:30"
    # Across midnight the date moves too.
    assert when_text(LATE, firm=_firm("Asia/Tokyo")) == "2026-11-03 08:30"
    # Without a firm: UTC, as stored.
    assert when_text(LATE) == "2026-11-02 23:30"


def test_the_demo_firm_has_its_time_zone(desk_services):
    assert desk_services.desk.firm().time_zone == "America/New_York"
