"""The staff payments list and the audit log at 80, 100 and 120 columns, on the real desk:
the columns that fit are the most important ones, each wide enough for its longest value,
so what is on screen is always a whole value; the audit log speaks in names and formatted
amounts, with the raw values one key away."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Static

from billing.values import CardChoice
from gateway import KeyedCard
from models import Checkout, Client, Invoice
from models.demo import DANA_PASSWORD
from models.money import Money
from tests.tui.fakes import screen_text, settle
from tests.tui.test_desk_walkthrough import desk_app, pay_inv_1004_for_dana, sign_in
from tui.screens.desk_audit import COLUMNS as AUDIT_COLUMNS
from tui.screens.desk_audit import DeskAuditScreen
from tui.screens.desk_payments import COLUMNS as PAYMENT_COLUMNS
from tui.screens.desk_payments import DeskPaymentsScreen
from tui.widgets.priority_table import PriorityTable

SIZES = [80, 100, 120]
INSUFFICIENT = "4000000000009995"

# The order in which columns are kept as the terminal narrows (most important first).
PAYMENTS_PRIORITY = ["invoice", "amount", "status", "receipt", "client", "card", "when",
                     "refunded"]
AUDIT_PRIORITY = ["when", "action", "subject", "result", "amount", "who", "terminal"]


@pytest.fixture
def services(desk_services):
    return desk_services


def by_priority(columns) -> list[str]:
    return [c.key for c in sorted(columns, key=lambda c: c.priority)]


def assert_most_important_first(shown: list[str], priority: list[str], at_least: int) -> None:
    """What is shown is the most important columns (at least `at_least` of them), in the
    columns' own order: everything left out is less important than everything shown."""
    assert len(shown) >= at_least
    assert set(shown) == set(priority[:len(shown)]), shown


def on_screen(table: PriorityTable) -> list[dict[str, str]]:
    """The visible rows as drawn (header first), each cut into the shown columns at the
    places the table draws them: {column key: the text in that column's cells}."""
    pad = table.cell_padding
    columns = list(table.columns.values())
    drawn = []
    for y in range(min(table.size.height, table.row_count + 1)):
        line = table.render_line(y).text
        cells, x = {}, 0
        for column in columns:
            width = column.get_render_width(table)
            cells[str(column.key.value)] = line[x + pad:x + width - pad].strip()
            x += width
        drawn.append(cells)
    return drawn


def assert_nothing_cut(table: PriorityTable) -> list[dict[str, str]]:
    """Every column drawn lies inside the table, and each drawn cell is its whole value."""
    region = table.scrollable_content_region.width
    assert sum(c.get_render_width(table) for c in table.columns.values()) <= region
    assert table.max_scroll_x == 0  # nothing hides to the right
    drawn = on_screen(table)
    header, rows = drawn[0], drawn[1:]
    for column in table.columns.values():
        assert header[str(column.key.value)] == str(column.label)
    for r, cells in enumerate(rows):
        for c, key in enumerate(table.shown_keys):
            assert cells[key] == str(table.get_cell_at((r, c))).strip(), (r, key)
    return rows


def decline_inv_1012_for_dana(desk) -> None:
    """A card declined for insufficient funds: its status, "declined (insufficient funds)",
    is the widest value in the list."""
    staff = desk.sign_in_staff("Front Desk", "2468")
    payer = desk.payer_for_client(staff, Client.get(Client.name == "Dana Whitfield").id)
    inv = Invoice.get(Invoice.number == "INV-1012")
    result = desk.pay(payer, {inv.id: Money(47500, "USD")},
                      CardChoice(kind="keyed", keyed=KeyedCard(INSUFFICIENT, 12, 2034, "123"),
                                 label="Visa •••• 9995"))
    assert result.status == "failed"


async def open_payments(pilot):
    await sign_in(pilot, "Front Desk", "2468")
    await pilot.press("f2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DeskPaymentsScreen)
    return pilot.app.screen.query_one("#desk-payments-table", PriorityTable)


# Width of the terminal -> how many columns at least, with and without a declined attempt.
AT_LEAST = {80: (5, 4), 100: (7, 6), 120: (8, 7)}


@pytest.mark.parametrize("declined", [False, True], ids=["paid", "with-declined"])
@pytest.mark.parametrize("width", SIZES)
async def test_payments_list_shows_whole_values_and_the_important_columns(
        services, width, declined):
    assert by_priority(PAYMENT_COLUMNS) == PAYMENTS_PRIORITY
    pay_inv_1004_for_dana(services.desk)
    if declined:
        decline_inv_1012_for_dana(services.desk)
    app = desk_app(services)
    async with app.run_test(size=(width, 30)) as pilot:
        table = await open_payments(pilot)
        shown = table.shown_keys
        assert_most_important_first(shown, PAYMENTS_PRIORITY, AT_LEAST[width][declined])
        # Columns keep their order, whichever are left out.
        assert shown == [c.key for c in PAYMENT_COLUMNS if c.key in shown]
        rows = assert_nothing_cut(table)
        # The payment by card shows its whole receipt number.
        paid = next(r for r in rows if r["invoice"] == "INV-1004")
        assert paid["receipt"] == "R-000017"
        assert paid["amount"] == "$530.50"
        if "card" in shown:
            assert paid["card"] == "Visa •••• 4242"
        if declined:
            assert rows[0]["status"] == "declined (insufficient funds)"


async def test_payments_list_refits_its_columns_when_the_terminal_narrows(services):
    pay_inv_1004_for_dana(services.desk)
    app = desk_app(services)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await open_payments(pilot)
        wide = table.shown_keys
        assert wide == [c.key for c in PAYMENT_COLUMNS]
        await pilot.press("down")  # the cursor stays on its payment through the refit
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = table.shown_keys
        assert_most_important_first(narrow, PAYMENTS_PRIORITY, 5)
        assert len(narrow) < len(wide)
        rows = assert_nothing_cut(table)
        assert rows[0]["receipt"] == "R-000017"
        assert table.cursor_row == 1
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        assert table.shown_keys == wide
        assert_nothing_cut(table)


def raw_ids(text: str) -> list[str]:
    return re.findall(r"\b(?:client|checkout|staff|invoice|firm):\S+|amount_minor", text)


@pytest.mark.parametrize("width", SIZES)
async def test_audit_log_speaks_in_names_and_amounts_with_raw_values_one_key_away(
        services, width):
    assert by_priority(AUDIT_COLUMNS) == AUDIT_PRIORITY
    desk = services.desk
    pay_inv_1004_for_dana(desk)
    desk.sign_in_client("dana.whitfield@example.com", DANA_PASSWORD)
    checkout = Checkout.select().order_by(Checkout.id.desc()).first()
    dana = Client.get(Client.name == "Dana Whitfield")
    app = desk_app(services)
    async with app.run_test(size=(width, 30)) as pilot:
        await sign_in(pilot, "Avery Admin", "1357")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, DeskAuditScreen)
        table = app.screen.query_one("#desk-audit-table", PriorityTable)
        shown = table.shown_keys
        assert_most_important_first(shown, AUDIT_PRIORITY, {80: 5, 100: 5, 120: 7}[width])
        assert shown == [c.key for c in AUDIT_COLUMNS if c.key in shown]
        rows = assert_nothing_cut(table)
        for cells in rows:  # no ids or minor units in the table
            assert not raw_ids(" ".join(cells.values())), cells
        sign_in_row = next(r for r in rows if r["action"] == "client sign-in")
        assert sign_in_row["subject"] == "Dana Whitfield"  # stored as client:<id>
        released = next(r for r in rows if r["action"] == "card released")
        assert released["subject"] == f"Checkout {checkout.id}"
        capture = next(i for i, r in enumerate(rows) if r["action"] == "payment captured")
        assert rows[capture]["subject"] == "INV-1004"
        assert rows[capture]["amount"] == "$530.50"  # stored as amount_minor=53050
        if "who" in shown:
            assert rows[capture]["who"] == "Front Desk for Dana Whitfield"

        for _ in range(capture - table.cursor_row):
            await pilot.press("down")
        await settle(pilot)
        detail = app.screen.query_one("#desk-audit-detail", Static)
        words = str(detail.render())
        assert f"$530.50 · Checkout {checkout.id}" in words
        assert "Front Desk for Dana Whitfield" in words
        assert not raw_ids(words)
        await pilot.press("d")  # the raw values, as stored, all of them on screen
        await pilot.pause()
        raw = str(detail.render())
        assert f"actor=staff:Front Desk for client:{dana.id}" in raw
        assert "subject=invoice:INV-1004" in raw
        assert f"checkout:{checkout.id}" in raw and "amount_minor=53050 USD" in raw
        visible = screen_text(app)
        for value in (f"client:{dana.id}", "subject=invoice:INV-1004",
                      f"checkout:{checkout.id}", "amount_minor=53050", "payment_intent:pi_"):
            assert value in visible, value
        await pilot.press("d")  # and back to words
        assert str(detail.render()) == words
        await pilot.press("enter")  # Enter shows the raw values too
        assert str(detail.render()) == raw


@pytest.mark.parametrize(("details", "amount", "words"), [
    ("invoice_payment:5 refund:2 amount_minor=10000 reason=client overpaid", 10000,
     "$100.00 · reason: client overpaid"),
    ("checkout:9 invoice_payment:12 amount_minor=47500 USD payment_intent:pi_x", 47500,
     "$475.00 · Checkout 9"),
    ("check CHK-1073 amount_minor=38750", 38750, "$387.50 · check CHK-1073"),
    ("online_payments_enabled=False", None, "online payments enabled off"),
])
def test_audit_details_in_words(details, amount, words):
    from billing.desk import _details_in_words

    money, text = _details_in_words(details, "USD", "en_US")
    assert (money.minor if money else None, text) == (amount, words)
