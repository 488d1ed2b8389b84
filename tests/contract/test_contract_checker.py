"""The contract check itself: it reads a request as the SDK sends it, finds what Stripe would
refuse, names parameters without their values, and fails the test that sent the request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import stripe

from tests.contract_plugin import RECORDER, Checked, check_request, problems

ROOT = Path(__file__).resolve().parents[2]
CARD = "4242424242424242"


class CannedClient(stripe.HTTPClient):
    """An HTTP client that answers every request with one canned object, sending nothing."""

    name = "canned"

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status

    def request(self, method: str, url: str, headers: Any, post_data: Any = None
                ) -> tuple[str, int, dict[str, str]]:
        return json.dumps({"id": "pi_canned", "object": "payment_intent"}), self.status, {}

    def close(self) -> None:
        pass


def test_an_unknown_and_a_removed_parameter_are_found() -> None:
    checked = check_request(
        "post", "https://api.stripe.com/v1/payment_intents",
        "amount=1500&currency=usd&payment_method_types[0]=card&paydesk_note=x")
    assert checked is not None
    assert [(v.kind, v.param, v.code) for v in checked.violations] == [
        ("removed", "payment_method_types", "payment_method_types_no_longer_supported"),
        ("unknown", "paydesk_note", "parameter_unknown")]


def test_a_good_request_and_a_query_string_pass() -> None:
    good = check_request("post", "http://127.0.0.1:1/v1/payment_intents",
                         "amount=1500&currency=usd&allowed_payment_method_types[0]=card"
                         "&metadata[paydesk_invoice]=INV-1")
    assert good is not None and good.violations == ()
    listed = check_request("get", "http://127.0.0.1:1/v1/payment_intents?limit=3&customer=cus_1"
                                  "&created[gte]=1700000000")
    assert listed is not None and listed.violations == ()
    wrong = check_request("get", "http://127.0.0.1:1/v1/payment_intents?limit=many")
    assert wrong is not None and [v.param for v in wrong.violations] == ["limit"]


def test_requests_outside_v1_are_not_checked_and_unknown_v1_paths_are() -> None:
    assert check_request("post", "https://api.stripe.com/v2/core/events", "{}") is None
    unknown = check_request("get", "https://api.stripe.com/v1/made_up")
    assert unknown is not None and unknown.violations[0].reason.startswith("no such endpoint")


def test_a_report_names_parameters_but_never_their_values() -> None:
    checked = check_request(
        "post", "https://api.stripe.com/v1/payment_methods",
        f"type=card&card[number]={CARD}&card[cvc]=987&card[exp_month]=twelve"
        "&card[exp_year]=2030&card[pin]=1234")
    assert checked is not None
    report = "\n".join(problems([checked], refusals_expected=False))
    assert "card[exp_month]: not an integer [parameter_invalid_integer]" in report
    assert "card[pin]: unknown parameter [parameter_unknown]" in report
    for value in (CARD, "987", "twelve", "1234"):
        assert value not in report
    assert "card[number]" in checked.names and CARD not in repr(checked.names)


def test_a_refusal_on_purpose_passes_only_when_it_was_answered_400() -> None:
    checked = check_request("post", "https://api.stripe.com/v1/payment_intents",
                            "amount=1500&currency=usd&colour=red")
    assert checked is not None
    answered = [Checked(checked.method, checked.path, checked.names, checked.violations, 400)]
    let_through = [Checked(checked.method, checked.path, checked.names, checked.violations, 200)]
    assert problems(answered, refusals_expected=True) == []
    assert problems(let_through, refusals_expected=True) != []
    assert problems(answered, refusals_expected=False) != []


def test_the_sdk_requests_of_a_test_are_recorded() -> None:
    client = stripe.StripeClient("sk_test_contract", http_client=CannedClient())
    client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd",
        "payment_method_types": ["card"]})  # type: ignore[typeddict-unknown-key]
    recorded = RECORDER.take()  # taken here, so this test's own check sees nothing
    assert [(r.method, r.path, r.status) for r in recorded] == [
        ("POST", "/v1/payment_intents", 200)]
    assert [v.code for v in recorded[0].violations] == ["payment_method_types_no_longer_supported"]


INNER = '''
import json
import pytest
import stripe


class Canned(stripe.HTTPClient):
    name = "canned"

    def request(self, method, url, headers, post_data=None):
        return json.dumps({"id": "pi_1", "object": "payment_intent"}), 200, {}

    def close(self):
        pass


def client():
    return stripe.StripeClient("sk_test_inner", http_client=Canned())


def test_good():
    client().v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "allowed_payment_method_types": ["card"]})


def test_removed_parameter():
    client().v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "payment_method_types": ["card"]})


def test_unknown_parameter_with_a_card_number():
    client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": "CARD_NUMBER", "cvc": "987", "colour": "red"}})


@pytest.mark.stripe_refusals
def test_refused_on_purpose_but_let_through():
    client().v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "x": "1"})
'''.replace("CARD_NUMBER", CARD)


def test_a_test_that_sends_a_refused_request_fails(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.contract_plugin", "-p", "no:randomly",
         "-p", "no:cacheprovider", "-q", "-rA", "test_inner.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "PASSED test_inner.py::test_good" in out
    assert "FAILED test_inner.py::test_removed_parameter" in out
    assert "FAILED test_inner.py::test_unknown_parameter_with_a_card_number" in out
    assert "FAILED test_inner.py::test_refused_on_purpose_but_let_through" in out
    assert "payment_method_types: removed from the pinned API version " \
           "[payment_method_types_no_longer_supported]" in out
    assert "card[colour]: unknown parameter [parameter_unknown]" in out
    assert CARD not in out and "987" not in out
