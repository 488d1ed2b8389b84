"""The QR code widget's text is a QR code a phone reads: its half blocks turned back into
modules and decoded with a real decoder (zxing-cpp) give the link back."""

from __future__ import annotations

import pytest
import zxingcpp

from tui.widgets.qr_code import QUIET_ZONE, qr_lines

URL = "http://127.0.0.1:54321/pay/cs_test_a1B2c3D4e5F6g7H8i9J0k1L2m3"  # 61 characters
_TOP, _BOTTOM = "█▀", "█▄"


def modules_from_text(lines: list[str]) -> list[list[bool]]:
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([ch in _TOP for ch in line])
        rows.append([ch in _BOTTOM for ch in line])
    return rows


def decode(rows: list[list[bool]], scale: int = 4) -> list[str]:
    """Decode a module matrix as a grayscale picture, `scale` pixels to a module."""
    width = len(rows[0]) * scale
    pixels = bytearray()
    for row in rows:
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        pixels += line * scale
    image = memoryview(bytes(pixels)).cast("B", (len(rows) * scale, width))
    return [code.text for code in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("url", [URL, "http://127.0.0.1:8/pay/cs_test_1", URL + "x" * 20])
def test_the_drawn_code_decodes_to_the_link(url):
    assert decode(modules_from_text(qr_lines(url))) == [url]


def test_a_sixty_character_link_fits_at_80x24():
    lines = qr_lines(URL)
    # Version 4 (33 modules, the smallest with error correction L) and the quiet zone.
    assert len(lines[0]) == 33 + 2 * QUIET_ZONE
    assert len(lines) == (33 + 2 * QUIET_ZONE + 1) // 2 == 19
    assert {len(line) for line in lines} == {37}


def test_the_quiet_zone_is_light():
    rows = modules_from_text(qr_lines(URL))[: 33 + 2 * QUIET_ZONE]
    for edge in (*rows[:QUIET_ZONE], *rows[-QUIET_ZONE:]):
        assert not any(edge)
    assert not any(row[c] for row in rows for c in (0, 1, -1, -2))


def test_a_damaged_code_does_not_decode_to_the_link():
    # The test can fail: a code with its finder patterns wiped is not read.
    rows = modules_from_text(qr_lines(URL))
    for r in range(QUIET_ZONE, QUIET_ZONE + 7):
        for c in range(QUIET_ZONE, QUIET_ZONE + 7):
            rows[r][c] = False
            rows[r][-c - 1] = False
    assert decode(rows) != [URL]
