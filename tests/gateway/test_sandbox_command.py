"""Point 5: `paydesk sandbox` runs until stopped and the SDK works against it; and the
sandbox keeps its state in a file across restarts with --state."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe

from gateway import GatewayOptions, KeyedCard, StripeGateway, build_stripe_client
from gateway.sandbox import start_sandbox
from tests.gateway.conftest import REPO_ROOT, api
from tui.cli import build_parser


def start_command(*flags: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYDESK_", "STRIPE_"))}
    # --port 0: a free port, so parallel runs never clash (the default is 12111).
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox", "--port", "0", *flags],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("Stripe sandbox listening on "):
            return process, line.split(" on ", 1)[1].strip()
        if not line and process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"paydesk sandbox did not start: {process.communicate()[1]}")


def test_paydesk_sandbox_serves_the_sdk_until_sigterm() -> None:
    process, url = start_command("--seed", "3")
    try:
        assert url.startswith("http://127.0.0.1:")
        client = build_stripe_client(GatewayOptions("sk_test_anyKeyWorks", api_base=url))
        gateway = StripeGateway(client, test_mode=True)
        customer = gateway.find_or_create_customer(client_ref="cli", email="cli@example.com",
                                                   name="CLI", idempotency_key="cli-cus")
        held = gateway.authorize(amount=2_000, currency="usd", payment_method_id="pm_card_visa",
                                 customer_id=customer, metadata={"via": "cli"},
                                 statement_descriptor_suffix="CLI", description="cli",
                                 idempotency_key="cli-pi")
        assert gateway.capture(held.id, idempotency_key="cli-cap").status == "succeeded"
        assert [label for _, label in gateway.list_readers()] == ["Front desk reader"]
        with pytest.raises(stripe.AuthenticationError):
            build_stripe_client(GatewayOptions("sk_live_nope", api_base=url)).v1.customers.list()
        assert process.poll() is None  # still running
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Stripe sandbox stopped." in out


def test_paydesk_sandbox_stops_on_sigint_too_and_applies_its_fault_flags() -> None:
    process, url = start_command("--error-rate", "1", "--latency-ms", "1")
    try:
        client = build_stripe_client(GatewayOptions("sk_test_flags", api_base=url,
                                                    max_network_retries=0))
        with pytest.raises(stripe.APIError) as caught:
            client.v1.customers.list()
        assert caught.value.http_status == 500  # --error-rate 1: every request
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_the_command_takes_every_fault_flag() -> None:
    args = build_parser().parse_args([
        "sandbox", "--port", "12111", "--host", "127.0.0.1", "--latency-ms", "20",
        "--error-rate", "0.1", "--drop-rate", "0.5", "--rate-limit", "25", "--seed", "9",
        "--state", "s.json"])
    assert (args.port, args.latency_ms, args.error_rate, args.drop_rate, args.rate_limit,
            args.seed, args.state) == (12111, 20, 0.1, 0.5, 25, 9, "s.json")
    assert callable(args.func)
    assert build_parser().parse_args(["sandbox"]).port == 12111  # Stripe's stripe-mock port


def test_a_bad_fault_flag_is_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["sandbox", "--drop-rate", "1.5"])
    assert args.func(args, None) == 2
    assert "drop_rate must be between 0 and 1" in capsys.readouterr().err


def test_state_survives_a_restart_with_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with start_sandbox(state_file=str(state)) as first:
        gateway = StripeGateway(build_stripe_client(GatewayOptions("sk_test_a", api_base=first.url)),
                                test_mode=True)
        customer = gateway.find_or_create_customer(client_ref="p", email="p@example.com",
                                                   name="P", idempotency_key="p-cus")
        held = gateway.authorize(amount=3_000, currency="usd", payment_method_id="pm_card_visa",
                                 customer_id=customer, metadata={}, description="p",
                                 statement_descriptor_suffix="P", idempotency_key="p-pi")
        reader = first.reader_id
    with start_sandbox(state_file=str(state)) as second:
        gateway = StripeGateway(build_stripe_client(GatewayOptions("sk_test_a", api_base=second.url)),
                                test_mode=True)
        assert gateway.payment_intent(held.id).status == "requires_capture"
        assert second.reader_id == reader
        # The idempotency keys survive too: the same authorize replays, no second intent.
        again = gateway.authorize(amount=3_000, currency="usd", payment_method_id="pm_card_visa",
                                  customer_id=customer, metadata={}, description="p",
                                  statement_descriptor_suffix="P", idempotency_key="p-pi")
        assert again.id == held.id and second.count("payment_intent") == 1
        assert gateway.capture(held.id, idempotency_key="p-cap").status == "succeeded"


def test_the_state_file_keeps_no_card_number_cvc_or_client_secret(tmp_path: Path) -> None:
    """Raw card entry puts the number and CVC in a request body; the file keeps neither
    (idempotency compares a digest), nor any client secret, yet replays stay identical."""
    state = tmp_path / "sandbox.json"
    with start_sandbox(state_file=str(state)) as first:
        raw = StripeGateway(build_stripe_client(GatewayOptions("sk_test_a", api_base=first.url)),
                            test_mode=False, raw_card_data_access=True)
        customer = raw.find_or_create_customer(client_ref="s", email="s@example.com",
                                               name="S", idempotency_key="s-cus")
        card = raw.card_from_keyed_entry(
            KeyedCard(number="5555555555554444", exp_month=3, exp_year=2031, cvc="7319"),
            customer_id=customer, idempotency_key="s-card")
        params = {"amount": "3000", "currency": "usd", "customer": customer,
                  "payment_method": card.payment_method_id, "confirm": "true",
                  "capture_method": "manual"}
        _, _, held = api(first, "POST", "/v1/payment_intents", params,
                         headers={"Idempotency-Key": "s-pi"})
        assert held["client_secret"].startswith(held["id"] + "_secret_")
        # A decline's error body embeds a PaymentIntent (and its secret) too.
        status, _, _ = api(first, "POST", "/v1/payment_intents",
                           {**params, "payment_method": "pm_card_visa_chargeDeclined"},
                           headers={"Idempotency-Key": "s-decline"})
        assert status == 402
    text = state.read_text(encoding="utf-8")
    for forbidden in ("5555555555554444", "_secret_", held["client_secret"]):
        assert forbidden not in text, forbidden
    # The CVC as a value of its own: its digits may well stand inside a timestamp.
    assert not re.search(r"(?<!\d)7319(?!\d)", text)
    assert state.stat().st_mode & 0o077 == 0  # readable by its owner only
    with start_sandbox(state_file=str(state)) as second:
        status, headers, again = api(second, "POST", "/v1/payment_intents", params,
                                     headers={"Idempotency-Key": "s-pi"})
        assert (status, headers["Idempotent-Replayed"]) == (200, "true")
        assert again == held  # client secret included
        _, _, read = api(second, "GET", f"/v1/payment_intents/{held['id']}")
        assert read["client_secret"] == held["client_secret"]
        _, _, replayed = api(second, "POST", "/v1/payment_intents",
                             {**params, "payment_method": "pm_card_visa_chargeDeclined"},
                             headers={"Idempotency-Key": "s-decline"})
        embedded = replayed["error"]["payment_intent"]
        assert embedded["client_secret"].startswith(embedded["id"] + "_secret_")
        # Other parameters under a kept key are still told apart after the restart.
        status, _, body = api(second, "POST", "/v1/payment_intents",
                              {**params, "amount": "3001"}, headers={"Idempotency-Key": "s-pi"})
        assert (status, body["error"]["type"]) == (400, "idempotency_error")
