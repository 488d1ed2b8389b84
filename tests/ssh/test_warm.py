"""Sessions forked from the warm process: each is still a process of its own, in its
own session on its own pty; one killed or crashed leaves the others working; the
warm process dying leaves the sessions running and is replaced."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from tests.ssh.conftest import TINY_WARM, pid_alive, tiny_launcher, wait_until
from tests.ssh.terminal import Screen, connect, open_terminal, type_keys
from tui.ssh import warm as warm_module
from tui.ssh.pty_process import UNKNOWN_STATUS


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, ppid, pgrp, session, tty_nr, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def parent_of(pid: int) -> int:
    return int(stat_fields(pid)[1])


async def open_sessions(service, count: int):
    """`count` connections, each with its app drawn; returns (conn, chan, screen, pid)."""
    opened = []
    for _ in range(count):
        conn = await connect(service.port)
        chan, screen = await open_terminal(conn)
        drawn = await screen.wait_for("tiny-app pid=", timeout=30)
        pid = int(drawn.split("tiny-app pid=")[1].split()[0])
        opened.append((conn, chan, screen, pid))
    return opened


async def still_working(chan, screen: Screen, word: str, columns: int) -> None:
    """The session answers typed keys and repaints at a new size."""
    mark = screen.mark()
    await type_keys(chan, f"{word}\r")
    await screen.wait_for(f"echo={word}", since=mark)
    chan.change_terminal_size(columns, 33)
    await screen.wait_for(f"size={columns}x33", since=mark)


async def test_sessions_are_forked_from_the_warm_process_each_alone_on_its_own_pty(make_server):
    service = await make_server(warm=TINY_WARM)
    opened = await open_sessions(service, 2)
    try:
        warm_pid = service.warm.pid
        ttys = set()
        for _, _, _, pid in opened:
            state, ppid, pgrp, session, tty_nr = stat_fields(pid)[:5]
            assert int(ppid) == warm_pid, "the session was not forked from the warm process"
            # A session leader of its own, whose controlling terminal is its own pty.
            assert int(pgrp) == pid and int(session) == pid
            assert os.readlink(f"/proc/{pid}/fd/0").startswith("/dev/pts/")
            assert os.stat(f"/proc/{pid}/fd/0").st_rdev == int(tty_nr)
            ttys.add(int(tty_nr))
        assert len(ttys) == 2
    finally:
        for conn, *_ in opened:
            conn.close()
    for _, _, screen, pid in opened:
        await asyncio.wait_for(screen.closed.wait(), 10)
        assert await wait_until(lambda pid=pid: not pid_alive(pid), 5.0)
    assert await wait_until(lambda: service.sessions() == [], 5.0)
    assert pid_alive(warm_pid), "ending sessions ended the warm process"


async def test_killing_one_of_three_sessions_leaves_the_others_working(make_server):
    service = await make_server(warm=TINY_WARM)
    opened = await open_sessions(service, 3)
    try:
        (_, _, doomed_screen, doomed_pid), *others = opened
        os.kill(doomed_pid, signal.SIGKILL)
        await asyncio.wait_for(doomed_screen.closed.wait(), 10)
        assert doomed_screen.exit_status == 128 + signal.SIGKILL
        assert "stopped unexpectedly" in doomed_screen.text()
        for index, (_, chan, screen, _) in enumerate(others):
            await still_working(chan, screen, f"alive{index}", 90 + index)
        # New connections are still accepted, and still forked from the warm process.
        (newcomer,) = await open_sessions(service, 1)
        opened.append(newcomer)
        assert parent_of(newcomer[3]) == service.warm.pid
        await still_working(newcomer[1], newcomer[2], "newcomer", 95)
    finally:
        for conn, *_ in opened:
            conn.close()


async def test_a_session_whose_app_crashes_leaves_the_others_working(make_server):
    service = await make_server(warm=TINY_WARM)
    opened = await open_sessions(service, 3)
    try:
        # One app leaves at once with status 3, one dies of an uncaught exception.
        for (_, chan, screen, _), how, status in zip(opened, ("crash", "raise"), (3, 1),
                                                    strict=False):
            await type_keys(chan, f"{how}\r")
            await asyncio.wait_for(screen.closed.wait(), 10)
            assert screen.exit_status == status
            assert "stopped unexpectedly" in screen.text()
        _, chan, screen, _ = opened[2]
        await still_working(chan, screen, "fine", 91)
        (newcomer,) = await open_sessions(service, 1)
        opened.append(newcomer)
        await still_working(newcomer[1], newcomer[2], "newcomer", 92)
    finally:
        for conn, *_ in opened:
            conn.close()


async def test_killing_the_warm_process_spares_the_sessions_and_another_is_started(
    make_server, monkeypatch
):
    monkeypatch.setattr(warm_module, "RESTART_BACKOFF_SECONDS", 0.0)
    service = await make_server(warm=TINY_WARM)
    opened = await open_sessions(service, 2)
    try:
        first_warm = service.warm.pid
        os.kill(first_warm, signal.SIGKILL)
        assert await wait_until(lambda: not pid_alive(first_warm), 5.0)
        _, chan, screen, pid = opened[0]
        await still_working(chan, screen, "orphan", 93)
        # A session whose warm process has gone still ends with its connection.
        opened[1][0].close()
        await asyncio.wait_for(opened[1][2].closed.wait(), 10)
        assert await wait_until(lambda: len(service.sessions()) == 1, 5.0)
        (newcomer,) = await open_sessions(service, 1)
        opened.append(newcomer)
        assert service.warm.pid not in (None, first_warm)
        assert parent_of(newcomer[3]) == service.warm.pid
        await still_working(newcomer[1], newcomer[2], "newcomer", 94)
        # The orphaned session's own end is still seen, its status unknown (not 0:
        # nothing says it ended well).
        await type_keys(chan, "crash\r")
        await asyncio.wait_for(screen.closed.wait(), 10)
        assert screen.exit_status == UNKNOWN_STATUS
        assert "Paydesk session ended" in screen.text()
        assert await wait_until(lambda: not pid_alive(pid), 5.0)
        assert await wait_until(lambda: len(service.sessions()) == 1, 5.0)
    finally:
        for conn, *_ in opened:
            conn.close()


async def test_a_forked_app_has_the_sessions_environment_and_nothing_the_client_sent(
    make_server, tmp_path: Path
):
    from tests.ssh.test_refusals import CLIENT_ENV

    env_file = tmp_path / "env.json"
    launcher = tiny_launcher(tmp_path, env={"PAYDESK_TEST_ENV_FILE": str(env_file)})
    service = await make_server(launcher, warm=TINY_WARM)
    async with await connect(service.port) as conn:
        _, screen = await conn.create_session(
            Screen, term_type="vt220", term_size=(100, 30), env=CLIENT_ENV, encoding=None
        )
        await screen.wait_for("term=vt220")
        assert await wait_until(env_file.exists, 5.0)
        (info,) = service.sessions()
        assert parent_of(info.pid) == service.warm.pid
    env = json.loads(env_file.read_text())
    assert env["TERM"] == "vt220" and env["PAYDESK_TEST_PEER"] == "127.0.0.1"
    leaked = {k: v for k, v in env.items() if "attacker" in v}
    assert leaked == {}, f"client variables reached the app: {leaked}"
    for name in ("COLUMNS", "LINES", "SSH_AUTH_SOCK", "TEXTUAL_DRIVER"):
        assert name not in env, name


async def test_a_warm_process_that_must_not_fork_leaves_sessions_to_start_afresh(make_server):
    service = await make_server(warm=(*TINY_WARM, "tests.ssh.starts_a_thread"))
    assert await service.warm.ready() is False
    ((conn, chan, screen, pid),) = await open_sessions(service, 1)
    try:
        assert parent_of(pid) == os.getpid(), "the session was not started afresh"
        await still_working(chan, screen, "fresh", 96)
    finally:
        conn.close()
