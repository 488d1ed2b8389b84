"""Snapshots of the "Pay on your phone" screen at 80x24 and 120x40 (the demo firm's values,
a fixed clock, a fixed link, no blinking cursor), and the QR code in the committed 80x24
picture read back: its half blocks turned into modules and decoded with zxing-cpp give the
link."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.tui.fakes import DANA, PHONE_LINK, FakeDesk
from tests.tui.test_qr_code import decode
from tests.tui.test_snapshots_client import SELECTION, SIZES, make, settle
from tui.screens.phone_entry import PhoneEntryScreen

SNAPSHOTS = Path(__file__).resolve().parents[2] / "snapshots" / "test_snapshots_phone_entry"
PICTURE_80X24 = SNAPSHOTS / "test_phone_entry[80x24].svg"
CELL_WIDTH = 12.2  # pixels per column in Textual's SVG export
_TOP, _BOTTOM = "█▀", "█▄"
QUIET = 4  # light modules put round the code read from the picture


def phone_entry_shown(desk: FakeDesk):
    """run_before: the phone-entry screen with its QR code drawn. The screen keeps polling
    the (fake) page, so its worker never completes: wait for the code, not the workers."""

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.push_screen(PhoneEntryScreen(DANA, SELECTION, poll_seconds=60))
        for _ in range(100):
            if pilot.app.screen.query("#phone-qr"):
                break
            await pilot.pause(0.02)
        for _ in range(5):
            await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_phone_entry(snap_compare, size):
    desk = FakeDesk()
    assert snap_compare(make(desk=desk), terminal_size=size,
                        run_before=phone_entry_shown(desk))
    assert desk.phone_amounts == {s.invoice.invoice_id: s.amount for s in SELECTION}


def svg_rows(svg: str) -> list[str]:
    """The picture's characters, one string per terminal line, each at its column."""
    cells: dict[int, dict[int, str]] = {}
    for match in re.finditer(r'<text[^>]*\bx="([\d.]+)"[^>]*clip-path="url\(#[\w-]*line-(\d+)\)"'
                             r"[^>]*>(.*?)</text>", svg, flags=re.S):
        x, line, body = float(match[1]), int(match[2]), match[3]
        text = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")
        text = text.replace("\n", "")  # a line's end, not a cell
        start = round(x / CELL_WIDTH)
        row = cells.setdefault(line, {})
        for offset, ch in enumerate(text):
            row[start + offset] = ch
    width = max((max(r) + 1 for r in cells.values() if r), default=0)
    return ["".join(cells.get(n, {}).get(c, " ") for c in range(width))
            for n in range(max(cells) + 1)]


def qr_from_picture(rows: list[str]) -> list[list[bool]]:
    """The modules drawn in half blocks (two to a character cell), cut to the dark ones'
    bounds and given a quiet zone of QUIET light modules."""
    lines = [n for n, row in enumerate(rows) if any(ch in "▀▄█" for ch in row)]
    assert lines, "no half blocks in the picture"
    cols = [c for n in lines for c, ch in enumerate(rows[n]) if ch in "▀▄█"]
    left, right = min(cols), max(cols)
    modules: list[list[bool]] = []
    for n in range(lines[0], lines[-1] + 1):
        part = rows[n][left:right + 1]
        modules.append([ch in _TOP for ch in part])
        modules.append([ch in _BOTTOM for ch in part])
    while not any(modules[0]):
        modules.pop(0)
    while not any(modules[-1]):
        modules.pop()
    width = len(modules[0]) + 2 * QUIET
    light = [[False] * width for _ in range(QUIET)]
    return [*light, *([False] * QUIET + row + [False] * QUIET for row in modules), *light]


def test_the_qr_code_in_the_80x24_picture_decodes_to_the_link():
    rows = svg_rows(PICTURE_80X24.read_text(encoding="utf-8"))
    assert len(rows) == 24 and max(len(r) for r in rows) <= 80
    # The link is written out in full beside the code (over two lines at this width).
    right = max(c for row in rows for c, ch in enumerate(row) if ch in "▀▄█")
    beside = "".join(row[right + 1:].strip() for row in rows)
    assert PHONE_LINK in beside
    assert "4 transactions will be charged:" in beside and "Total  $1,920.25" in beside
    assert decode(qr_from_picture(rows)) == [PHONE_LINK]


def test_a_picture_with_a_damaged_code_does_not_decode():
    # The reading can fail: a code with one finder pattern blanked is not read.
    rows = svg_rows(PICTURE_80X24.read_text(encoding="utf-8"))
    modules = qr_from_picture(rows)
    for r in range(QUIET, QUIET + 7):
        for c in range(QUIET, QUIET + 7):
            modules[r][c] = False
    assert decode(modules) != [PHONE_LINK]
