"""The Paydesk app: the shell that every screen runs in.

The app is handed a `DeskApi` (built once by `tui.factory.make_app`) and never builds one
itself. It owns what is the same on every screen: the help key, the TEST MODE mark, the
one handler for worker errors, and, in kiosk mode, the lock-down (no command palette, no
quit key, however the kiosk was started) and the idle timer that wipes the session back to
the welcome screen, after a countdown that any key stops.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from billing.errors import BillingError
from billing.startup_gate import stripe_unreachable
from gateway.errors import GatewayError
from tui import terminal_watch
from tui.app_startup import AfterFirstScreen
from tui.demo_hints import DemoHints
from tui.demo_hints import demo_hints as build_demo_hints
from tui.screens import PaydeskModal, PaydeskScreen
from tui.widgets import TestModeBanner

if TYPE_CHECKING:  # names only: the first screen is drawn before the database layer loads
    from billing.desk_api import DeskApi
    from billing.values_firm import FirmInfo, StaffSession
    from tui.flow import PaymentFlow
    from tui.flow_values import FlowStep

MODES = ("kiosk", "desk", "demo")


class AppServices(Protocol):
    """What the app is given besides its desk: something to close when it stops
    (billing.services.Services, or a test's stand-in)."""

    desk: DeskApi

    def close(self) -> None: ...

    # Optional: `finish_start() -> str | None`, start-up's rest (Stripe, reconciling), run
    # once the first screen is drawn; it returns why Stripe could not be set up, or None
    # (or billing.services_later.DatabaseNotOpened: tui.app_startup).

# Activity that keeps a kiosk session alive. Mouse moves alone do not: a mouse resting on
# a shelf must not keep someone's invoices on screen.
_ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp,
             events.Paste)

# The kiosk warns for this long before it wipes an idle session (or half the idle period,
# when that is shorter).
IDLE_WARNING_SECONDS = 15

UNEXPECTED_ERROR = (
    "Something went wrong and nothing was changed. Please try again, or ask the front desk."
)


class PaydeskApp(App[None]):
    # The welcome screen's styles are read with the app's: a screen that brings styles of its
    # own when it is first pushed makes Textual parse every style sheet loaded so far again,
    # before that screen is drawn (the welcome screen is the first one drawn).
    CSS_PATH = ["app.tcss", "screens/welcome.tcss"]
    TITLE = "Paydesk"
    # Screens get -narrow under 100 columns (app.tcss: the footer makes room there).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Help", show=False, id="app.help_alt"),
        # Replaces Textual's own ctrl+q so kiosk mode can refuse it (action_quit).
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
        Binding("ctrl+c", "help_quit", show=False, system=True, id="app.ctrl_c"),
    ]

    @dataclass
    class FirmLoaded(Message):
        firm: FirmInfo

    @dataclass
    class StartupFailed(Message):
        # Why, in words: why Stripe could not be set up (billing.services.stripe_setup_failure)
        # or, with kind "database", why the database could not be opened.
        reason: str
        kind: Literal["stripe", "database"] = "stripe"

    def __init__(
        self,
        desk: DeskApi,
        *,
        mode: str,
        firm: FirmInfo | None = None,
        kiosk_idle_seconds: int = 120,
        clock: Callable[[], dt.datetime] | None = None,
        demo_hints: DemoHints | None = None,
        demo_sign_ins: bool = False,
        allow_quit: bool | None = None,
        idle_clock: Callable[[], float] | None = None,
        receipts_by_email: bool | None = None,
        services: AppServices | None = None,
        owns_services: bool = False,
        card_entry_ways: tuple[str, ...] = ("keyed", "reader", "phone"),
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        # Read by App.__init__: in a kiosk there is no command palette (and no ctrl+p).
        self.ENABLE_COMMAND_PALETTE = mode != "kiosk"
        super().__init__()
        self.desk = desk
        self.paydesk_mode = mode
        self.firm = firm
        self.kiosk_idle_seconds = kiosk_idle_seconds
        self.clock = clock
        # The sign-ins a demo shows on its screens (None outside a demo). The factory hands
        # them in; demo_sign_ins=True is short for the demo firm's own.
        self.demo_hints = demo_hints or (build_demo_hints() if demo_sign_ins else None)
        # A kiosk has no quit key, whoever asks for one (the demo's kiosk included).
        self.allow_quit = mode != "kiosk" and (allow_quit is None or allow_quit)
        # The snapshot tests turn this off so that no cursor blinks (tui.widgets.TextField).
        self.cursor_blink = True
        # Where receipts are saved by default (None: the user's downloads folder).
        self.receipt_dir: str | None = None
        # At a kiosk or over SSH a saved file would stay on the server (and be read by the
        # next session): the payer is offered "Email me the receipt" instead.
        self.receipts_by_email = mode == "kiosk" if receipts_by_email is None else receipts_by_email
        # The services `desk` comes from (tui.factory), closed when the app stops if the
        # app owns them.
        self.services: AppServices | None = services
        self.owns_services = owns_services
        # How a card may be given here, in tab order (billing.card_entry.offered_ways: the
        # factory's choice for the mode and the Stripe account).
        self.card_entry_ways = card_entry_ways
        # Seconds, for the idle timer: time.monotonic, or a clock the tests move.
        self.idle_clock = idle_clock or time.monotonic
        self._last_activity = self.idle_clock()
        self._flow: PaymentFlow | None = None
        # Start-up's rest, once the first screen is drawn, and the event poller it starts.
        self._after_first_screen = AfterFirstScreen(self)
        # Why start-up failed (None: it did not, or has not yet finished).
        self.startup_failure: str | None = None

    @property
    def flow(self) -> PaymentFlow:
        """The client payment flow: its screens report each step here (FlowStep). Its
        screens are loaded when a payment starts, not before the first screen."""
        if self._flow is None:
            from tui.flow import PaymentFlow

            self._flow = PaymentFlow(self)
        return self._flow

    # --- what the screens use ---------------------------------------------------------

    @property
    def is_kiosk(self) -> bool:
        return self.paydesk_mode == "kiosk"

    def now(self) -> dt.datetime:
        """The current time (the injected clock in tests)."""
        return self.clock() if self.clock is not None else dt.datetime.now(dt.UTC)

    def open_staff_screens(self) -> None:
        """The way to the front-desk screens: always through the staff sign-in."""
        from tui.screens.staff_sign_in import StaffSignInScreen

        self.push_screen(StaffSignInScreen(), callback=self._staff_signed_in)

    def _staff_signed_in(self, staff: StaffSession | None) -> None:
        if staff is None:
            return
        from tui.screens.desk_home import DeskHomeScreen

        self.push_screen(DeskHomeScreen(staff))

    def wipe_session(self) -> None:
        """Back to the first screen with nothing of the last payer left on it."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        base = self.screen_stack[-1] if len(self.screen_stack) > 1 else None
        reset = getattr(base, "reset", None)
        if callable(reset):
            reset()
        self._last_activity = self.idle_clock()

    # --- start-up ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, self._mark_test_mode)
        terminal = None if self.is_headless else terminal_watch.watched_terminal()
        if terminal is not None:
            self.set_interval(terminal_watch.CHECK_SECONDS, lambda: self._watch(terminal))
        if self.is_kiosk:
            self.set_interval(min(1.0, self.kiosk_idle_seconds / 4), self.kiosk_idle_tick)
        if self.firm is None:
            self._load_firm()
        else:
            # After Textual's start-up batch: a screen pushed during it is drawn twice.
            self.call_later(self._start)

    def _watch(self, terminal: int) -> None:
        """Stop when the terminal has hung up and the hang-up signal did not stop us."""
        if terminal_watch.hung_up(terminal):
            self.exit(return_code=1)

    @work(thread=True, exclusive=True, exit_on_error=False, group="firm")
    def _load_firm(self) -> None:
        self.post_message(self.FirmLoaded(self.desk.firm()))

    @on(FirmLoaded)
    def _firm_loaded(self, message: FirmLoaded) -> None:
        self.firm = message.firm
        self._start()

    def _start(self) -> None:
        if self.paydesk_mode == "desk":
            # At the desk the default screen is what shows behind the staff sign-in (and
            # again after signing out), so it carries the TEST MODE mark as well.
            self._mark_test_mode(self.screen, default_too=True)
            self.open_staff_screens()
        else:
            from tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
        # Stripe, the sandbox and start-up reconciliation wait for the first screen;
        # payments wait for them (billing.startup_gate).
        self.screen.call_after_refresh(self._after_first_screen.begin)

    @on(StartupFailed)
    def _startup_failed(self, message: StartupFailed) -> None:
        self.startup_failure = message.reason
        if message.kind == "database" or self.is_kiosk:
            # Nothing works without the database, in any mode; no one at a kiosk could act
            # on a notice. The app stops, and `paydesk` says why (tui.commands.apps).
            self.exit(return_code=1)
            return
        self.notify(f"{stripe_unreachable(message.reason)} Payments and refunds cannot be "
                    "made until Paydesk is started again.", severity="error", timeout=60,
                    markup=False)

    # --- the same on every screen -----------------------------------------------------

    def _mark_test_mode(self, screen: Screen, *, default_too: bool = False) -> None:
        """Screens built on ScreenTitle carry their own TEST MODE mark; any other full
        screen gets one docked at its top, so no screen goes without it. (The default screen
        is marked only where it is seen: at the desk, `default_too`.)"""
        if self.firm is None or not self.firm.test_mode or isinstance(screen, ModalScreen):
            return
        if screen.id == "_default" and not default_too:
            return

        def add() -> None:
            if screen.is_attached and not screen.query(TestModeBanner):
                screen.mount(TestModeBanner(id="app-test-mode"))

        screen.call_after_refresh(add)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        if not self.allow_quit:
            return  # a kiosk has no quit key
        await super().action_quit()

    def action_help_quit(self) -> None:
        if self.allow_quit:
            super().action_help_quit()

    def action_command_palette(self) -> None:
        if self.paydesk_mode != "kiosk":
            super().action_command_palette()

    def on_flow_step(self, message: FlowStep) -> None:
        """A step of the client payment flow (tui.flow_values.FlowStep), by its handler's
        name: the flow's values are loaded with its screens, after the first screen."""
        self.flow.handle(message.step)

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a failed worker is reported. Errors billing expected carry
        a message for the payer; anything else is logged and shown in plain words."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        from models.money import MoneyError  # loaded by then: the desk works in Money

        if isinstance(error, BillingError | GatewayError):
            # A gateway error that no screen put in its own words still reads as a sentence.
            self.notify(error.message, severity="error", markup=False)
        elif isinstance(error, MoneyError):
            self.notify(str(error), severity="error", markup=False)
        else:
            self.log.error(f"worker {event.worker.name!r} failed: {type(error).__name__}")
            node = event.worker.node
            own = node.WORKER_FAILED if isinstance(node, PaydeskScreen | PaydeskModal) else None
            self.notify(own or UNEXPECTED_ERROR, severity="error", markup=False)

    # --- the kiosk's idle timer ---------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY):
            self._last_activity = self.idle_clock()
        await super().on_event(event)

    def keep_session(self) -> None:
        """The payer is here: the idle period starts again."""
        self._last_activity = self.idle_clock()

    @property
    def idle_warning_seconds(self) -> float:
        return min(IDLE_WARNING_SECONDS, self.kiosk_idle_seconds / 2)

    def kiosk_idle_tick(self) -> None:
        """The kiosk's idle timer, run every second: in the last seconds of the idle period
        a countdown that any key or click stops, then the wipe."""
        left = self.kiosk_idle_seconds - (self.idle_clock() - self._last_activity)
        if left > self.idle_warning_seconds:
            self._idle_warning_done()
            return
        # A payment in flight finishes first; its result screen then times out itself.
        if any(isinstance(screen, PaydeskScreen | PaydeskModal) and screen.HOLDS_SESSION
               for screen in self.screen_stack):
            self._idle_warning_done()
            return
        base = self.screen_stack[-1] if len(self.screen_stack) == 2 else None
        if base is not None and not getattr(base, "has_input", lambda: True)():
            self._last_activity = self.idle_clock()  # nothing on screen to clear
            return
        if left > 0:
            self._idle_warning(math.ceil(left))
            return
        self.wipe_session()

    def _idle_warning(self, seconds: int) -> None:
        from tui.screens.idle_warning import IdleWarningScreen

        if isinstance(self.screen, IdleWarningScreen):
            self.screen.seconds_left = seconds
        else:
            self.push_screen(IdleWarningScreen(seconds))

    def _idle_warning_done(self) -> None:
        """Take the countdown away once the session was kept (its own key press usually
        has already)."""
        from tui.screens.idle_warning import IdleWarningScreen

        if isinstance(self.screen, IdleWarningScreen):
            self.screen.dismiss()

    # --- shutting down ----------------------------------------------------------------

    async def run_async(self, *args, **kwargs):  # type: ignore[override]
        try:
            return await super().run_async(*args, **kwargs)
        finally:
            self._after_first_screen.stop()
            if self.owns_services and self.services is not None:
                self.services.close()
