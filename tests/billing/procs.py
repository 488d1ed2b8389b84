"""Helpers for the tests that run Paydesk and the sandbox in processes of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_paydesk_process_tests"


@contextmanager
def sandbox_process(state_file: Path, *flags: str) -> Iterator[str]:
    """`paydesk sandbox` in its own process, keeping its objects in `state_file`; yields
    its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox", "--port", "0", "--state", str(state_file),
         *flags],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, (line, proc.stderr.read() if proc.poll() else "")
        yield line.split("listening on", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def paydesk(db_url: str, api_base: str, tmp: Path, *args: str, crash_at: str | None = None,
            timeout: float = 120, extra_env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
    """Run `paydesk --db ... ARGS` in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYDESK_", "STRIPE_"))}
    env.update(STRIPE_API_KEY=API_KEY, PAYDESK_OUTBOX_DIR=str(tmp / "outbox"),
               PAYDESK_TERMINAL="process-test", PAYDESK_STRIPE_TIMEOUT_SECONDS="10",
               HOME=str(tmp))
    if crash_at:
        env["PAYDESK_CRASH_AT"] = crash_at
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", db_url, "--stripe-api-base", api_base, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


def sandbox_objects(state_file: Path, kind: str) -> list[dict]:
    """The sandbox's objects of one kind, read from its state file (written after every
    request that changes something)."""
    for _ in range(50):
        try:
            data = json.loads(state_file.read_text(encoding="utf-8"))
            return [o for o in data["objects"].values() if o.get("object") == kind]
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError(f"cannot read {state_file}")


# Imports first, then say so and wait for the word: the parent releases every process at
# once when all are ready (no fixed wait that is too long on a fast machine, too short on
# a loaded one).
_AT_ONCE = ("import sys\n"
            "from tui.cli import main\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n"
            "sys.exit(main(sys.argv[1:]))\n")


def paydesk_at_once(count_args: list[list[str]], db_url: str, api_base: str, tmp: Path,
                    extra_env: dict[str, str] | None = None
                    ) -> list[subprocess.CompletedProcess]:
    """Run several `paydesk` commands in processes of their own, released at one instant
    (once every one of them has started and imported Paydesk)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYDESK_", "STRIPE_"))}
    env.update(STRIPE_API_KEY=API_KEY, PAYDESK_OUTBOX_DIR=str(tmp / "outbox"),
               PAYDESK_TERMINAL="process-test", HOME=str(tmp), **(extra_env or {}))
    procs = [subprocess.Popen(
        [sys.executable, "-c", _AT_ONCE, "--db", db_url, "--stripe-api-base", api_base,
         *args], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for args in count_args]
    try:
        for proc in procs:
            line = proc.stdout.readline()
            assert line.strip() == "ready", (line, proc.poll())
        for proc in procs:  # the word, to all of them, as close together as it gets
            proc.stdin.write("go\n")
            proc.stdin.flush()
        done = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return done
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
