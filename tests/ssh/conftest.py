"""An SSH server per test: loopback, a free port, a host key and scratch files in the
test's own tmp_path. Every server a test started is closed (its sessions' processes
and its warm process ended) when the test ends."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from billing.config import Settings, SshSettings, defaults
from tui.ssh import Launch, SshService, load_or_create_host_key, paydesk_launcher, start_server
from tui.ssh.launch import Entry, Launcher
from tui.ssh.warm import WarmProcess

TINY_WARM = ("tests.ssh.tiny_app",)

TINY_APP = Path(__file__).with_name("tiny_app.py")

MakeServer = Callable[..., Awaitable[SshService]]


async def wait_until(predicate, timeout: float = 5.0) -> bool:
    """True once `predicate()` holds, False if `timeout` seconds pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a reaped process is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def tiny_launcher(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Launcher:
    """Sessions run tests/ssh/tiny_app.py (the SSH plumbing without Paydesk): as a fresh
    process, or forked from a warm process when the server has one."""

    def launch(peer: str) -> Launch:
        return Launch([sys.executable, str(TINY_APP), *args],
                      {"PAYDESK_TEST_PEER": peer, **(env or {})},
                      entry=Entry("tests.ssh.tiny_app", args))

    return launch


def demo_settings(tmp_path: Path, **ssh: Any) -> Settings:
    """Settings for the real `paydesk demo`, with every file under tmp_path."""
    base = defaults()
    return replace(
        base,
        database_url=str(tmp_path / "unused.db"),
        outbox_dir=str(tmp_path / "outbox"),
        ssh=replace(SshSettings(port=0), **ssh),
    )


def paydesk_demo_launcher(tmp_path: Path, settings: Settings | None = None,
                          demo_template: Path | None = None) -> Launcher:
    """Sessions run the real `paydesk --db <throwaway> demo`; throwaway dirs go under
    tmp_path/scratch and the sessions' outbox under tmp_path."""
    settings = settings or demo_settings(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    inner = paydesk_launcher(settings, scratch_dir=scratch, demo_template=demo_template)

    def launch(peer: str) -> Launch:
        plan = inner(peer)
        env = {**plan.env, "PAYDESK_OUTBOX_DIR": str(tmp_path / "outbox"),
               "XDG_CONFIG_HOME": str(tmp_path / "config"),
               "XDG_DATA_HOME": str(tmp_path / "data")}
        return Launch(plan.argv, env, plan.cleanup, plan.entry)

    return launch


@pytest.fixture
def host_key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "ssh_host_ed25519_key"


@pytest.fixture
async def make_server(tmp_path: Path, host_key_path: Path) -> AsyncIterator[MakeServer]:
    """`await make_server(launcher=None, **ssh_settings)`: a started server on a free
    loopback port; the default launcher runs the tiny test app."""
    started: list[SshService] = []

    async def make(launcher: Launcher | None = None, *, warm: Sequence[str] | None = None,
                   **ssh: Any) -> SshService:
        settings = replace(SshSettings(port=0, host_key_path=str(host_key_path)), **ssh)
        key = load_or_create_host_key(settings.host_key_path)
        # `warm`: the modules a warm process imports; sessions are then forked from it.
        warm_process = WarmProcess(warm) if warm is not None else None
        service = await start_server(settings, key, launcher or tiny_launcher(tmp_path),
                                     warm_process)
        started.append(service)
        return service

    yield make
    for service in started:
        await service.close()
