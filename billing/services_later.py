"""Services built after the first screen: `paydesk demo` on a demo database that is ready
draws its welcome before it loads peewee, the models and the Desk (tui.commands.apps).

`ServicesLater` stands for billing.services.Services until start-up has built them, on the
app's start-up thread (`finish_start`, run once the first screen is drawn); `DeskLater`
stands for their Desk meanwhile. Whatever asks the desk for something waits until it is
built (a screen's worker, or, for a moment, the app itself; asked before start-up has begun,
the desk begins it on a thread of its own, so that the app's own thread never waits on
itself), then the real Desk answers, and its Stripe work waits for the start-up gate as
ever: nothing is paid before start-up reconciliation has run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billing.errors import BillingError
from billing.startup_gate import STARTUP_WAIT_SECONDS

log = logging.getLogger(__name__)
STOPPED_WHILE_STARTING = "Paydesk was stopped while it was starting."
# Said by the desk when the database could not be opened after the first screen (it was
# read a moment before, so this is rare; the app stops then: DatabaseNotOpened).
NOT_STARTED = ("Paydesk could not open its database. Nothing was changed. "
               "`paydesk doctor` checks the set-up.")
STILL_STARTING = "Paydesk is still starting. Nothing was changed; try again in a moment."


@dataclass(frozen=True)
class DatabaseNotOpened:
    """Start-up's answer when the database could not be opened after the first screen.
    Unlike a Stripe set-up that failed (a sentence: payments wait, the rest works), nothing
    works without the database, so the app stops in every mode, saying `reason`."""

    reason: str


class DeskLater:
    """The Desk, once start-up has built it: every attribute read waits for it (at most
    `timeout` seconds), then is the real Desk's. BillingError when it could not be built."""

    def __init__(self, begin: Callable[[], None] = lambda: None,
                 timeout: float = STARTUP_WAIT_SECONDS) -> None:
        self._built = threading.Event()
        self._desk: Any = None
        self._begin = begin  # starts building it, unless that has begun already
        self._timeout = timeout

    def _arrive(self, desk: Any) -> None:
        """The Desk start-up built, or None when it could not build one."""
        self._desk = desk
        self._built.set()

    @property
    def is_built(self) -> bool:
        return self._built.is_set() and self._desk is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if not self._built.is_set():
            self._begin()
        if not self._built.wait(self._timeout):
            raise BillingError(STILL_STARTING)
        if self._desk is None:
            raise BillingError(NOT_STARTED)
        return getattr(self._desk, name)

    def __repr__(self) -> str:
        return f"<Desk, {'built' if self.is_built else 'built after the first screen'}>"


class ServicesLater:
    """billing.services.Services, built by `build` on start-up's thread: until then only
    `desk` (a DeskLater) and `close`; afterwards every other attribute is the built
    services' (settings, db, gateway, sandbox...)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._services: Any = None
        self._lock = threading.Lock()
        self._stopping = False
        self._begun = False
        self._finished = threading.Event()
        self._answer: str | DatabaseNotOpened | None = None
        self.desk = DeskLater(begin=self._begin_in_background)

    def __getattr__(self, name: str) -> Any:
        services = self.__dict__.get("_services")
        if name.startswith("_") or services is None:
            raise AttributeError(name)
        return getattr(services, name)

    def finish_start(self) -> str | DatabaseNotOpened | None:
        """Build the services (the database opened and upgraded, the Desk), then finish
        their start-up (Stripe, the sandbox, reconciliation: Services.finish_start). Returns
        None when Stripe is ready, else why not in words; DatabaseNotOpened when the services
        could not be built. Blocking: start-up's thread. Once begun (by the desk, or an
        earlier call), a call waits for that start-up's answer."""
        with self._lock:
            first, self._begun = not self._begun, True
        if first:
            try:
                self._answer = self._finish_start()
            finally:
                self._finished.set()
        else:
            self._finished.wait()
        return self._answer

    def _begin_in_background(self) -> None:
        with self._lock:
            if self._begun:
                return
        threading.Thread(target=self.finish_start, name="paydesk-start-up",
                         daemon=True).start()

    def _finish_start(self) -> str | DatabaseNotOpened | None:
        if self._stopping:
            self.desk._arrive(None)
            return STOPPED_WHILE_STARTING
        try:
            services = self._build()
        except Exception as exc:  # noqa: BLE001 - said in words; the desk says so too
            log.warning("the database could not be opened after the first screen",
                        exc_info=exc)
            self.desk._arrive(None)
            return DatabaseNotOpened(f"the database could not be opened ({type(exc).__name__})."
                                     " `paydesk doctor` checks the set-up.")
        with self._lock:
            if self._stopping:  # the app stopped meanwhile: nothing is left open
                services.close()
                self.desk._arrive(None)
                return STOPPED_WHILE_STARTING
            self._services = services
        self.desk._arrive(services.desk)
        return services.finish_start()

    def close(self) -> None:
        """Stop what start-up built (or stop start-up from building it)."""
        with self._lock:
            self._stopping = True
            services = self._services
        if services is not None:
            services.close()
        else:
            self.desk._arrive(None)  # nothing waits for a desk that will not come
