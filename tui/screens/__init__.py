"""Paydesk's screens, one per module with its .tcss beside it.

`PaydeskScreen` and `PaydeskModal` hand their workers' state changes to the app, so that
worker errors are handled in one place (`PaydeskApp._worker_state_changed`): a worker's
StateChanged message goes to the node that started it and does not bubble.
"""

from __future__ import annotations

from typing import ClassVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker


class _ForwardsWorkerState:
    # Class-level help text shown on the help screen (F1 / ?), under the screen's keys.
    HELP: str = ""
    # A screen that must not be wiped by the kiosk's idle timer (a payment in flight).
    HOLDS_SESSION: ClassVar[bool] = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.post_message(Worker.StateChanged(event.worker, event.state))  # type: ignore[attr-defined]


class PaydeskScreen(_ForwardsWorkerState, Screen):
    """A full screen of Paydesk."""


class PaydeskModal(_ForwardsWorkerState, ModalScreen):
    """A dialog over the current screen; it returns its answer through dismiss()."""


__all__ = ["PaydeskModal", "PaydeskScreen"]
