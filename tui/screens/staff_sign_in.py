"""Staff sign-in: a name and a PIN, before any staff screen.

A modal that returns the StaffSession, or None when the person gives up (the kiosk then
stays on its welcome screen: a kiosk never reaches staff screens without a PIN).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker

from billing.errors import BillingError, SignInFailed, StaffLocked
from billing.values_firm import StaffSession  # drawn before the database layer loads
from tui.screens import PaydeskModal
from tui.widgets import TextField


def locked_text(until: dt.datetime | None) -> str:
    """"Locked until 14:05" in the terminal's local time (naive times are shown as they are)."""
    if until is None:
        return "Locked: too many wrong PINs. Ask an admin."
    if until.tzinfo is not None:
        until = until.astimezone()
    return f"Locked until {until:%H:%M}: too many wrong PINs."


class StaffSignInScreen(PaydeskModal[StaffSession | None]):
    """Name + PIN. Five wrong PINs lock the staff member; the screen says until when."""

    CSS_PATH = "staff_sign_in.tcss"
    AUTO_FOCUS = "#staff-sign-in-name"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="staff_sign_in.cancel")]

    @dataclass
    class SignedIn(Message):
        staff: StaffSession

    @dataclass
    class Refused(Message):
        message: str
        locked: bool = False

    def __init__(self) -> None:
        super().__init__()
        # A sign-in is being checked: a second Enter must not start another (it would count
        # as a second try toward the lockout, and a second success would dismiss twice).
        self._checking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="staff-sign-in-box") as box:
            box.border_title = "Staff sign-in"
            yield Label("Name", id="staff-sign-in-name-label")
            yield TextField(placeholder="Your name", id="staff-sign-in-name", max_length=80)
            yield Label("PIN", id="staff-sign-in-pin-label")
            yield TextField(
                placeholder="PIN",
                password=True,
                restrict=r"[0-9]*",
                max_length=12,
                id="staff-sign-in-pin",
            )
            yield Static("", id="staff-sign-in-message", markup=False)
            hint = self._demo_hint()
            if hint:
                yield Static(hint, id="staff-sign-in-demo", markup=False)
            with Horizontal(id="staff-sign-in-buttons"):
                yield Button("Sign in", variant="primary", id="staff-sign-in-submit")
                yield Button("Cancel", id="staff-sign-in-cancel")

    def _demo_hint(self) -> str:
        hints = self.app.demo_hints
        return hints.staff if hints is not None else ""

    # --- input -----------------------------------------------------------------------

    @on(Input.Submitted, "#staff-sign-in-name")
    def _name_entered(self) -> None:
        self.query_one("#staff-sign-in-pin", Input).focus()

    @on(Input.Submitted, "#staff-sign-in-pin")
    @on(Button.Pressed, "#staff-sign-in-submit")
    def _submit(self) -> None:
        if self._checking:
            return
        name = self.query_one("#staff-sign-in-name", Input).value.strip()
        pin = self.query_one("#staff-sign-in-pin", Input).value
        if not name or not pin:
            self._show("Enter your name and your PIN.", error=True)
            self.query_one("#staff-sign-in-name" if not name else "#staff-sign-in-pin").focus()
            return
        self._busy(True)
        self._show("Checking…")
        self._sign_in(name, pin)

    @on(Button.Pressed, "#staff-sign-in-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    # --- work ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _sign_in(self, name: str, pin: str) -> None:
        try:
            staff = self.app.desk.sign_in_staff(name, pin)
        except StaffLocked as exc:
            self.post_message(self.Refused(locked_text(exc.until), locked=True))
        except SignInFailed as exc:
            self.post_message(self.Refused(_refusal_text(exc)))
        else:
            self.post_message(self.SignedIn(staff))

    @on(SignedIn)
    def _signed_in(self, event: SignedIn) -> None:
        self.dismiss(event.staff)

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        self._busy(False)
        pin = self.query_one("#staff-sign-in-pin", Input)
        pin.value = ""
        self._show(event.message, error=True, locked=event.locked)
        pin.focus()

    WORKER_FAILED = "Sign-in is not available: something went wrong. Please try again."

    def worker_failed(self, worker: Worker) -> None:
        self._busy(False)
        self.query_one("#staff-sign-in-pin", Input).focus()
        error = worker.error
        # Billing's own errors are written for the person at the desk; anything else is
        # logged by the app, never shown as an exception's text.
        self._show(f"Sign-in is not available: {error.message}"
                   if isinstance(error, BillingError) else self.WORKER_FAILED, error=True)

    def _busy(self, busy: bool) -> None:
        """While a sign-in is checked, neither field nor the button takes another."""
        self._checking = busy
        for widget_id in ("#staff-sign-in-name", "#staff-sign-in-pin", "#staff-sign-in-submit"):
            self.query_one(widget_id).disabled = busy

    def _show(self, message: str, *, error: bool = False, locked: bool = False) -> None:
        box = self.query_one("#staff-sign-in-message", Static)
        box.update(Text(message))
        box.set_class(error, "-error")
        box.set_class(locked, "-locked")


def _refusal_text(exc: SignInFailed) -> str:
    """The engine's message: it already says how many tries are left."""
    return exc.message or "Wrong name or PIN."
