"""The rest of the app's start-up, once its first screen is drawn: garbage collection back
on, the services' `finish_start` (Stripe, the sandbox, reconciliation; for `paydesk demo` on
a ready demo database the database and the Desk as well) on a thread of its own, then
Stripe's event poller. How it ended reaches the app as a `PaydeskApp.StartupFailed`.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from billing.services_later import DatabaseNotOpened

if TYPE_CHECKING:
    from tui.app import PaydeskApp

# Said when the services' start-up raised rather than answered (it is logged by type only).
FINISH_FAILED = "Paydesk could not finish starting. `paydesk doctor` checks the set-up."


class AfterFirstScreen:
    """Runs start-up's rest for `app` and owns the event poller it starts (stopped with
    the app: none is started once the app has stopped)."""

    def __init__(self, app: PaydeskApp) -> None:
        self._app = app
        # Stripe's events (refunds made elsewhere, disputes, settled debits), read now and
        # then once start-up has finished (billing.event_sync); only where the app owns
        # its services.
        self._event_poller: Any = None
        self._lock = threading.Lock()
        self._stopped = False

    def begin(self) -> None:
        """Called once the first screen is drawn."""
        if not gc.isenabled():
            # The command line held garbage collection back until now (tui.commands.apps):
            # what start-up made stays, so it is set aside where collections never scan it.
            gc.freeze()
            gc.enable()
        finish = getattr(self._app.services, "finish_start", None)
        if callable(finish):
            # A daemon thread, not a worker: asyncio.run waits for the default executor's
            # threads (workers') when the app stops, and start-up can take minutes with
            # Stripe unreachable. Started a turn later, as a worker was: after the frame.
            self._app.call_later(threading.Thread(target=self._run, args=(finish,),
                                                  name="paydesk-start-up", daemon=True).start)

    def _run(self, finish: Callable[[], str | DatabaseNotOpened | None]) -> None:
        app = self._app
        try:
            answer = finish()
        except Exception as exc:  # noqa: BLE001 - said in words, like a failed worker
            app.log.error(f"start-up failed: {type(exc).__name__}")
            answer = FINISH_FAILED
        if answer is not None:
            failed = (app.StartupFailed(answer.reason, kind="database")
                      if isinstance(answer, DatabaseNotOpened) else app.StartupFailed(answer))
            with suppress(RuntimeError):  # the app's loop has closed: it stopped meanwhile
                app.post_message(failed)
            return
        with self._lock:
            if (self._stopped or not app.owns_services
                    or getattr(app.services, "settings", None) is None):
                return
            from billing.event_sync import start_event_poller

            self._event_poller = start_event_poller(app.services)

    def stop(self) -> None:
        """The app has stopped: its event poller stops, and none starts afterwards."""
        with self._lock:
            self._stopped = True
            poller, self._event_poller = self._event_poller, None
        if poller is not None:
            poller.stop()
