"""Paydesk's screens, one per module with its .tcss beside it.

`PaydeskScreen` and `PaydeskModal` hand their workers' state changes to the app, so that
worker errors are handled in one place (`PaydeskApp._worker_state_changed`): a worker's
StateChanged message goes to the node that started it and does not bubble.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

ResultType = TypeVar("ResultType")


class _ForwardsWorkerState:
    # Class-level help text shown on the help screen (F1 / ?), under the screen's keys.
    HELP: str = ""
    # A screen that must not be wiped by the kiosk's idle timer (a payment in flight).
    HOLDS_SESSION: ClassVar[bool] = False
    # What the app says when one of this screen's workers fails unexpectedly, where the
    # app's general sentence ("nothing was changed") would not be true.
    WORKER_FAILED: ClassVar[str | None] = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)
        self.app.post_message(Worker.StateChanged(event.worker, event.state))  # type: ignore[attr-defined]

    def worker_failed(self, worker: Worker) -> None:
        """Put this screen back in a usable state after a failed worker (re-enable a button,
        show where things stand). Reporting the failure is the app's job, not the screen's."""


class PaydeskScreen(_ForwardsWorkerState, Screen[ResultType]):
    """A full screen of Paydesk."""


class PaydeskModal(_ForwardsWorkerState, ModalScreen[ResultType]):
    """A dialog over the current screen; it returns its answer through dismiss()."""


__all__ = ["PaydeskModal", "PaydeskScreen"]
