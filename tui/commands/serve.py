"""`paydesk serve-ssh` and `paydesk serve-web`: Paydesk for kiosks and demos."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from billing.config import Settings

# tui.ssh (asyncssh, cryptography) and tui.web (aiohttp) are imported by the handlers
# only: every `paydesk` run registers these commands, SSH sessions' apps included, and
# should not pay ~25 MiB and ~0.2 s for a server it does not run.


def register(sub: argparse._SubParsersAction) -> None:
    ssh = sub.add_parser("serve-ssh", help="serve Paydesk over SSH (one app per connection)")
    ssh.add_argument("--host", dest="ssh_host", metavar="ADDRESS",
                     help="address to listen on (default 127.0.0.1)")
    ssh.add_argument("--port", dest="ssh_port", type=int, metavar="PORT",
                     help="port to listen on (default 2222; 0 picks a free one)")
    ssh.add_argument("--mode", dest="ssh_mode", choices=("kiosk", "demo", "desk"),
                     help="what each session runs (default demo)")
    ssh.add_argument("--host-key", dest="ssh_host_key", metavar="FILE",
                     help="host key file, created if missing (default in the data directory)")
    ssh.set_defaults(func=_serve_ssh, setting_overrides=_ssh_overrides)

    web = sub.add_parser("serve-web", help="serve the demo in a browser (textual-serve)")
    web.add_argument("--host", dest="web_host", default="127.0.0.1", metavar="ADDRESS",
                     help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", dest="web_port", type=int, default=8000, metavar="PORT",
                     help="port to listen on (default 8000)")
    web.set_defaults(func=_serve_web)


def _ssh_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "ssh.host": args.ssh_host,
        "ssh.port": args.ssh_port,
        "ssh.mode": args.ssh_mode,
        "ssh.host_key_path": args.ssh_host_key,
    }


def _session_args(args: argparse.Namespace) -> list[str]:
    """The global options each session's `paydesk` must be given as well."""
    out: list[str] = []
    if args.config:
        out += ["--config", args.config]
    if args.stripe_api_base:
        out += ["--stripe-api-base", args.stripe_api_base]
    return out


def _serve_ssh(args: argparse.Namespace, settings: Settings) -> int:
    from tui.ssh import HostKeyError, load_or_create_host_key
    from tui.ssh.launch import prepare_shared_demo, shared_demo_sandbox

    ssh = settings.ssh
    if ssh.mode != "demo" and not ssh.passwords and not ssh.authorized_keys_path:
        print(
            f"paydesk: serve-ssh --mode {ssh.mode} needs [ssh] passwords or "
            "authorized_keys_path in the config file; nobody could sign in",
            file=sys.stderr,
        )
        return 2
    try:
        key = load_or_create_host_key(ssh.host_key_path)
    except HostKeyError as exc:
        print(f"paydesk: {exc}", file=sys.stderr)
        return 2
    problem = prepare_shared_demo(settings, _session_args(args))
    if problem:
        print(f"paydesk: {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    session_args = _session_args(args)
    sandbox = shared_demo_sandbox(settings, stripe_api_base=args.stripe_api_base)
    if sandbox is not None:
        session_args += ["--stripe-api-base", sandbox.url]
    try:
        with tempfile.TemporaryDirectory(prefix="paydesk-ssh-") as scratch:
            return asyncio.run(_run_ssh(settings, key, session_args, Path(scratch)))
    finally:
        if sandbox is not None:
            sandbox.stop()


async def _run_ssh(settings: Settings, key: Any, session_args: list[str], scratch: Path) -> int:
    from tui.ssh import fingerprint, paydesk_launcher, start_server
    from tui.ssh.host_key import default_host_key_path
    from tui.ssh.launch import paydesk_preload, prepare_demo_template
    from tui.ssh.warm import WarmProcess

    # Per-connection demo databases are copies of one seeded here, and sessions are
    # forked from a warm process that has imported the app: both spare each session
    # the start-up a fresh `paydesk demo` pays.
    template = await asyncio.to_thread(prepare_demo_template, settings, scratch, session_args)
    launcher = paydesk_launcher(settings, session_args, demo_template=template)
    warm = WarmProcess(paydesk_preload())

    ssh = settings.ssh
    # Before the banner: whoever read it may stop us at once.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        service = await start_server(ssh, key, launcher, warm)
    except OSError as exc:
        await warm.close()
        print(f"paydesk: cannot listen on {ssh.host}:{ssh.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    key_path = ssh.host_key_path or default_host_key_path()
    print(f"Paydesk over SSH ({ssh.mode} mode) on {ssh.host} port {service.port}", flush=True)
    print(f"Host key fingerprint: {fingerprint(key)} ({key.get_algorithm()}, {key_path})",
          flush=True)
    print(f"Connect with: ssh -p {service.port} {ssh.mode}@{ssh.host}", flush=True)
    await stop.wait()
    print("Stopping: ending every session", flush=True)
    await service.close()
    return 0


def _serve_web(args: argparse.Namespace, settings: Settings) -> int:
    from tui.web import serve_web  # textual-serve (aiohttp) only when asked for

    return serve_web(args.web_host, args.web_port, _session_args(args))
