"""Taps on the sandbox's simulated reader, from a thread, as the reader waits for each one.

Each tap waits (polling with a deadline, never a fixed sleep) until the reader has an
action `in_progress` on an object it has not tapped for yet, then presents the next card
with Stripe's test helper `present_payment_method`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gateway import StripeGateway
from gateway.sandbox import Sandbox

APPLE_PAY_TAP = "4000000000007775"  # the sandbox's wallet tap (gateway/sandbox/resources/terminal.py)
VISA = "4242424242424242"
DECLINED = "4000000000000002"


def _target(action: dict[str, Any]) -> str:
    kind = action["type"]
    field = "setup_intent" if kind == "process_setup_intent" else "payment_intent"
    return action[kind][field]


class Tapper:
    """Taps `numbers`, one per reader action, in order. `tapped` lists (action type, the
    intent tapped for); `join()` re-raises what went wrong in the thread."""

    def __init__(self, sandbox: Sandbox, gateway: StripeGateway, numbers: list[str], *,
                 deadline_seconds: float = 20.0) -> None:
        self.sandbox = sandbox
        self.gateway = gateway
        self.numbers = list(numbers)
        self.deadline_seconds = deadline_seconds
        self.tapped: list[tuple[str, str]] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader-taps", daemon=True)

    def __enter__(self) -> Tapper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.deadline_seconds)

    def join(self) -> list[tuple[str, str]]:
        self._thread.join(self.deadline_seconds)
        assert not self._thread.is_alive(), "the taps did not finish"
        if self.error is not None:
            raise self.error
        return self.tapped

    def _waiting_action(self) -> dict[str, Any] | None:
        reader = next(r for r in self.sandbox.objects("terminal.reader")
                      if r["id"] == self.sandbox.reader_id)
        action = reader.get("action")
        if action and action["status"] == "in_progress":
            target = (action["type"], _target(action))
            if target not in self.tapped:
                return action
        return None

    def _run(self) -> None:
        try:
            for number in self.numbers:
                deadline = time.monotonic() + self.deadline_seconds
                action = self._waiting_action()
                while action is None:
                    if self._stop.is_set():
                        return
                    if time.monotonic() > deadline:
                        raise AssertionError(f"the reader never waited for tap {number}")
                    self._stop.wait(0.01)
                    action = self._waiting_action()
                self.tapped.append((action["type"], _target(action)))
                self.gateway.present_test_card_on_reader(self.sandbox.reader_id, number)
        except BaseException as exc:  # noqa: BLE001 - handed to join()
            self.error = exc
