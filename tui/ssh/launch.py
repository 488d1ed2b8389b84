"""What each SSH session runs: the `paydesk` command line in the server's mode.

A demo session gets a throwaway SQLite file of its own (removed when the session
ends) or the one shared demo file; kiosk and desk sessions open the firm's database.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from billing.config import Settings, default_data_dir


@dataclass
class Launch:
    """One session's command; `cleanup` runs once the process has been reaped."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cleanup: Callable[[], None] = lambda: None


# Builds the launch for a connection from `peer` (an address, for the audit's terminal name).
Launcher = Callable[[str], Launch]


def paydesk_argv(*args: str) -> list[str]:
    """`paydesk ARGS...` run with this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "tui.cli", *args]


def shared_demo_path(settings: Settings) -> Path:
    configured = settings.ssh.shared_demo_path
    return Path(configured) if configured else default_data_dir() / "ssh-demo.db"


def shared_demo_sandbox(settings: Settings, *, stripe_api_base: str | None):
    """One Stripe sandbox for every session of the shared demo (started in the server
    process, its state kept beside the shared database), so that a payment taken in one
    session can be refunded from another. None when not needed: per-connection demos
    each embed their own, and an explicit --stripe-api-base is used as given."""
    if (settings.ssh.mode != "demo" or settings.ssh.demo_database != "shared"
            or stripe_api_base):
        return None
    from gateway.sandbox import start_sandbox

    return start_sandbox(port=0, state_file=f"{shared_demo_path(settings)}.stripe-sandbox.json")


def prepare_shared_demo(settings: Settings, global_args: Sequence[str] = ()) -> str | None:
    """Seed the shared demo database once, before any session opens it (sessions
    starting together would otherwise race to create it). Returns a problem or None."""
    if settings.ssh.mode != "demo" or settings.ssh.demo_database != "shared":
        return None
    path = shared_demo_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        paydesk_argv(*global_args, "--db", str(path), "db", "seed-demo"),
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        return f"could not prepare the shared demo database {path}: {result.stderr.strip()}"
    return None


def throwaway_demo_dir(parent: Path | None = None) -> Path:
    """A new private directory (mode 0700) for one session's demo database."""
    return Path(tempfile.mkdtemp(prefix="paydesk-demo-", dir=parent))


def paydesk_launcher(settings: Settings, global_args: Sequence[str] = (),
                     scratch_dir: Path | None = None) -> Launcher:
    """The launcher for `settings.ssh.mode`.

    `global_args` are the `paydesk` options the server itself was given that its
    sessions need too (``--config FILE``, ``--stripe-api-base URL``). Throwaway demo
    databases go under `scratch_dir` (default: the system's temporary directory).
    """
    mode = settings.ssh.mode

    def launch(peer: str) -> Launch:
        env = {"PAYDESK_TERMINAL": f"ssh:{peer}"}
        if mode != "demo":
            return Launch(paydesk_argv(*global_args, "--db", settings.database_url, mode), env)
        if settings.ssh.demo_database == "shared":
            path = shared_demo_path(settings)
            path.parent.mkdir(parents=True, exist_ok=True)
            return Launch(paydesk_argv(*global_args, "--db", str(path), "demo"), env)
        workdir = throwaway_demo_dir(scratch_dir)
        return Launch(
            paydesk_argv(*global_args, "--db", str(workdir / "demo.db"), "demo"),
            env,
            cleanup=lambda: shutil.rmtree(workdir, ignore_errors=True),
        )

    return launch
