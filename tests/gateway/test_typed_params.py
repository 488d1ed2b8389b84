"""The gateway's Stripe requests are typed: a parameter Stripe does not know is a type error
before it is ever sent, and the payment method types go as `allowed_payment_method_types`."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import stripe

from gateway import StripeGateway
from gateway.sandbox import Sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]

# Requests built the way the gateway builds them: params declared as the SDK's TypedDicts,
# then passed to the typed SDK call; and one written straight into the call.
TEMPLATE = '''\
import stripe
from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams


def hold(client: stripe.StripeClient) -> stripe.PaymentIntent:
    params: PaymentIntentCreateParams = {{
        "amount": 1000, "currency": "usd", "capture_method": "manual",
        "{key}": ["card"]}}
    return client.v1.payment_intents.create(params=params)


def card_on_reader(client: stripe.StripeClient) -> stripe.SetupIntent:
    params: SetupIntentCreateParams = {{"usage": "off_session", "{key}": ["card_present"]}}
    return client.v1.setup_intents.create(params=params)


def inline_hold(client: stripe.StripeClient) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={{
        "amount": 1000, "currency": "usd", "{key}": ["card"]}})
'''
ERROR = re.compile(r"^(?P<file>[\w.]+):(?P<line>\d+): error: (?P<text>.*)$")


def _line_of(text: str) -> int:
    return next(number for number, line in enumerate(TEMPLATE.splitlines(), 1) if text in line)


def test_an_unknown_or_removed_parameter_is_a_type_error_and_the_chosen_one_passes(
        tmp_path: Path) -> None:
    modules = {"removed": "payment_method_types", "made_up": "paydesk_made_up_parameter",
               "allowed": "allowed_payment_method_types"}
    for name, key in modules.items():
        (tmp_path / f"{name}.py").write_text(TEMPLATE.format(key=key), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO_ROOT / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary",
         *(f"{name}.py" for name in modules)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    errors: dict[str, list[tuple[int, str]]] = {name: [] for name in modules}
    for line in run.stdout.splitlines():
        match = ERROR.match(line)
        assert match, f"mypy printed something other than an error: {line!r}\n{run.stderr}"
        errors[match["file"].removesuffix(".py")].append((int(match["line"]), match["text"]))
    for name in ("removed", "made_up"):
        key = modules[name]
        assert errors[name] == [
            (_line_of("params: PaymentIntentCreateParams"),
             f'Extra key "{key}" for TypedDict "PaymentIntentCreateParams"  '
             "[typeddict-unknown-key]"),
            (_line_of("params: SetupIntentCreateParams"),
             f'Extra key "{key}" for TypedDict "SetupIntentCreateParams"  '
             "[typeddict-unknown-key]"),
            (_line_of("create(params={{"),
             f'Extra key "{key}" for TypedDict "PaymentIntentCreateParams"  '
             "[typeddict-unknown-key]"),
        ], run.stdout
    assert errors["allowed"] == [], run.stdout
    assert run.returncode == 1


Recorded = list[tuple[str, str, list[tuple[str, str]]]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Every request the SDK puts on the wire: (method, path, form fields)."""
    recorded: Recorded = []
    original = stripe.RequestsClient.request

    def recording(self: stripe.RequestsClient, method: str, url: str,
                  headers: Mapping[str, str], post_data: Any = None) -> Any:
        fields = urllib.parse.parse_qsl(post_data or "", keep_blank_values=True)
        recorded.append((method.upper(), urllib.parse.urlsplit(url).path, fields))
        return original(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe.RequestsClient, "request", recording)
    return recorded


def _types_sent(sent: Recorded, path: str) -> list[tuple[list[str], list[str]]]:
    """(allowed types, anything sent under the removed name) for each POST to `path`."""
    return [([value for key, value in fields if key.startswith("allowed_payment_method_types[")],
             [key for key, _ in fields if key.startswith("payment_method_types")])
            for method, url, fields in sent if method == "POST" and url == path]


def test_an_authorization_allows_card_only_and_never_sends_payment_method_types(
        gateway: StripeGateway, customer_id: str, sent: Recorded) -> None:
    for key, card in (("typed-hold-1", "pm_card_visa"), ("typed-hold-2", "pm_card_mastercard")):
        hold = gateway.authorize(amount=2500, currency="USD", payment_method_id=card,
                                 customer_id=customer_id, metadata={"paydesk_invoice": "7"},
                                 statement_descriptor_suffix="INV 7", description="Invoice 7",
                                 idempotency_key=key, off_session=key.endswith("2"))
        assert hold.status == "requires_capture"
    assert _types_sent(sent, "/v1/payment_intents") == [(["card"], []), (["card"], [])]


def test_the_readers_setup_intent_allows_card_present_only(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox, sent: Recorded) -> None:
    def tap() -> None:
        for _ in range(500):
            [reader] = sandbox.objects("terminal.reader")
            if reader["action"] and reader["action"]["status"] == "in_progress":
                gateway.present_test_card_on_reader(sandbox.reader_id)
                return
            threading.Event().wait(0.01)

    tapper = threading.Thread(target=tap)
    tapper.start()
    card = gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                    idempotency_key="typed-reader", timeout_seconds=10)
    tapper.join()
    assert card.last4 == "4242"
    assert _types_sent(sent, "/v1/setup_intents") == [(["card_present"], [])]
    # Nothing the gateway sent anywhere used the removed parameter.
    assert not [fields for _, _, fields in sent
                if any(key.startswith("payment_method_types") for key, _ in fields)]


def test_a_payer_without_email_or_name_sends_neither_and_is_found_again(
        gateway: StripeGateway, sent: Recorded) -> None:
    first = gateway.find_or_create_customer(client_ref="link-checkout-9", email="", name="",
                                            idempotency_key="typed-cus-1")
    again = gateway.find_or_create_customer(client_ref="link-checkout-9", email="", name="",
                                            idempotency_key="typed-cus-2")
    assert again == first
    customers = [(method, fields) for method, path, fields in sent if path == "/v1/customers"]
    assert customers == [("POST", [("metadata[paydesk_client_ref]", "link-checkout-9")])]
