"""`paydesk sandbox`: run the offline Stripe sandbox on its own until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from gateway.sandbox import Faults, Sandbox, serve_forever
from gateway.sandbox.clock import MAX_STEP


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="run the offline Stripe sandbox (Stripe's API in test mode, on loopback)",
        description="Answer the official Stripe SDK like Stripe in test mode, with no network. "
                    "Point Paydesk at it with --stripe-api-base URL (or "
                    "PAYDESK_STRIPE_API_BASE) and any sk_test_ key.",
    )
    parser.add_argument("--port", type=int, default=12111,
                        help="port to listen on (0 picks a free one; default 12111)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--latency-ms", type=int, default=0, metavar="N",
                        help="delay every request by N milliseconds")
    parser.add_argument("--error-rate", type=float, default=0.0, metavar="P",
                        help="answer a share P of requests with a 500 before doing anything")
    parser.add_argument("--drop-rate", type=float, default=0.0, metavar="P",
                        help="do the work, then drop the connection, for a share P of requests")
    parser.add_argument("--rate-limit", type=int, default=None, metavar="N",
                        help="answer 429 beyond N requests per second")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed for repeatable faults")
    parser.add_argument("--state", metavar="FILE", default=None,
                        help="keep the sandbox's objects (and its clock) in this JSON file "
                             "across restarts")
    parser.add_argument("--clock-offset", type=int, default=0, metavar="SECONDS",
                        help="start the sandbox clock SECONDS ahead (of the time kept in "
                             "--state, if any); card holds lapse after 7 days and idempotency "
                             "keys after 24 hours by it; move it on with POST "
                             "/_sandbox/clock/advance seconds=N")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 for bad flags, 1 if it cannot bind."""
    if not 0 <= args.port <= 65535:
        print(f"paydesk sandbox: --port must be between 0 and 65535, got {args.port}",
              file=sys.stderr)
        return 2
    try:
        faults = Faults(latency_ms=args.latency_ms, error_rate=args.error_rate,
                        drop_rate=args.drop_rate, rate_limit=args.rate_limit, seed=args.seed)
    except ValueError as exc:
        print(f"paydesk sandbox: {exc}", file=sys.stderr)
        return 2
    if not 0 <= args.clock_offset <= MAX_STEP:
        print(f"paydesk sandbox: --clock-offset must be a whole number of seconds from 0 to "
              f"{MAX_STEP} (two years), got {args.clock_offset}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def ready(sandbox: Sandbox) -> None:
        print(f"Stripe sandbox listening on {sandbox.url}", flush=True)
        print(f"  simulated reader: {sandbox.reader_id} (Front desk reader)")
        print(f"  use it with: STRIPE_API_KEY=sk_test_sandbox PAYDESK_STRIPE_API_BASE={sandbox.url}")
        print(f"  clock: {sandbox.url}/_sandbox/clock (now {sandbox.now()}); move it forward "
              f"with POST {sandbox.url}/_sandbox/clock/advance seconds=N")
        print("  stop with Ctrl-C", flush=True)

    try:
        serve_forever(args.port, args.host, faults, args.state, stop=stop, on_ready=ready,
                      clock_offset=args.clock_offset)
    except OSError as exc:
        print(f"paydesk sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    print("Stripe sandbox stopped.", flush=True)
    return 0
