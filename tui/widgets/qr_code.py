"""A QR code drawn with half-block characters: two rows of modules to a line of text, so
that a ~60-character link (version 4, 33 modules) with its quiet zone takes 37 columns and
19 lines, and fits beside the payment details at 80x24.

Dark modules are drawn black on white whatever the terminal's theme: phone cameras look for
dark modules on a light ground."""

from __future__ import annotations

import segno
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

# Two modules of quiet zone (the standard asks four; phones read two on a screen, and four
# would not leave room at 80x24). The white margin of the widget adds to it.
QUIET_ZONE = 2
_CELLS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
QR_STYLE = Style(color="black", bgcolor="white")


def qr_modules(data: str, border: int = QUIET_ZONE) -> list[list[bool]]:
    """The module matrix (True: dark) of the smallest QR code with error correction L that
    holds `data`, with `border` light modules all round."""
    code = segno.make(data, error="l", boost_error=False, micro=False)
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=border)]


def qr_lines(data: str, border: int = QUIET_ZONE) -> list[str]:
    """`data` as lines of half-block characters (top module in the upper half of each cell);
    an odd last row is paired with a light one."""
    rows = qr_modules(data, border)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return ["".join(_CELLS[top, bottom] for top, bottom in zip(upper, lower, strict=True))
            for upper, lower in zip(rows[::2], rows[1::2], strict=True)]


class QrCode(Static):
    """A QR code of `data` (a link), black on white."""

    DEFAULT_CSS = """
    QrCode {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, data: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(self._text(data), id=id, classes=classes)
        self.data = data

    @staticmethod
    def _text(data: str) -> Text:
        return Text("\n".join(qr_lines(data)), style=QR_STYLE, no_wrap=True, overflow="crop")

    def show(self, data: str) -> None:
        self.data = data
        self.update(self._text(data))
