"""Reconciliation takes over only a checkout whose owner is gone. A payment running in
another process (held between authorize and capture) is left to it by `paydesk
reconcile` with its default settings, and finishes as paid; once its process is killed,
reconciliation settles it: at once when the owner was a process of this machine, and
after its lease has ended when it cannot be told (another machine). SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from billing import checkout as engine
from billing import lease, reconcile
from billing.reserve import reserve
from models import Checkout, InvoicePayment, utcnow
from tests.billing.conftest import TODAY, full_balances, keyed
from tests.billing.procs import ROOT, paydesk

NUMBERS = ["INV-1001", "INV-1004"]


def held_payer(database_url: str, sandbox_url: str, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.billing.held_payer", database_url, sandbox_url,
         str(tmp_path / "outbox"), *NUMBERS],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def read_line(proc: subprocess.Popen, timeout: float = 60.0) -> str:
    """The process's next line of output, waited for up to `timeout` seconds."""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            raise AssertionError(f"no output within {timeout}s: {proc.stderr.read()}")
    line = proc.stdout.readline()
    assert line, f"the payer ended early: {proc.wait()} {proc.stderr.read()}"
    return line.strip()


def wait_held(proc: subprocess.Popen) -> int:
    line = read_line(proc)
    assert line.startswith("held "), line
    return int(line.split()[1])


def holds(sandbox) -> list[str]:
    return sorted(pi["status"] for pi in sandbox.objects("payment_intent"))


def assert_untouched(checkout_id: int, sandbox) -> None:
    assert Checkout.get_by_id(checkout_id).status == "authorizing"
    assert {p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id)} == {"authorizing"}
    assert holds(sandbox) == ["requires_capture"] * len(NUMBERS)
    assert not Checkout.get_by_id(checkout_id).failure_message


def assert_released(checkout_id: int, sandbox) -> None:
    checkout = Checkout.get_by_id(checkout_id)
    assert checkout.status in ("failed", "cancelled"), checkout.status
    assert checkout.failure_message == reconcile.INTERRUPTED
    assert holds(sandbox) == ["canceled"] * len(NUMBERS)
    assert checkout.lease_owner is None and checkout.lease_until is None


def test_reconcile_leaves_a_payment_running_in_another_process_to_it(
        demo_db, database_url, sandbox, gateway, tmp_path):
    payer = held_payer(database_url, sandbox.url, tmp_path)
    try:
        checkout_id = wait_held(payer)
        assert_untouched(checkout_id, sandbox)
        # `paydesk reconcile` as typed, on another terminal, while the payment runs.
        ran = paydesk(database_url, sandbox.url, tmp_path, "reconcile", "--json")
        assert ran.returncode == 0, ran.stderr
        report = json.loads(ran.stdout)
        assert report["checkouts_settled"] == 0 and report["still_unknown"] == 0
        assert any("still being paid" in note for note in report["notes"]), report
        # And in this process, with the real clock: still left alone.
        again = reconcile.reconcile(gateway, terminal="other", clock=utcnow)
        assert again.checkouts_settled == 0
        assert_untouched(checkout_id, sandbox)

        payer.stdin.write("go\n")
        payer.stdin.flush()
        result = json.loads(read_line(payer))
        assert payer.wait(30) == 0
    finally:
        if payer.poll() is None:
            payer.kill()
    # The payer was told it was paid, and it was: nothing interrupted it.
    assert result["status"] == "succeeded", result
    assert Checkout.get_by_id(checkout_id).status == "succeeded"
    assert holds(sandbox) == ["succeeded"] * len(NUMBERS)


def _killed_while_held(database_url, sandbox, tmp_path) -> int:
    payer = held_payer(database_url, sandbox.url, tmp_path)
    try:
        checkout_id = wait_held(payer)
    finally:
        os.kill(payer.pid, signal.SIGKILL)  # a crash: no clean-up at all
        payer.wait(30)
    assert_untouched(checkout_id, sandbox)
    return checkout_id


def test_a_checkout_whose_process_died_on_this_machine_is_settled_at_once(
        demo_db, database_url, sandbox, gateway, tmp_path):
    checkout_id = _killed_while_held(database_url, sandbox, tmp_path)
    lease_until = Checkout.get_by_id(checkout_id).lease_until
    assert lease_until is not None and lease_until > utcnow()  # the lease has not ended
    report = reconcile.reconcile(gateway, terminal="other", clock=utcnow)
    assert report.checkouts_settled == 1 and report.still_unknown == 0
    assert_released(checkout_id, sandbox)


def test_a_checkout_of_a_dead_owner_elsewhere_is_settled_once_its_lease_has_ended(
        demo_db, database_url, sandbox, gateway, tmp_path):
    checkout_id = _killed_while_held(database_url, sandbox, tmp_path)
    # The owner was on another machine: whether it runs cannot be told from here.
    Checkout.update(lease_owner="another-host/boot/4242/1").where(
        Checkout.id == checkout_id).execute()
    lease_until = Checkout.get_by_id(checkout_id).lease_until

    just_before = reconcile.reconcile(gateway, terminal="other",
                                      clock=lambda: lease_until - dt.timedelta(seconds=1))
    assert just_before.checkouts_settled == 0
    assert_untouched(checkout_id, sandbox)

    after = reconcile.reconcile(gateway, terminal="other",
                                clock=lambda: lease_until + dt.timedelta(seconds=1))
    assert after.checkouts_settled == 1 and after.still_unknown == 0
    assert_released(checkout_id, sandbox)


class HeldAtCapture:
    """The real gateway; the first capture waits for `release` (after saying `held`)."""

    def __init__(self, gateway) -> None:
        self._gateway = gateway
        self.held, self.release = threading.Event(), threading.Event()

    def __getattr__(self, name):
        method = getattr(self._gateway, name)
        if name != "capture":
            return method

        def capture(*args, **kwargs):
            self.held.set()
            assert self.release.wait(60)
            return method(*args, **kwargs)
        return capture


def test_a_payment_running_longer_than_its_lease_keeps_it(
        desk, dana, gateway, sandbox, monkeypatch):
    monkeypatch.setattr(lease, "LEASE", dt.timedelta(seconds=1))
    monkeypatch.setattr(lease, "RENEW_EVERY_SECONDS", 0.1)
    # Only the lease speaks here, as for an owner on another machine.
    monkeypatch.setattr(lease, "owner_running", lambda owner: None)
    slow = HeldAtCapture(gateway)
    checkout_id = reserve(dana, full_balances(NUMBERS), method="card_keyed",
                                 terminal="terminal-a", today=TODAY.date())
    results = []
    runner = threading.Thread(target=lambda: results.append(
        engine.run_checkout(slow, checkout_id, keyed(), terminal="terminal-a")))
    runner.start()
    try:
        assert slow.held.wait(30)
        started = utcnow()
        # The heartbeat renews the lease while the capture is out, past its length.
        seen = set()
        deadline = started + dt.timedelta(seconds=20)
        while utcnow() - started < lease.LEASE * 2:
            assert utcnow() < deadline
            seen.add(Checkout.get_by_id(checkout_id).lease_until)
            time.sleep(0.05)  # polling, with the deadline above
        assert len(seen) >= 3
        assert Checkout.get_by_id(checkout_id).lease_until > utcnow()
        report = reconcile.reconcile(gateway, terminal="other", clock=utcnow)
        assert report.checkouts_settled == 0
        assert Checkout.get_by_id(checkout_id).status == "capturing"
        assert not Checkout.get_by_id(checkout_id).failure_message
    finally:
        slow.release.set()
        runner.join(60)
    assert results[0].status == "succeeded"
    # The run gave its lease up when it ended.
    checkout = Checkout.get_by_id(checkout_id)
    assert checkout.lease_owner is None and checkout.lease_until is None


@pytest.mark.parametrize("owner, running", [
    (lambda: lease.this_process(), True),
    (lambda: "another-host/boot/1/1", None),
    (lambda: None, None),
])
def test_whether_an_owner_runs_is_told_only_on_its_own_machine(owner, running):
    assert lease.owner_running(owner()) is running
