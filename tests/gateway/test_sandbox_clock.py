"""The sandbox clock (like Stripe's test clocks): it only moves forward; idempotency keys
expire after 24 hours by it; manual-capture card holds lapse 7 days after authorization;
the state file keeps it; tests and `paydesk sandbox` move it over HTTP or with a flag."""

from __future__ import annotations

import json
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import stripe

from gateway import StripeGateway
from gateway.sandbox import Sandbox, start_sandbox
from gateway.sandbox.clock import Clock, ClockError
from gateway.sandbox.holds import HOLD_SECONDS
from gateway.sandbox.idempotency import KEY_LIFETIME
from gateway.values import PaymentIntentInfo
from tests.gateway.conftest import api, make_client
from tests.gateway.test_sandbox_command import start_command
from tests.reader_taps import Tapper
from tui.cli import build_parser

HOUR = 3600
DAY = 24 * HOUR
HOLD = {"amount": 2_000, "currency": "usd", "payment_method": "pm_card_visa",
        "confirm": True, "capture_method": "manual", "metadata": {"invoice": "INV-1"}}


def hold(client: stripe.StripeClient, key: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params=HOLD,  # type: ignore[arg-type]
                                            options={"idempotency_key": key})


def replayed(obj: stripe.StripeObject) -> bool:
    assert obj.last_response is not None
    return obj.last_response.headers.get("Idempotent-Replayed") == "true"


def control(sandbox: Sandbox, method: str, path: str, body: bytes | None = None,
            content_type: str = "application/x-www-form-urlencoded",
            ) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(sandbox.url + path, data=body, method=method,  # noqa: S310
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# -- the clock itself

def test_the_clock_is_real_time_plus_an_offset_that_only_grows() -> None:
    real = [1_000_000.7]
    clock = Clock(source=lambda: real[0])
    assert (clock.now(), clock.offset) == (1_000_000, 0)
    assert clock.advance(90) == 1_000_090 and clock.offset == 90
    assert clock.advance_to(1_000_500) == 1_000_500 and clock.offset == 500
    real[0] += 10
    assert clock.now() == 1_000_510  # real time keeps running under the offset
    with pytest.raises(ClockError, match="only moves forward"):
        clock.advance(-1)
    with pytest.raises(ClockError, match="only moves forward"):
        clock.advance_to(1_000_509)
    for bad in ("1.5", "soon", True, 2.0, None):
        with pytest.raises(ClockError, match="whole number of seconds"):
            clock.advance(bad)
    with pytest.raises(ClockError, match="two years"):
        clock.advance(3 * 365 * DAY)
    assert (clock.now(), clock.offset) == (1_000_510, 500)  # refused moves changed nothing
    real[0] -= 100  # the machine's clock steps back: the sandbox's does not
    assert clock.now() == 1_000_510


def test_concurrent_advances_all_count() -> None:
    clock = Clock(source=lambda: 5_000.0)
    threads = [threading.Thread(target=lambda: [clock.advance(1) for _ in range(500)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (clock.offset, clock.now()) == (4_000, 9_000)


def test_every_timestamp_comes_from_the_sandbox_clock(sandbox: Sandbox,
                                                      client: stripe.StripeClient) -> None:
    start = sandbox.advance_clock(30 * DAY)
    pi = hold(client, "clock-created")
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    canceled = client.v1.payment_intents.cancel(pi.id)
    customer = client.v1.customers.create(params={"email": "t@example.com"})
    for stamp in (pi.created, charge.created, canceled.canceled_at, customer.created):
        assert start <= stamp <= sandbox.now()


# -- idempotency keys expire after 24 hours

def test_a_key_replays_at_23h59m_and_runs_anew_after_24h(sandbox: Sandbox,
                                                         client: stripe.StripeClient) -> None:
    first = hold(client, "ip-window")
    assert not replayed(first)
    sandbox.advance_clock(23 * HOUR + 59 * 60)
    again = hold(client, "ip-window")
    assert replayed(again) and again.id == first.id
    assert sandbox.count("payment_intent") == 1
    sandbox.advance_clock(60 + 1)  # now 24 h and 1 s after the key was first used
    anew = hold(client, "ip-window")
    assert not replayed(anew) and anew.id != first.id
    assert sandbox.count("payment_intent") == 2 and sandbox.count("charge") == 2
    # The new request's record starts a new 24 hours: it replays again.
    assert replayed(hold(client, "ip-window"))
    assert sandbox.count("payment_intent") == 2


def test_other_parameters_under_an_expired_key_are_a_new_request(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    hold(client, "ip-other")
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(params={**HOLD, "amount": 2_001},  # type: ignore
                                         options={"idempotency_key": "ip-other"})
    sandbox.advance_clock(KEY_LIFETIME + 1)
    other = client.v1.payment_intents.create(params={**HOLD, "amount": 2_001},  # type: ignore
                                             options={"idempotency_key": "ip-other"})
    assert other.amount == 2_001 and sandbox.count("payment_intent") == 2


def test_expired_keys_are_pruned_from_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with start_sandbox(state_file=str(state)) as running:
        client = make_client(running)
        for n in range(5):
            hold(client, f"old-{n}")
        assert set(json.loads(state.read_text())["idempotency"]) == {f"old-{n}" for n in range(5)}
        running.advance_clock(DAY + 1)  # saves the state: the old keys are gone from the file
        assert json.loads(state.read_text())["idempotency"] == {}
        hold(client, "young")
        saved = json.loads(state.read_text())["idempotency"]
    assert list(saved) == ["young"]
    assert running.now() - 5 <= saved["young"]["created"] <= running.now()
    assert len(running.state.idempotency) == 1  # pruned in memory too, not only in the file


def test_a_state_file_from_before_key_times_still_loads_and_replays(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with start_sandbox(state_file=str(state)) as first:
        held = hold(make_client(first), "legacy")
    data = json.loads(state.read_text())
    for record in data["idempotency"].values():
        del record["created"]  # as written before keys kept a time
    del data["clock"]
    state.write_text(json.dumps(data))
    with start_sandbox(state_file=str(state)) as second:
        client = make_client(second)
        again = hold(client, "legacy")
        assert replayed(again) and again.id == held.id  # counted from the load: kept 24 h
        second.advance_clock(DAY + 1)
        assert not replayed(hold(client, "legacy"))
        assert second.count("payment_intent") == 2


# -- manual-capture holds lapse (7 days for an online, customer-initiated one)

def test_a_hold_lapses_7_days_after_authorization(sandbox: Sandbox,
                                                  client: stripe.StripeClient) -> None:
    pi = hold(client, "hold-lapse")
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.payment_method_details is not None
    card = charge.payment_method_details.card
    assert card is not None and card.capture_before == charge.created + HOLD_SECONDS
    sandbox.advance_clock(6 * DAY + 23 * HOUR)
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
    sandbox.advance_clock(HOUR + 1)
    lapsed = client.v1.payment_intents.retrieve(pi.id)
    assert lapsed.status == "canceled" and lapsed.cancellation_reason == "automatic"
    assert lapsed.canceled_at == charge.created + HOLD_SECONDS  # the lapse time, not "now"
    assert lapsed.amount_capturable == 0 and lapsed.amount_received == 0
    released = client.v1.charges.retrieve(charge.id)
    assert (released.captured, released.refunded, released.amount_refunded) == (
        False, True, 2_000)
    assert [p.status for p in client.v1.payment_intents.list().data] == ["canceled"]


def test_a_hold_lapses_by_real_time_too_at_the_next_request(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    real = [float(sandbox.now())]
    sandbox.state.clock = Clock(source=lambda: real[0])  # real time, as the test tells it
    pi = hold(client, "hold-real-time")
    real[0] += HOLD_SECONDS - 1
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
    real[0] += 1  # nobody moved the clock: the request itself finds the hold due
    lapsed = client.v1.payment_intents.retrieve(pi.id)
    assert (lapsed.status, lapsed.cancellation_reason) == ("canceled", "automatic")
    assert sandbox.state.clock.offset == 0


def test_capturing_a_lapsed_hold_fails_as_stripe_does(sandbox: Sandbox,
                                                      client: stripe.StripeClient) -> None:
    pi = hold(client, "hold-capture")
    sandbox.advance_clock(HOLD_SECONDS + 1)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.capture(pi.id, options={"idempotency_key": "cap-late"})
    assert caught.value.code == "payment_intent_unexpected_state"
    assert caught.value.http_status == 400
    assert "status of canceled" in str(caught.value.user_message)
    error = caught.value.error
    assert error is not None and error.payment_intent is not None
    assert error.payment_intent.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as cancel:
        client.v1.payment_intents.cancel(pi.id)
    assert cancel.value.code == "payment_intent_unexpected_state"


def test_captured_and_canceled_holds_do_not_lapse(sandbox: Sandbox,
                                                  client: stripe.StripeClient) -> None:
    captured = client.v1.payment_intents.capture(hold(client, "hold-cap").id)
    canceled = client.v1.payment_intents.cancel(
        hold(client, "hold-cancel").id, params={"cancellation_reason": "abandoned"})
    automatic = client.v1.payment_intents.create(
        params={**HOLD, "capture_method": "automatic"},  # type: ignore[arg-type]
        options={"idempotency_key": "auto"})
    sandbox.advance_clock(HOLD_SECONDS + 1)
    assert client.v1.payment_intents.retrieve(captured.id).status == "succeeded"
    again = client.v1.payment_intents.retrieve(canceled.id)
    assert (again.status, again.cancellation_reason) == ("canceled", "abandoned")
    assert again.canceled_at == canceled.canceled_at
    assert client.v1.payment_intents.retrieve(automatic.id).status == "succeeded"
    charge = client.v1.charges.retrieve(str(captured.latest_charge))
    assert (charge.captured, charge.refunded, charge.amount_refunded) == (True, False, 0)


def test_a_hold_lapses_across_a_restart_and_the_state_file_keeps_the_clock(
        tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with start_sandbox(state_file=str(state)) as first:
        pi = hold(make_client(first), "restart-hold")
        moved = first.advance_clock(5 * DAY)
        assert json.loads(state.read_text())["clock"]["offset"] == 5 * DAY
    with start_sandbox(state_file=str(state)) as second:
        assert second.state.clock.offset == 5 * DAY
        assert moved <= second.now() <= moved + 60  # it kept its time, not real time
        client = make_client(second)
        assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
        second.advance_clock(2 * DAY + 1)
        lapsed = client.v1.payment_intents.retrieve(pi.id)
        assert (lapsed.status, lapsed.cancellation_reason) == ("canceled", "automatic")
    with start_sandbox(state_file=str(state)) as third:  # and the lapse itself was kept
        assert third.state.clock.offset == 7 * DAY + 1
        assert make_client(third).v1.payment_intents.retrieve(pi.id).status == "canceled"


def test_many_open_holds_cost_nothing_until_one_is_due(sandbox: Sandbox) -> None:
    client = make_client(sandbox)
    ids = [hold(client, f"many-{n}").id for n in range(20)]
    assert len(sandbox.state.holds) == 20
    assert sandbox.state.sweep() == 0 and len(sandbox.state.holds) == 20  # none due: untouched
    sandbox.advance_clock(HOLD_SECONDS + 1)
    assert len(sandbox.state.holds) == 0
    assert {p["status"] for p in sandbox.objects("payment_intent")} == {"canceled"}
    assert len(ids) == sandbox.count("payment_intent")


# -- the controls: Python, HTTP, command line

def test_advance_clock_refuses_going_back_and_changes_nothing(sandbox: Sandbox) -> None:
    before = sandbox.now()
    with pytest.raises(ClockError, match="only moves forward"):
        sandbox.advance_clock(-60)
    with pytest.raises(ClockError, match="only moves forward"):
        sandbox.advance_clock_to(before - 60)
    assert sandbox.state.clock.offset == 0
    assert before <= sandbox.advance_clock(0) <= before + 5
    assert before + 3_600 <= sandbox.advance_clock_to(before + 3_600) <= before + 3_605


def test_the_http_clock_controls(sandbox: Sandbox) -> None:
    status, clock = control(sandbox, "GET", "/_sandbox/clock")
    assert status == 200 and clock["offset"] == 0 and abs(clock["now"] - sandbox.now()) <= 2
    status, moved = control(sandbox, "POST", "/_sandbox/clock/advance", b"seconds=3600")
    assert status == 200 and moved["offset"] == 3_600
    assert moved["now"] >= clock["now"] + 3_600 and sandbox.state.clock.offset == 3_600
    target = moved["now"] + DAY
    status, moved = control(sandbox, "POST", "/_sandbox/clock/advance",
                            json.dumps({"frozen_time": target}).encode(), "application/json")
    assert status == 200 and moved["now"] == target and moved["offset"] >= 3_600 + DAY
    offset = moved["offset"]
    refused = [
        (b"seconds=-5", "only moves forward"),
        (f"frozen_time={target - 10}".encode(), "only moves forward"),
        (b"seconds=ten", "whole number of seconds"),
        (b"seconds=1&frozen_time=2", "exactly one of"),
        (b"", "exactly one of"),
        (b"minutes=5", "Unknown parameter: minutes"),
        (b"{not json", "not valid JSON"),
        (b'{"seconds": 1.5}', "whole number of seconds"),
    ]
    for body, message in refused:
        status, error = control(sandbox, "POST", "/_sandbox/clock/advance", body)
        assert status == 400, body
        assert message in error["error"]["message"], (body, error)
    assert sandbox.state.clock.offset == offset  # nothing refused moved it
    assert control(sandbox, "GET", "/_sandbox/clock/advance")[0] == 405
    assert control(sandbox, "POST", "/_sandbox/clock", b"seconds=1")[0] == 405
    assert control(sandbox, "GET", "/_sandbox/nope")[0] == 404
    assert control(sandbox, "GET", "/_sandbox/health")[1]["ok"] is True


def test_an_http_advance_lapses_due_holds_at_once(sandbox: Sandbox,
                                                  client: stripe.StripeClient) -> None:
    pi = hold(client, "http-lapse")
    status, _ = control(sandbox, "POST", "/_sandbox/clock/advance",
                        f"seconds={HOLD_SECONDS}".encode())
    assert status == 200
    with sandbox.state.lock:  # read the stored object itself: no request swept it
        assert sandbox.state.objects[pi.id]["status"] == "canceled"
    _, _, body = api(sandbox, "GET", f"/v1/payment_intents/{pi.id}")
    assert body["cancellation_reason"] == "automatic"


def test_the_command_takes_a_clock_offset() -> None:
    args = build_parser().parse_args(["sandbox", "--clock-offset", "90000"])
    assert args.clock_offset == 90_000
    assert build_parser().parse_args(["sandbox"]).clock_offset == 0


def test_a_bad_clock_offset_is_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["sandbox", "--clock-offset", "-5"])
    assert args.func(args, None) == 2
    assert "--clock-offset must be a whole number of seconds" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["sandbox", "--clock-offset", "a day"])
    assert caught.value.code == 2
    assert "--clock-offset" in capsys.readouterr().err


def test_paydesk_sandbox_starts_its_clock_ahead_and_names_the_control_url() -> None:
    process, url = start_command("--clock-offset", str(2 * DAY))
    try:
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(4))
        assert f"{url}/_sandbox/clock" in banner and "/_sandbox/clock/advance" in banner
        with urllib.request.urlopen(url + "/_sandbox/clock", timeout=5) as answer:  # noqa: S310
            clock = json.loads(answer.read())
        assert clock["offset"] == 2 * DAY
        client = stripe.StripeClient("sk_test_clockCli", base_addresses={"api": url})
        held = client.v1.payment_intents.create(params=HOLD)  # type: ignore[arg-type]
        assert held.created >= clock["now"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


# -- the validity window depends on how the card was used (Stripe's published table)

def _authorize(gateway: StripeGateway, customer_id: str, payment_method: str, key: str,
               *, off_session: bool = False) -> PaymentIntentInfo:
    return gateway.authorize(amount=2_000, currency="usd", payment_method_id=payment_method,
                             customer_id=customer_id, metadata={}, description="Invoice",
                             statement_descriptor_suffix="INV 1", idempotency_key=key,
                             off_session=off_session)


def _lapses_after(sandbox: Sandbox, gateway: StripeGateway, pi_id: str, seconds: int) -> None:
    """The hold's charge says it lapses `seconds` after it was made; a minute before that it
    is still open (a margin for the real seconds the test itself takes), and at that time it
    is canceled."""
    pi = gateway.payment_intent(pi_id)
    charge = next(c for c in sandbox.objects("charge") if c["id"] == pi.latest_charge)
    details = charge["payment_method_details"]
    lapse_at = charge["created"] + seconds
    assert details[details["type"]]["capture_before"] == lapse_at
    sandbox.advance_clock_to(lapse_at - 60)
    assert gateway.payment_intent(pi_id).status == "requires_capture"
    sandbox.advance_clock_to(lapse_at)
    assert gateway.payment_intent(pi_id).status == "canceled"


def test_an_off_session_visa_hold_lapses_after_4_days_18_hours(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str) -> None:
    pi = _authorize(gateway, customer_id, "pm_card_visa", "mit-visa", off_session=True)
    _lapses_after(sandbox, gateway, pi.id, 4 * DAY + 18 * HOUR)


def test_an_off_session_mastercard_hold_keeps_7_days(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str) -> None:
    pi = _authorize(gateway, customer_id, "pm_card_mastercard", "mit-mc", off_session=True)
    _lapses_after(sandbox, gateway, pi.id, HOLD_SECONDS)


@pytest.mark.parametrize(("number", "window"), [
    ("4242424242424242", 5 * DAY),  # Visa on a reader
    ("5555555555554444", 2 * DAY),  # every other brand on a reader
])
def test_a_hold_taken_on_the_reader_lapses_in_its_in_person_window(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str, number: str, window: int) -> None:
    with Tapper(sandbox, gateway, [number]) as taps:
        pi = gateway.authorize_on_reader(
            sandbox.reader_id, amount=2_000, currency="usd", customer_id=customer_id,
            metadata={}, statement_descriptor_suffix="INV 1", description="Invoice",
            idempotency_key=f"in-person-{number}", timeout_seconds=10)
        taps.join()
    charge = next(c for c in sandbox.objects("charge") if c["id"] == pi.latest_charge)
    assert charge["payment_method_details"]["type"] == "card_present"
    _lapses_after(sandbox, gateway, pi.id, window)
