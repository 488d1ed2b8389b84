"""Check boxes, radio buttons and switches that say their state in text, not by colour alone,
so they read the same in monochrome, on a 16-colour console and to a screen reader.

Textual draws a check box's X and a radio button's dot whether ticked or not (only the
colour differs) and a switch as a coloured bar. Here a check box shows [x] or [ ], a radio
button (●) or ( ), and a switch a bar followed by "On" or "Off". The screens use these, never
Textual's own (tests/tui/test_toggles_in_words.py checks every module under tui/)."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Checkbox as _Checkbox
from textual.widgets import RadioButton as _RadioButton
from textual.widgets import RadioSet
from textual.widgets import Switch as _Switch

__all__ = ["Checkbox", "RadioButton", "RadioSet", "Switch"]


class _Marked:
    """A toggle button whose button is a mark for each state: (off, on)."""

    MARKS: tuple[str, str] = ("[ ]", "[x]")

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")  # type: ignore[attr-defined]
        # The colours stay for those who have them; the mark no longer depends on them.
        return Content.assemble((self.MARKS[bool(self.value)], style))  # type: ignore[attr-defined]


class Checkbox(_Marked, _Checkbox):
    MARKS = ("[ ]", "[x]")
    DEFAULT_CSS = """
    Checkbox > .toggle--button { background: transparent; }
    Checkbox.-on > .toggle--button { background: transparent; }
    """


class RadioButton(_Marked, _RadioButton):
    MARKS = ("( )", "(●)")
    DEFAULT_CSS = """
    RadioButton > .toggle--button { background: transparent; }
    RadioButton.-on > .toggle--button { background: transparent; }
    """


class Switch(_Switch):
    """Textual's switch, with "On" or "Off" written after the bar."""

    DEFAULT_CSS = """
    Switch { padding: 0 1; }
    Switch > .switch--state { text-style: bold; }
    """
    COMPONENT_CLASSES = _Switch.COMPONENT_CLASSES | {"switch--state"}

    def render(self) -> RenderResult:
        bar = super().render()
        state = Text("On " if self.value else "Off",
                     style=self.get_component_rich_style("switch--state"))
        line = Text(no_wrap=True)
        # The bar is a one-line renderable: its cells, then the word on the same line.
        console = self.app.console
        for segment in console.render(bar, console.options.update(width=4, height=1)):
            if segment.text.strip("\n"):
                line.append(segment.text, segment.style)
        line.append(" ")
        line.append_text(state)
        return line

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return 4 + 1 + 3

