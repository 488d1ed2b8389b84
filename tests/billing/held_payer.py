"""A payer in a process of its own, held between authorize and capture.

`python -m tests.billing.held_payer DB_URL SANDBOX_URL OUTBOX_DIR INVOICE...` pays the
demo client's INVOICEs by card through the real Desk. Once Stripe has authorized every
invoice, before the engine has the answers, it prints `held CHECKOUT_ID` and waits for a
line on standard input (the test's event); then the engine goes on to capture, and the
result is printed as JSON. Killed while held, it leaves the checkout
exactly as a crashed terminal would.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from billing.config import Settings, StripeSettings
from billing.desk import Desk
from gateway import GatewayOptions, StripeGateway
from models import Invoice, bind, open_database
from models.demo import DANA_EMAIL
from models.money import Money
from tests.billing.conftest import TODAY, keyed


class HeldBeforeCapture:
    """The real gateway; every authorization's answer is held back, once all of them have
    come from Stripe, until the test says go: the payment is authorized at Stripe and not
    yet decided (nor told to the database) by the engine."""

    def __init__(self, gateway, count: int) -> None:
        self._gateway, self._count = gateway, count
        self._lock = threading.Lock()
        self._returned = 0
        self._go = threading.Event()

    def _wait_for_the_word(self) -> None:
        sys.stdin.readline()
        self._go.set()

    def __getattr__(self, name):
        method = getattr(self._gateway, name)
        if name != "authorize":
            return method

        def held(**kwargs):
            answer = method(**kwargs)
            with self._lock:
                self._returned += 1
                if self._returned == self._count:
                    print(f"held {kwargs['metadata']['paydesk_checkout']}", flush=True)
                    threading.Thread(target=self._wait_for_the_word, daemon=True).start()
            self._go.wait()
            return answer
        return held


def main(db_url: str, api_base: str, outbox: str, *numbers: str) -> int:
    bind(open_database(db_url))
    gateway = StripeGateway.from_options(GatewayOptions(
        api_key="sk_test_paydesk_tests", api_base=api_base, max_network_retries=2,
        timeout_seconds=10))
    settings = Settings(database_url=db_url, outbox_dir=outbox, terminal="held-terminal",
                        stripe=StripeSettings(api_key="sk_test_paydesk_tests",
                                              api_base=api_base))
    desk = Desk(settings, HeldBeforeCapture(gateway, len(numbers)), clock=lambda: TODAY)
    dana = desk.sign_in_client(DANA_EMAIL, "demo-dana")
    amounts = {}
    for number in numbers:
        inv = Invoice.get(Invoice.number == number)
        amounts[inv.id] = Money(inv.total_minor - inv.paid_minor, inv.currency)
    result = desk.pay(dana, amounts, keyed())
    print(json.dumps({"status": result.status, "message": result.message}), flush=True)
    return 0


if __name__ == "__main__":
    Path(sys.argv[3]).mkdir(parents=True, exist_ok=True)
    sys.exit(main(*sys.argv[1:]))
