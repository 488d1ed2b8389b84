"""What each SSH session runs: the `paydesk` command line in the server's mode.

A demo session gets a throwaway SQLite file of its own (removed when the session
ends; a copy of a template seeded once, when the server made one) or the one shared
demo file; kiosk and desk sessions open the firm's database. Each launch says both how
to start it as a fresh process (`argv`) and how the warm process runs it (`entry`).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from billing.config import Settings, default_data_dir


@dataclass(frozen=True)
class Entry:
    """`module.main(args)`: what a session forked from the warm process runs; the same
    as `python -m module args` would do."""

    module: str
    args: Sequence[str] = ()


@dataclass
class Launch:
    """One session's command; `cleanup` runs once the process has been reaped. With an
    `entry`, a server that has a warm process forks the session from it instead."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cleanup: Callable[[], None] = lambda: None
    entry: Entry | None = None


# Builds the launch for a connection from `peer` (an address, for the audit's terminal name).
Launcher = Callable[[str], Launch]


def paydesk_argv(*args: str) -> list[str]:
    """`paydesk ARGS...` run with this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "tui.cli", *args]


def paydesk_launch(args: Sequence[str], env: Mapping[str, str],
                   cleanup: Callable[[], None] = lambda: None) -> Launch:
    """`paydesk ARGS...`, as a fresh process or forked from the warm process."""
    return Launch(paydesk_argv(*args), env, cleanup, Entry("tui.cli", tuple(args)))


# What the warm process imports for Paydesk's sessions: the command line (whose
# sub-commands import their own modules only when run) and what `paydesk demo`, `kiosk`
# and `desk` then import, screens included, so that no session imports them afresh.
PAYDESK_PRELOAD = (
    "tui.cli", "tui.commands.apps", "tui.factory", "tui.app", "billing.services",
    "gateway.sandbox", "gateway.stripe_gateway", "models.demo", "models.schema",
    "textual.drivers.linux_driver",
    # Imported by Paydesk only when a receipt PDF is made: loaded once here, shared by all.
    "fpdf",
)
# Packages whose every module is imported too (imports made inside functions included).
PAYDESK_PRELOAD_PACKAGES = ("tui.screens", "tui.widgets", "billing", "models", "gateway")


def paydesk_preload() -> list[str]:
    """The modules the warm process imports before it forks Paydesk sessions."""
    import importlib.util
    import pkgutil

    names = list(PAYDESK_PRELOAD)
    for package in PAYDESK_PRELOAD_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        names.append(package)
        for info in pkgutil.walk_packages(spec.submodule_search_locations, f"{package}."):
            if not info.name.rsplit(".", 1)[-1].startswith("__"):
                names.append(info.name)
    return names


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


def prepare_demo_template(settings: Settings, directory: Path,
                          global_args: Sequence[str] = ()) -> Path | None:
    """Seed a demo database once, for per-connection demo sessions to copy (seeding
    hashes the demo's PINs and passwords: ~0.5 s a session otherwise). None when the
    mode does not use one or seeding failed (sessions then seed their own)."""
    if settings.ssh.mode != "demo" or settings.ssh.demo_database == "shared":
        return None
    path = directory / "demo-template.db"
    result = subprocess.run(
        paydesk_argv(*global_args, "--db", str(path), "db", "seed-demo"),
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0 or not path.exists():
        return None
    # One self-contained file (nothing left in a write-ahead log) that copies whole.
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def paydesk_launcher(settings: Settings, global_args: Sequence[str] = (),
                     scratch_dir: Path | None = None,
                     demo_template: Path | None = None) -> Launcher:
    """The launcher for `settings.ssh.mode`.

    `global_args` are the `paydesk` options the server itself was given that its
    sessions need too (``--config FILE``, ``--stripe-api-base URL``). Throwaway demo
    databases go under `scratch_dir` (default: the system's temporary directory), each
    a copy of `demo_template` when given (see `prepare_demo_template`).
    """
    mode = settings.ssh.mode

    def launch(peer: str) -> Launch:
        env = {"PAYDESK_TERMINAL": f"ssh:{peer}"}
        if mode != "demo":
            return paydesk_launch([*global_args, "--db", settings.database_url, mode], env)
        if settings.ssh.demo_database == "shared":
            path = shared_demo_path(settings)
            path.parent.mkdir(parents=True, exist_ok=True)
            return paydesk_launch([*global_args, "--db", str(path), "demo"], env)
        workdir = throwaway_demo_dir(scratch_dir)
        database = workdir / "demo.db"
        if demo_template is not None:
            with contextlib.suppress(OSError):  # without it, the session seeds its own
                shutil.copyfile(demo_template, database)
        return paydesk_launch(
            [*global_args, "--db", str(database), "demo"], env,
            cleanup=lambda: shutil.rmtree(workdir, ignore_errors=True),
        )

    return launch
