"""A small Textual program for testing the SSH plumbing without the Paydesk app:
it shows its terminal's size, its TERM, its pid, and echoes what is typed. With
PAYDESK_TEST_ENV_FILE set, it writes its environment there as JSON once mounted (a
forked session's /proc/PID/environ shows the warm process's, not the session's)."""

from __future__ import annotations

import json
import os

from textual.app import App, ComposeResult
from textual.events import Resize
from textual.widgets import Input, Static


class TinyApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(f"tiny-app pid={os.getpid()} term={os.environ.get('TERM')}", id="who")
        yield Static("size=?", id="size")
        yield Input(id="entry")
        yield Static("", id="echo")

    def on_mount(self) -> None:
        path = os.environ.get("PAYDESK_TEST_ENV_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(dict(os.environ), out)

    def on_resize(self, event: Resize) -> None:
        self.query_one("#size", Static).update(f"size={event.size.width}x{event.size.height}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == "quit":
            self.exit()
        elif event.value == "crash":
            os._exit(3)
        elif event.value == "raise":
            raise RuntimeError("tiny-app was asked to fail")
        self.query_one("#echo", Static).update(f"echo={event.value}")
        event.input.value = ""  # the next word typed is a command of its own


def main(argv: list[str] | None = None) -> int:
    app = TinyApp()
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
