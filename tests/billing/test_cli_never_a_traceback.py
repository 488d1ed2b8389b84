"""No `paydesk` command ends in a traceback: every sub-command (found from the parser
itself, so a new one is covered without touching this file) is run as a process with no
terminal (its own session, standard input closed, no PAYDESK_STAFF_PIN), first with Stripe
unreachable, then with the database unreachable. Each either succeeds or says what is
wrong in sentences, with a non-zero exit status."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.billing.test_cli_stripe_down import closed_port_url
from tui.cli import build_parser
from tui.commands.apps import prepare_demo_database

ROOT = Path(__file__).resolve().parents[2]
# Values for options a sub-command requires, by destination; anything else gets its first
# choice, or "1".
SAMPLES = {
    "client": "dana.whitfield@example.com", "code": "LINK-1013", "invoice": "INV-1001",
    "invoice_payment": "1", "checkout": "1", "reason": "a test", "staff": "Front Desk",
    "method": "check", "reference": "R-000001",
}
# Optional values given when a sub-command has them: a complete test card, and ports that
# are taken (a server must say it cannot listen, not run forever).
OPTIONAL = {"--exp": "12/34", "--cvc": "123", "--invoice": "INV-1001"}
PORT_OPTIONS = ("--port",)
TIMEOUT = 90


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(words, parser) for every runnable sub-command, nested ones included."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    for name, child in subs[0].choices.items():
        yield from leaf_commands(child, (*prefix, name))


def argv_for(parser: argparse.ArgumentParser, busy_port: int) -> list[str]:
    argv: list[str] = []
    grouped = {a for g in parser._mutually_exclusive_groups for a in g._group_actions}
    chosen = [g._group_actions[0] for g in parser._mutually_exclusive_groups if g.required]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        wanted = (action.required and action not in grouped) or action in chosen
        option = action.option_strings[0] if action.option_strings else None
        if option in PORT_OPTIONS:
            argv += [option, str(busy_port)]
            continue
        if option in OPTIONAL:
            argv += [option, OPTIONAL[option]]
            continue
        if not wanted:
            continue
        value = SAMPLES.get(action.dest) or (str(action.choices[0]) if action.choices else "1")
        if action.dest == "card":
            value = "4242424242424242"
        if option is None:
            argv.append(value)
        elif action.nargs == 0:
            argv.append(option)
        else:
            argv += [option, value]
    return argv


def commands(busy_port: int) -> list[list[str]]:
    return [[*words, *argv_for(p, busy_port)] for words, p in leaf_commands(build_parser())]


def run_without_terminal(argvs: list[list[str]], env: dict[str, str],
                         tmp_path: Path) -> list[dict]:
    """Each `paydesk ARGV` in turn, in a process of its own session (no controlling
    terminal) with standard input closed."""
    commands, results = tmp_path / "commands.json", tmp_path / "results.json"
    commands.write_text(json.dumps(argvs))
    script = 'exec "$0" -m tests.billing.cli_driver "$@" <&-'
    done = subprocess.run(["sh", "-c", script, sys.executable, str(commands), str(results)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
                          start_new_session=True)
    assert done.returncode == 0, done.stderr
    return json.loads(results.read_text())


def judge(done: dict) -> str | None:
    """What is wrong with how the command ended, or None."""
    out, err, code = done["out"], done["err"], done["code"]
    shown = f"paydesk {' '.join(done['argv'])} -> {code}\n{err}{out}"
    if "Traceback" in err + out:
        return "a traceback: " + shown
    if code == 0:
        return None
    lines = [line for line in err.splitlines() if line.strip()]
    if not lines and not out.strip():
        return "failed without a word: " + shown
    stray = [line for line in lines if not line.startswith("paydesk")]
    if stray:
        return f"stray lines {stray!r}: " + shown
    return None


@pytest.fixture
def busy_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.fixture
def environment(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYDESK_", "STRIPE_", "TEXTUAL"))}
    env.update({
        "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"), "PAYDESK_OUTBOX_DIR": str(tmp_path / "out"),
        "STRIPE_API_KEY": "sk_test_unreachable", "PAYDESK_STRIPE_MAX_NETWORK_RETRIES": "0",
        "PAYDESK_STRIPE_TIMEOUT_SECONDS": "5", "PYTHONPATH": str(ROOT),
    })
    return env


def problems(results: list[dict]) -> list[str]:
    return [problem for done in results if (problem := judge(done))]


def test_every_command_without_a_terminal_and_stripe_unreachable(tmp_path, environment,
                                                                 busy_port):
    database = tmp_path / "demo.db"
    prepare_demo_database(str(database), reset=False)
    argvs = commands(busy_port)
    assert {"pay", "payments", "refund", "receipt", "demo", "doctor"} <= {a[0] for a in argvs}
    env = {**environment, "PAYDESK_DATABASE_URL": str(database),
           "PAYDESK_STRIPE_API_BASE": closed_port_url()}
    results = run_without_terminal(argvs, env, tmp_path)
    assert len(results) == len(argvs)
    found = problems(results)
    assert not found, "\n\n".join(found)
    # It did reach Stripe where it had to, and said so.
    paid = next(r for r in results if r["argv"][0] == "pay")
    assert paid["code"] != 0 and "could not reach" in paid["err"]


def test_every_command_without_a_terminal_and_the_database_unreachable(tmp_path, environment,
                                                                        busy_port):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"postgresql://paydesk@127.0.0.1:{closed.getsockname()[1]}/paydesk"
    env = {**environment, "PAYDESK_DATABASE_URL": url,
           "PAYDESK_STRIPE_API_BASE": closed_port_url()}
    results = run_without_terminal(commands(busy_port), env, tmp_path)
    found = problems(results)
    assert not found, "\n\n".join(found)
    listed = next(r for r in results if r["argv"][0] == "invoices")
    assert listed["code"] != 0 and "could not be opened" in listed["err"]
