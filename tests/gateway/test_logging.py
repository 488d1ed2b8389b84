"""Point 4: a full payment and refund with the root logger at DEBUG leaves no card number,
CVC, API key or client secret in any log record (or on stderr)."""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterator

import pytest
import stripe

from gateway import (
    CardDeclined,
    CardNumberInvalid,
    GatewayMisconfigured,
    KeyedCard,
    StripeGateway,
)
from gateway.logging_guard import StripeBodyFilter, redact
from gateway.sandbox import Sandbox
from tests.gateway.conftest import TEST_KEY, make_gateway

NUMBERS = ("5555555555554444", "4000000000000341", "4242424242424242", "4000000000000002")
CVC = "737"
FORBIDDEN = [re.compile(p) for p in (
    *(re.escape(n) for n in NUMBERS),
    r"cvc\W{0,8}\d{3,4}",  # a CVC next to its name, form-encoded or JSON
    r"\b[sr]k_(?:test|live)_",  # any secret or restricted key
    r"_secret_", r"client_secret",
)]


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.fixture
def root_at_debug() -> Iterator[Collect]:
    root = logging.getLogger()
    handler, level = Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def leaks(texts: list[str]) -> list[str]:
    return [f"{pattern.pattern!r} in {text[:200]!r}" for text in texts
            for pattern in FORBIDDEN if pattern.search(text)]


def full_payment_and_refund(sandbox: Sandbox) -> None:
    # Live mode with raw card access: the number and CVC really travel in a request body.
    raw = make_gateway(sandbox, test_mode=False, raw=True)
    customer = raw.find_or_create_customer(client_ref="c-9", email="eve@example.com",
                                           name="Eve", idempotency_key="log-cus")
    card = raw.card_from_keyed_entry(
        KeyedCard(number=NUMBERS[0], exp_month=3, exp_year=2031, cvc=CVC, postal_code="10001"),
        customer_id=customer, idempotency_key="log-card")
    held = raw.authorize(amount=25_000, currency="usd", payment_method_id=card.payment_method_id,
                         customer_id=customer, metadata={"invoice": "INV-42"},
                         statement_descriptor_suffix="INV-42", description="INV-42",
                         idempotency_key="log-pi")
    raw.capture(held.id, idempotency_key="log-cap")
    raw.refund(held.id, amount=5_000, idempotency_key="log-re-1")
    raw.refund(held.id, amount=None, idempotency_key="log-re-2")
    # Test mode: a keyed test card, a decline, and a card tapped on the reader.
    test = make_gateway(sandbox)
    saved = test.card_from_keyed_entry(
        KeyedCard(number=NUMBERS[1], exp_month=3, exp_year=2031, cvc=CVC),
        customer_id=customer, idempotency_key="log-card-2")
    with pytest.raises(CardDeclined):
        test.authorize(amount=1_000, currency="usd", payment_method_id=saved.payment_method_id,
                       customer_id=customer, metadata={}, statement_descriptor_suffix="INV",
                       description="d", idempotency_key="log-decline")
    tap = threading.Timer(0.2, test.present_test_card_on_reader, (sandbox.reader_id, NUMBERS[2]))
    tap.start()
    test.card_from_reader(sandbox.reader_id, customer_id=customer, idempotency_key="log-tap",
                          timeout_seconds=10)
    tap.join()


def test_a_full_payment_and_refund_at_debug_logs_no_card_data_or_secret(
        sandbox: Sandbox, root_at_debug: Collect, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Ask the SDK to print bodies to stderr too; building the client must stop that.
    monkeypatch.setattr(stripe, "log", "debug")
    full_payment_and_refund(sandbox)
    assert any(t.startswith("stripe ") for t in root_at_debug.texts)  # the SDK did log
    assert len(root_at_debug.texts) > 20
    assert leaks(root_at_debug.texts) == []
    out, err = capfd.readouterr()
    assert leaks([out, err]) == []


def test_without_the_guard_the_same_scan_finds_leaks(
        sandbox: Sandbox, root_at_debug: Collect) -> None:
    """The scan above can fail: with the filter taken off, bodies and secrets show up."""
    client = make_gateway(sandbox)._client  # installs the guard ...
    logger = logging.getLogger("stripe")
    guard = [f for f in logger.filters if isinstance(f, StripeBodyFilter)]
    assert guard
    for f in guard:
        logger.removeFilter(f)  # ... which this test takes off again for one call
    try:
        client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"},
                                         options={"idempotency_key": "leak"})
    finally:
        for f in guard:
            logger.addFilter(f)
    assert any("client_secret" in leak for leak in leaks(root_at_debug.texts))


def test_redact_masks_keys_secrets_and_numbers() -> None:
    text = (f"key={TEST_KEY} rk_live_abc123 whsec_x1 pi_123_secret_abc "
            "client_secret=pi_9_secret_z card 4242 4242 4242 4242 "
            "error_message='Invalid API Key provided: sk_live_********wxyz'")
    cleaned = redact(text)
    assert leaks([cleaned]) == []
    assert "whsec_x1" not in cleaned and "wxyz" not in cleaned


def test_a_refused_live_key_is_not_logged_even_masked(sandbox: Sandbox,
                                                      root_at_debug: Collect) -> None:
    live_key = "sk_live_" + "Q" * 20 + "wxyz"
    gateway = make_gateway(sandbox, api_key=live_key)
    with pytest.raises(GatewayMisconfigured) as caught:
        gateway.payment_intent("pi_anything")
    assert "sk_" not in caught.value.message
    assert any("Invalid API Key" in t for t in root_at_debug.texts)  # the SDK logged it
    assert leaks(root_at_debug.texts) == [] and not any("wxyz" in t for t in root_at_debug.texts)


def test_gateway_values_never_carry_the_client_secret(gateway: StripeGateway,
                                                      customer_id: str) -> None:
    held = gateway.authorize(amount=1_000, currency="usd", payment_method_id="pm_card_visa",
                             customer_id=customer_id, metadata={},
                             statement_descriptor_suffix="INV", description="d",
                             idempotency_key="secretless")
    assert leaks([repr(held), repr(gateway.payment_intent(held.id))]) == []


def _traceback_with_locals(error: BaseException) -> str:
    """The traceback as a debugger shows it, from the frame below the test's own (whose
    parameters hold the number), with every chained exception."""
    assert error.__traceback__ is not None
    return "".join(traceback.TracebackException(
        type(error), error, error.__traceback__.tb_next, capture_locals=True).format())


# Built at run time, so the test's own source lines (shown in tracebacks) do not hold them.
UNKNOWN_NUMBER, DECLINING_NUMBER, BAD_LUHN = "4" + "1" * 15, "40000000" + "00000002", "4242" * 3 + "4241"
SECRET_CVC = "73" + "19"


@pytest.mark.parametrize("mode,number,error", [
    ("raw", UNKNOWN_NUMBER, CardDeclined),  # the sandbox refuses it after it was sent
    ("test", DECLINING_NUMBER, CardDeclined),  # declined when attached
    ("test", BAD_LUHN, CardNumberInvalid),  # refused before any request
])
def test_a_failed_keyed_entry_shows_no_number_or_cvc_even_with_locals(
        sandbox: Sandbox, mode: str, number: str, error: type[Exception]) -> None:
    """Debuggers and rich tracebacks print every frame's local variables; the error of a
    keyed entry carries no frame or chained exception that holds the number or CVC."""
    gateway = make_gateway(sandbox, test_mode=mode == "test", raw=mode == "raw")
    customer = gateway.find_or_create_customer(client_ref="t", email="t@example.com", name="T",
                                               idempotency_key="tb-cus")
    with pytest.raises(error) as caught:
        gateway.card_from_keyed_entry(
            KeyedCard(number=number, exp_month=3, exp_year=2031, cvc=SECRET_CVC),
            customer_id=customer, idempotency_key=f"tb-{mode}")
    text = _traceback_with_locals(caught.value)
    assert "card_from_keyed_entry" in text  # the traceback is there, with its locals
    assert number not in text and SECRET_CVC not in text


def test_the_traceback_scan_can_fail() -> None:
    """Without the scrubbing, a frame's locals show the number: the scan above sees it."""
    def leaky(number: str) -> None:
        raise ValueError("declined")

    with pytest.raises(ValueError) as caught:
        leaky(UNKNOWN_NUMBER)
    assert UNKNOWN_NUMBER in _traceback_with_locals(caught.value)
