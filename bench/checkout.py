"""How a checkout of 20 invoices compares with a checkout of 1, against a card processor that
answers every request in 100 ms (the sandbox's latency switch), on a real SQLite database.

For each client-side request rate (Stripe's test-mode limit, 25 a second, and its live-mode
limit, 100 a second) and each way of giving the card (the client's saved card: the fewest
requests besides the invoices' own, so the hardest case for the ratio; a card typed in, which
adds a PaymentMethod and its settling) it times `Desk.pay` of 1 invoice and of 20 invoices,
alternately, RUNS times each, and prints the medians and their ratio against the goal (20
invoices within 2.5 times the time of 1). Each checkout starts after the limiter's one-second
window has emptied, as a desk's checkouts do (a payer takes longer than a second between two
of them).
The sandbox only takes test keys: the live-mode rate is set with the requests-per-second
setting. Not a test: run `.venv/bin/python bench/checkout.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from billing.config import Settings, StripeSettings  # noqa: E402
from billing.desk import Desk  # noqa: E402
from billing.values import CardChoice, Payer  # noqa: E402
from gateway import GatewayOptions, KeyedCard, StripeGateway  # noqa: E402
from gateway.sandbox import Faults, start_sandbox  # noqa: E402
from models import Case, Client, Firm, Invoice, InvoiceShare, bind, open_database  # noqa: E402
from models.money import Money  # noqa: E402
from models.schema import upgrade  # noqa: E402

RUNS = 7
GOAL = 2.5
LATENCY_MS = 100
TODAY = dt.datetime(2026, 10, 20, 12, 0, 0)  # noqa: DTZ001 - the desk clock is naive UTC
RATES = (("test mode", 25), ("live mode", 100))
CARD = CardChoice(kind="keyed", keyed=KeyedCard("4242424242424242", 12, 2034, "123"),
                  label="card ending 4242")


def new_client(tag: str) -> tuple[Payer, Case]:
    firm = Firm.get_or_none(Firm.name == "Bench LLP") or Firm.create(
        name="Bench LLP", currency="USD", statement_descriptor_prefix="BENCH")
    client = Client.create(firm=firm, name=f"Client {tag}", email=f"{tag}@example.com")
    case = Case.create(firm=firm, client=client, number=f"B-{tag}", title="Bench")
    return Payer(kind="client", client_id=client.id, client_name=client.name,
                 email=client.email), case


def invoices(case: Case, count: int, tag: str) -> dict[int, Money]:
    """`count` new issued invoices of the case's client, and their balances."""
    amounts = {}
    for n in range(count):
        inv = Invoice.create(firm=case.firm, case=case, client=case.client,
                             number=f"B-{tag}-{n:02d}", issue_date=dt.date(2026, 9, 1),
                             due_date=dt.date(2026, 10, 1), status="issued", currency="USD",
                             total_minor=10_000 + n * 100)
        InvoiceShare.create(invoice=inv, channel="email", recipient=case.client.email)
        amounts[inv.id] = Money(inv.total_minor, "USD")
    return amounts


def gateway_options(url: str, rate: int) -> GatewayOptions:
    options = GatewayOptions(api_key="sk_test_paydesk_bench", api_base=url,
                             timeout_seconds=10)
    if "requests_per_second" in {f.name for f in dataclasses.fields(GatewayOptions)}:
        options = dataclasses.replace(options, requests_per_second=rate)
    return options


def measure(label: str, rate: int, saved: bool, workdir: Path) -> float:
    with start_sandbox(port=0, faults=Faults(latency_ms=LATENCY_MS)) as sandbox:
        gateway = StripeGateway.from_options(gateway_options(sandbox.url, rate))
        settings = Settings(database_url="unused", outbox_dir=str(workdir / "outbox"),
                            terminal="bench",
                            stripe=StripeSettings(api_key="sk_test_paydesk_bench",
                                                  api_base=sandbox.url))
        desk = Desk(settings, gateway, clock=lambda: TODAY)
        tag = f"{rate}-{'saved' if saved else 'keyed'}"
        payer, case = new_client(tag)
        card = CARD
        if saved:  # a first payment keeps the card: the client's saved card from then on
            kept = desk.pay(payer, invoices(case, 1, f"{tag}-keep"),
                            dataclasses.replace(CARD, keep=True))
            assert kept.succeeded, kept.message
            [card] = desk.saved_cards(payer)
        times: dict[int, list[float]] = {1: [], 20: []}
        for run in range(RUNS + 1):  # the first round warms up (imports, first connections)
            for count in (1, 20):
                amounts = invoices(case, count, f"{tag}-{run}-{count}")
                time.sleep(1.1)  # the limiter's window empties, as between two payers
                started = time.perf_counter()
                result = desk.pay(payer, amounts, card)
                elapsed = time.perf_counter() - started
                if not result.succeeded:
                    raise SystemExit(f"checkout failed: {result.message}")
                if run:
                    times[count].append(elapsed)
        limited = sandbox.fault_counts["rate_limited"]
    one, twenty = statistics.median(times[1]), statistics.median(times[20])
    ratio = twenty / one
    verdict = "meets" if ratio <= GOAL else "misses"
    kind = "saved card" if saved else "card typed in"
    print(f"{label}, {rate} requests/s, {kind}: 1 invoice {one * 1000:.0f} ms, 20 invoices "
          f"{twenty * 1000:.0f} ms (medians of {RUNS}); ratio {ratio:.2f}x, {verdict} the "
          f"goal of {GOAL}x; 429s from the sandbox: {limited}")
    for count in (1, 20):
        print(f"    {count:>2} invoice(s), each run: "
              + ", ".join(f"{t * 1000:.0f}" for t in times[count]) + " ms")
    return ratio


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = bind(open_database(str(workdir / "bench.db")))
        upgrade(db)
        db.connect(reuse_if_open=True)
        print(f"sandbox latency {LATENCY_MS} ms a request, SQLite database, {RUNS} runs each")
        ratios = {}
        for label, rate in RATES:
            for saved in (True, False):
                ratios[label, saved] = measure(label, rate, saved, workdir)
        db.close()
    for label, rate in RATES:
        met = all(ratios[label, saved] <= GOAL for saved in (True, False))
        print(f"{label} ({rate}/s): {'meets' if met else 'does not meet'} the goal of {GOAL}x "
              f"with either card")


if __name__ == "__main__":
    main()
