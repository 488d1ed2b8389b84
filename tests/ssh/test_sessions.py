"""Each connection runs its own app process on its own pty, sized and typed like the
client's terminal, and the process and the connection end together."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import asyncssh
import pytest

from tests.ssh.conftest import pid_alive, wait_until
from tests.ssh.terminal import connect, open_terminal, type_keys
from tui.ssh import Launch
from tui.ssh.pty_process import get_window_size


def only_pid(service) -> int:
    (info,) = service.sessions()
    assert info.pid is not None
    return info.pid


async def test_the_app_gets_the_clients_term_and_window_size_and_follows_a_resize(make_server):
    service = await make_server()
    async with await connect(service.port) as conn:
        chan, screen = await open_terminal(conn, 100, 30, term="xterm-256color")
        await screen.wait_for("term=xterm-256color")
        await screen.wait_for("size=100x30")
        pid = only_pid(service)
        with open(f"/proc/{pid}/fd/0", "rb", buffering=0) as tty:
            assert get_window_size(tty.fileno()) == (100, 30)
            mark = screen.mark()
            chan.change_terminal_size(120, 40)
            await screen.wait_for("size=120x40", since=mark)
            assert get_window_size(tty.fileno()) == (120, 40)


async def test_typed_keys_reach_the_app(make_server):
    service = await make_server()
    async with await connect(service.port) as conn:
        chan, screen = await open_terminal(conn)
        await screen.wait_for("tiny-app")
        await type_keys(chan, "hello\r")
        await screen.wait_for("echo=hello")


async def test_each_connection_gets_a_process_of_its_own_in_its_own_session(make_server):
    service = await make_server()
    async with await connect(service.port) as first, await connect(service.port) as second:
        _, screen1 = await open_terminal(first)
        _, screen2 = await open_terminal(second)
        await screen1.wait_for("tiny-app")
        await screen2.wait_for("tiny-app")
        pids = {info.pid for info in service.sessions()}
        assert len(pids) == 2 and os.getpid() not in pids
        for pid in pids:
            assert f"pid={pid}" in screen1.text() + screen2.text()
            # A session leader of its own: a signal to one group never reaches the other.
            assert os.getsid(pid) == pid and os.getpgid(pid) == pid


async def test_closing_the_connection_ends_the_apps_whole_process_group(make_server, tmp_path: Path):
    # The app starts a child of its own, as a real app might (a helper, a sandbox).
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(f'child={child.pid}', flush=True)\n"
        "time.sleep(600)\n"
    )
    service = await make_server(lambda peer: Launch([sys.executable, str(script)]))
    conn = await connect(service.port)
    _, screen = await open_terminal(conn)
    drawn = await screen.wait_for("child=")
    child = int(drawn.split("child=")[1].split()[0])
    pid = only_pid(service)
    assert pid_alive(pid) and pid_alive(child)
    conn.close()
    assert await wait_until(lambda: not pid_alive(pid) and not pid_alive(child), 5.0), (
        "the app's processes outlived the connection"
    )
    assert await wait_until(lambda: service.sessions() == [], 2.0)


async def test_the_connection_ends_when_the_app_exits(make_server):
    service = await make_server()
    conn = await connect(service.port)
    chan, screen = await open_terminal(conn)
    await screen.wait_for("tiny-app")
    await type_keys(chan, "quit\r")
    await asyncio.wait_for(screen.closed.wait(), 10)
    assert screen.exit_status == 0
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert await wait_until(lambda: service.sessions() == [], 2.0)


async def test_one_crashed_session_leaves_the_others_running(make_server):
    service = await make_server()
    async with await connect(service.port) as calm, await connect(service.port) as doomed:
        calm_chan, calm_screen = await open_terminal(calm)
        doomed_chan, doomed_screen = await open_terminal(doomed)
        await calm_screen.wait_for("tiny-app")
        await doomed_screen.wait_for("tiny-app")
        await type_keys(doomed_chan, "crash\r")
        await asyncio.wait_for(doomed_screen.closed.wait(), 10)
        assert doomed_screen.exit_status == 3
        assert "stopped unexpectedly" in doomed_screen.text()
        await type_keys(calm_chan, "still here\r")
        await calm_screen.wait_for("echo=still here")


async def test_a_frozen_session_does_not_freeze_the_others(make_server):
    service = await make_server()
    async with await connect(service.port) as frozen, await connect(service.port) as other:
        frozen_chan, frozen_screen = await open_terminal(frozen)
        await frozen_screen.wait_for("tiny-app")
        os.kill(only_pid(service), signal.SIGSTOP)  # the app stops reading and drawing
        # Far more keys than a pty buffers keep arriving for the stopped app.
        frozen_chan.write(b"x" * 200_000)
        other_chan, other_screen = await open_terminal(other)
        await other_screen.wait_for("tiny-app")
        await type_keys(other_chan, "fine\r")
        await other_screen.wait_for("echo=fine")


async def test_an_idle_session_is_closed(make_server):
    service = await make_server(idle_timeout_seconds=1)
    conn = await connect(service.port)
    _, screen = await open_terminal(conn)
    await screen.wait_for("tiny-app")
    pid = only_pid(service)
    await asyncio.wait_for(screen.closed.wait(), 10)
    assert "without input" in screen.text()
    assert await wait_until(lambda: not pid_alive(pid), 5.0)


async def test_typing_keeps_a_session_from_going_idle(make_server):
    service = await make_server(idle_timeout_seconds=2)
    async with await connect(service.port) as conn:
        chan, screen = await open_terminal(conn)
        await screen.wait_for("tiny-app")
        for _ in range(6):  # 3 s of typing, past the 2 s limit
            await type_keys(chan, "x", pause=0.5)
        assert not screen.closed.is_set()


async def test_the_session_limit_refuses_one_more(make_server):
    service = await make_server(max_sessions=1)
    async with await connect(service.port) as first:
        _, screen = await open_terminal(first)
        await screen.wait_for("tiny-app")
        async with await connect(service.port) as second:
            try:
                await open_terminal(second)
            except asyncssh.ChannelOpenError as exc:
                assert "busy" in exc.reason
            else:
                raise AssertionError("a session beyond the limit was opened")
    # Once the first has gone, there is room again.
    assert await wait_until(lambda: service.sessions() == [], 5.0)
    async with await connect(service.port) as third:
        _, screen = await open_terminal(third)
        await screen.wait_for("tiny-app")


async def test_connections_without_sessions_are_capped(make_server):
    service = await make_server(max_sessions=1)
    held = [await connect(service.port) for _ in range(2)]  # 2 per allowed session
    try:
        with pytest.raises(asyncssh.DisconnectError) as refused:
            await connect(service.port)
        assert "busy" in refused.value.reason
    finally:
        for conn in held:
            conn.close()
    assert await wait_until(lambda: service.connections == 0, 5.0)


async def test_stopping_the_server_ends_every_session(make_server):
    service = await make_server()
    conn = await connect(service.port)
    _, screen = await open_terminal(conn)
    await screen.wait_for("tiny-app")
    pid = only_pid(service)
    await service.close()
    assert not pid_alive(pid)
    await asyncio.wait_for(screen.closed.wait(), 5)


def test_the_pty_helper_reports_the_size_it_set():
    import pty

    from tui.ssh.pty_process import set_window_size

    master, slave = pty.openpty()
    try:
        set_window_size(master, 91, 17)
        assert get_window_size(slave) == (91, 17)
    finally:
        os.close(master)
        os.close(slave)
