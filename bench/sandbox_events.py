"""What the sandbox's event log costs where it costs most: the state file, written whole at
every change when the sandbox runs with `--state`.

Makes N confirmed card payments (3 events each) on a sandbox with a state file, then times,
under the state's lock: a full save, a save without the events, and the events' JSON made
afresh versus from each event's kept text (events.py). Also one page of GET /v1/events
(limit 100) as the sandbox makes it, and all pages through the SDK.

Not a test: run `.venv/bin/python bench/sandbox_events.py [--payments N] [--runs R]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway import GatewayOptions, build_stripe_client  # noqa: E402
from gateway.sandbox import start_sandbox  # noqa: E402
from gateway.sandbox.events import list_events  # noqa: E402


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=400)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, \
            start_sandbox(state_file=str(Path(folder) / "state.json")) as sandbox:
        client = build_stripe_client(GatewayOptions("sk_test_bench", api_base=sandbox.url))
        for _ in range(args.payments):
            client.v1.payment_intents.create(params={
                "amount": 2_000, "currency": "usd", "confirm": True,
                "payment_method": "pm_card_visa"})
        state, log = sandbox.state, sandbox.state.events

        def page_through() -> None:
            page = client.v1.events.list(params={"limit": 100})
            while page.has_more:
                page = client.v1.events.list(params={"limit": 100,
                                                     "starting_after": page.data[-1].id})

        listing = median_ms(page_through, args.runs)
        with state.lock:
            full = median_ms(state.save, args.runs)
            kept, log._events = log._events, []
            bare = median_ms(state.save, args.runs)
            log._events = kept
            afresh = median_ms(lambda: json.dumps(log.recent(state.now())), args.runs)
            cached = median_ms(lambda: log.dump_json(state.now()), args.runs)
            state.save()  # the file with its events again, for its size
            one_page = median_ms(lambda: state.render(list_events(log, {"limit": 100},
                                                                  state.now())), args.runs)
        size = (Path(folder) / "state.json").stat().st_size / 1e6
    print(f"{len(kept)} events, {args.payments} payments, state file {size:.2f} MB "
          f"(medians of {args.runs} runs):")
    print(f"  save: {full:.1f} ms; without the events {bare:.1f} ms")
    print(f"  events JSON: afresh {afresh:.1f} ms, from kept texts {cached:.1f} ms")
    print(f"  one page of 100 events, made by the sandbox: {one_page:.1f} ms")
    print(f"  GET /v1/events paged through with the SDK at limit 100: {listing:.1f} ms "
          "(mostly the SDK making its objects)")


if __name__ == "__main__":
    main()
