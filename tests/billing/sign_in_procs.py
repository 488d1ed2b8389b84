"""Sign-in attempts in processes of their own, released at one instant, each reporting what
it checked: how many argon2 verifications it ran and when (CLOCK_MONOTONIC, which every
process on the machine shares), and how its attempt ended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from tests.billing.procs import ROOT

# One sign-in: imports and opens the database first, says "ready", waits for the word,
# then signs in once with argon2's verify counted and timed.
_CHILD = r"""
import json, sys, time
from billing import clients, staff
from billing.errors import SignInFailed, SignInLocked
from models import bind, open_database
from models.firm import utcnow

url, kind, name, secret, terminal = sys.argv[1:6]
db = bind(open_database(url))
db.connect()
module = staff if kind == "staff" else clients
checks = []
real_verify = module.verify_secret

def counted(stored_hash, given):
    start = time.monotonic()
    try:
        return real_verify(stored_hash, given)
    finally:
        checks.append((start, time.monotonic()))

module.verify_secret = counted
print("ready", flush=True)
sys.stdin.readline()
start = time.monotonic()
try:
    if kind == "staff":
        staff.sign_in_staff(name, secret, terminal=terminal, clock=utcnow)
    else:
        clients.sign_in_client(name, secret, terminal=terminal, clock=utcnow)
    outcome, message = "ok", ""
except SignInLocked as exc:
    outcome, message = "locked", exc.message
except SignInFailed as exc:
    outcome, message = "wrong", exc.message
print(json.dumps({"outcome": outcome, "message": message, "checks": checks,
                  "call": [start, time.monotonic()]}), flush=True)
"""


@dataclass(frozen=True)
class Attempt:
    secret: str
    name: str
    outcome: str  # "ok", "wrong", "locked"
    message: str
    checks: list[tuple[float, float]]
    call: tuple[float, float]


def sign_in_at_once(db_url: str, kind: str, tries: list[tuple[str, str, str]]
                    ) -> list[Attempt]:
    """Run each (name or email, secret, terminal) as a sign-in of `kind` ("staff" or
    "client") in a process of its own, all released at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYDESK_", "STRIPE_"))}
    procs = [subprocess.Popen(
        [sys.executable, "-c", _CHILD, db_url, kind, name, secret, terminal],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for name, secret, terminal in tries]
    try:
        for proc in procs:
            line = proc.stdout.readline()
            assert line.strip() == "ready", (line, proc.poll(), proc.stderr.read())
        for proc in procs:  # the word, to all of them, as close together as it gets
            proc.stdin.write("go\n")
            proc.stdin.flush()
        attempts = []
        for proc, (name, secret, _terminal) in zip(procs, tries, strict=True):
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            data = json.loads(out.strip().splitlines()[-1])
            attempts.append(Attempt(secret=secret, name=name, outcome=data["outcome"],
                                    message=data["message"],
                                    checks=[tuple(c) for c in data["checks"]],
                                    call=tuple(data["call"])))
        return attempts
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of the intervals that were open at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                   key=lambda e: (e[0], e[1]))
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most
