"""A warm process that misbehaves (stopped, hung while importing, gone without pidfds
to watch its sessions by) never keeps a session open, never blocks the server's
shutdown and never makes sessions wait more than once; a forked session is in its own
process group before the server may signal it, and holds no descriptor of the warm
process or of another session."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
from contextlib import suppress
from pathlib import Path

import pytest

from tests.ssh.conftest import TINY_WARM, pid_alive, wait_until
from tests.ssh.terminal import type_keys
from tests.ssh.test_warm import open_sessions, stat_fields, still_working
from tui.ssh import warm as warm_module
from tui.ssh.launch import Entry
from tui.ssh.pty_process import UNKNOWN_STATUS, PtyProcess, child_environment
from tui.ssh.warm import WarmProcess


@pytest.fixture
async def make_warm():
    """`make_warm(preload, **options)`: a WarmProcess, not yet started; every one made
    is closed (a stopped one resumed first) when the test ends."""
    made: list[WarmProcess] = []

    def make(preload, **options) -> WarmProcess:
        warm = WarmProcess(preload, **options)
        made.append(warm)
        return warm

    yield make
    for warm in made:
        await warm.close()


async def spawn_tiny(warm: WarmProcess) -> PtyProcess | None:
    env = child_environment(os.environ, "xterm-256color", {})
    return await warm.spawn(Entry("tests.ssh.tiny_app"), env=env, columns=80, rows=24,
                            on_output=lambda data: None)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def fd_targets(pid: int) -> set[str]:
    targets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with suppress(OSError):
            targets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return targets


def resume_if_stopped(pid: int) -> None:
    if pid_alive(pid):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


async def test_a_stopped_warm_process_neither_keeps_a_session_open_nor_blocks_closing(
    make_server
):
    service = await make_server(warm=TINY_WARM)
    (conn, _, screen, pid), (_, chan2, screen2, pid2) = await open_sessions(service, 2)
    warm_pid = service.warm.pid
    os.kill(warm_pid, signal.SIGSTOP)
    try:
        assert await wait_until(lambda: stat_fields(warm_pid)[0] == "T", 5.0)
        # Its app ends, but the stopped warm process can neither reap nor report it.
        conn.close()
        assert await wait_until(lambda: len(service.sessions()) == 1, 5.0), (
            "a session stayed listed (and counted against max_sessions) after its end"
        )
        assert not pid_alive(pid)
        await still_working(chan2, screen2, "unhindered", 97)
        await asyncio.wait_for(service.close(), 15)
        await asyncio.wait_for(screen2.closed.wait(), 5)
        assert not pid_alive(pid2)
        assert await wait_until(lambda: not pid_alive(warm_pid), 5.0)
    finally:
        resume_if_stopped(warm_pid)


async def test_without_pidfds_a_dead_warm_process_leaves_its_sessions_running(
    make_server, monkeypatch
):
    def refused(pid: int, flags: int = 0) -> int:  # as older Docker seccomp profiles do
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "pidfd_open", refused)
    service = await make_server(warm=TINY_WARM)
    (conn1, chan1, screen1, pid1), (_, chan2, screen2, pid2) = await open_sessions(service, 2)
    process = service.warm._process
    os.kill(process.pid, signal.SIGKILL)
    # Seen by the server: its reports of the sessions' exits will never come.
    assert await wait_until(lambda: process.returncode is not None, 5.0)
    # A session's end is still seen (its pid is polled), with an honest status.
    await type_keys(chan2, "crash\r")
    await asyncio.wait_for(screen2.closed.wait(), 10)
    assert screen2.exit_status == UNKNOWN_STATUS
    assert "Paydesk session ended" in screen2.text()
    assert not pid_alive(pid2)
    # The other one was left alone meanwhile.
    assert pid_alive(pid1) and not screen1.closed.is_set()
    assert len(service.sessions()) == 1
    await still_working(chan1, screen1, "orphan", 98)
    conn1.close()
    assert await wait_until(lambda: service.sessions() == [], 5.0)
    assert not pid_alive(pid1)


async def test_a_forked_child_leads_its_own_process_group_before_the_server_knows_its_pid(
    make_warm
):
    # Its children call setsid() half a second late: the pid must not be known before.
    warm = make_warm([*TINY_WARM, "tests.ssh.slow_setsid"])
    await warm.start()
    assert await warm.ready()
    app = await spawn_tiny(warm)
    assert app is not None
    _, ppid, pgrp, session = stat_fields(app.pid)[:4]
    assert int(ppid) == warm.pid
    assert int(pgrp) == app.pid and int(session) == app.pid, (
        "the server knew the pid before the child had its own process group"
    )
    # Ended at once, the group's SIGHUP reaches it: no waiting for a SIGKILL.
    await asyncio.wait_for(app.terminate(grace=30), 10)
    assert await wait_until(lambda: not pid_alive(app.pid), 5.0)


async def test_ending_an_app_that_leads_no_group_still_signals_the_app():
    master, slave = os.openpty()
    try:
        # SIGHUP at its default, whatever this test run inherited (nohup ignores it).
        process = await asyncio.create_subprocess_exec(
            "sleep", "60", stdin=slave,
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    finally:
        os.close(slave)
    app = PtyProcess(process, master, lambda data: None)
    assert os.getpgid(process.pid) != process.pid
    status = await asyncio.wait_for(app.terminate(grace=30), 10)
    assert status == -signal.SIGHUP


async def test_a_warm_process_that_never_becomes_ready_is_waited_for_once_then_killed(
    make_warm
):
    loop = asyncio.get_running_loop()
    warm = make_warm(["tests.ssh.never_ready"], ready_timeout=1.5)
    await warm.start()
    warm_pid = warm.pid
    began = loop.time()
    # Sessions arriving together all wait until the same deadline, not one after another.
    async def timed_spawn() -> tuple[PtyProcess | None, float]:
        app = await spawn_tiny(warm)
        return app, loop.time() - began

    results = await asyncio.gather(*(timed_spawn() for _ in range(3)))
    assert [app for app, _ in results] == [None, None, None]
    assert max(took for _, took in results) < 3.0, results  # one after another: 4.5
    assert await wait_until(lambda: not pid_alive(warm_pid), 5.0), "the hung warm process was left"
    # Later sessions go straight to fresh processes.
    began = loop.time()
    assert await spawn_tiny(warm) is None
    assert loop.time() - began < 0.5


async def test_a_warm_process_that_stops_forking_is_killed_and_sessions_start_afresh(
    make_warm, monkeypatch
):
    monkeypatch.setattr(warm_module, "PID_TIMEOUT_SECONDS", 1.0)
    loop = asyncio.get_running_loop()
    warm = make_warm(TINY_WARM)
    await warm.start()
    assert await warm.ready()
    warm_pid = warm.pid
    os.kill(warm_pid, signal.SIGSTOP)
    try:
        began = loop.time()
        assert await spawn_tiny(warm) is None
        assert loop.time() - began < 3.0
        assert await wait_until(lambda: not pid_alive(warm_pid), 5.0), "the stuck warm process was left"
        began = loop.time()
        assert await spawn_tiny(warm) is None
        assert loop.time() - began < 0.5, "a later session waited for the failed warm process"
    finally:
        resume_if_stopped(warm_pid)


async def test_a_warm_process_that_can_never_be_ready_is_restarted_a_few_times_only(
    make_warm, monkeypatch, caplog
):
    monkeypatch.setattr(warm_module, "RESTART_BACKOFF_SECONDS", 0.0)
    monkeypatch.setattr(warm_module, "MAX_FAILED_STARTS", 3)
    warm = make_warm([*TINY_WARM, "tests.ssh.starts_a_thread"])
    await warm.start()
    pids = set()
    with caplog.at_level(logging.WARNING, logger="paydesk.ssh"):
        for _ in range(6):
            assert await warm.ready() is False
            pids.add(warm.pid)
    assert len(pids) == 3, f"warm processes started: {len(pids)}"
    given_up = [r for r in caplog.records if "never became ready" in r.getMessage()]
    assert len(given_up) == 1


async def test_a_cancelled_spawn_leaves_no_descriptor_open(make_warm):
    warm = make_warm(TINY_WARM)
    await warm.start()
    assert await warm.ready()
    os.kill(warm.pid, signal.SIGSTOP)  # it never answers: the spawn waits for its pid
    try:
        before = open_fds()
        task = asyncio.get_running_loop().create_task(spawn_tiny(warm))
        # Waiting for the pid: its pty master and its socket are open.
        assert await wait_until(lambda: len(open_fds() - before) >= 2, 5.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await wait_until(lambda: open_fds() <= before, 2.0), open_fds() - before
    finally:
        resume_if_stopped(warm.pid)


async def test_a_forked_app_holds_only_its_own_pty_and_what_it_opened_itself(make_server):
    service = await make_server(warm=TINY_WARM)
    opened = await open_sessions(service, 2)
    try:
        warm_targets = fd_targets(service.warm.pid)
        for _, _, _, pid in opened:
            targets = fd_targets(pid)
            own_pty = os.readlink(f"/proc/{pid}/fd/0")
            assert own_pty.startswith("/dev/pts/")
            assert {t for t in targets if t.startswith("/dev/pts/")} == {own_pty}
            # The warm process's control socket, wake-up pipe, stdio and the other
            # sessions' sockets: none of it survives in a session. (Sockets and pipes
            # are named by inode; every epoll or eventfd is one anonymous inode.)
            shared = {t for t in targets & warm_targets if not t.startswith("anon_inode:")}
            assert shared == set(), shared
            others = {t for t in targets if t != own_pty}
            kinds = {t.split(":")[0] if ":" in t else Path(t).parent.as_posix() for t in others}
            assert kinds <= {"socket", "pipe", "anon_inode", "/dev"}, sorted(others)
    finally:
        for conn, *_ in opened:
            conn.close()

