"""The line at the top of every screen: the firm, where the payer is, and TEST MODE."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class TestModeBanner(Static):
    """A clear mark that no real card is charged. Hidden when the firm is live."""

    __test__ = False  # not a pytest test class, whatever its name says

    DEFAULT_CSS = """
    TestModeBanner {
        width: auto;
        height: 1;
        padding: 0 1;
        background: $warning;
        color: $background;
        text-style: bold;
    }
    TestModeBanner.-live { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("TEST MODE", id=id, markup=False)

    def on_mount(self) -> None:
        firm = getattr(self.app, "firm", None)
        self.set_class(firm is not None and not firm.test_mode, "-live")


class ScreenTitle(Horizontal):
    """Firm name and screen title on the left, TEST MODE on the right. Text from the
    database is shown literally (a firm called "[b]Law[/b]" stays as typed)."""

    DEFAULT_CSS = """
    ScreenTitle {
        dock: top;
        height: 1;
        width: 100%;
        background: $panel;
    }
    ScreenTitle > .screen-title--text {
        width: 1fr;
        height: 1;
        padding: 0 1;
        text-style: bold;
    }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static(self._text(), classes="screen-title--text", markup=False)
        yield TestModeBanner()

    def _text(self) -> Text:
        firm = getattr(self.app, "firm", None)
        text = Text()
        if firm is not None:
            text.append(firm.name)
            text.append("  ·  ", style="dim")
        text.append(self._title)
        return text

    def set_title(self, title: str) -> None:
        self._title = title
        self.query_one(".screen-title--text", Static).update(self._text())
