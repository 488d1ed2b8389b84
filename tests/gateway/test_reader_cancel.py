"""Stopping the reader from the screen: a reader waiting for a card stops, the call
waiting on it ends as cancelled (nothing is made or charged); a reader that is not
waiting is left alone."""

from __future__ import annotations

import threading
import time

from gateway import GatewayError, StripeGateway
from gateway.sandbox import Sandbox


def test_a_waiting_reader_stops_and_the_card_request_ends_cancelled(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox) -> None:
    caught: list[BaseException] = []

    def wait_for_a_card() -> None:
        try:
            gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                     idempotency_key="reader-cancel", timeout_seconds=10)
        except BaseException as exc:  # noqa: BLE001 - looked at below
            caught.append(exc)

    waiter = threading.Thread(target=wait_for_a_card)
    waiter.start()
    deadline = time.monotonic() + 5
    while (sandbox.objects("terminal.reader")[0].get("action") or {}).get("status") \
            != "in_progress":
        assert time.monotonic() < deadline, "the reader never waited for a card"
        time.sleep(0.01)
    started = time.monotonic()
    assert gateway.cancel_reader_action(sandbox.reader_id) is True
    waiter.join(10)
    assert time.monotonic() - started < 5  # stopped now, not at the 10-second timeout
    assert len(caught) == 1 and type(caught[0]) is GatewayError
    assert "canceled" in caught[0].message
    action = sandbox.objects("terminal.reader")[0]["action"]
    assert (action["status"], action["failure_code"]) == ("failed", "canceled")
    assert sandbox.count("payment_method") == 0 and sandbox.count("payment_intent") == 0


def test_a_reader_not_waiting_is_left_alone(gateway: StripeGateway, sandbox: Sandbox) -> None:
    assert gateway.cancel_reader_action(sandbox.reader_id) is False
    assert not sandbox.objects("terminal.reader")[0].get("action")


