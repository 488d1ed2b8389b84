"""The real `paydesk demo` over SSH: a person connects with a terminal, sees the
welcome screen, types a payment code and sees the invoice; resizing is followed; each
connection has its own process and its own throwaway demo database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.ssh.conftest import demo_settings, paydesk_demo_launcher, pid_alive, wait_until
from tests.ssh.terminal import connect, open_terminal, type_keys
from tui.ssh.launch import prepare_shared_demo
from tui.ssh.pty_process import get_window_size

WELCOME = "Welcome to Harbor & Vale LLP"
F3 = "\x1bOR"  # the welcome screen's "Payment code" key


async def test_a_client_types_a_payment_code_and_sees_the_invoice_then_resizes(
    make_server, tmp_path: Path
):
    service = await make_server(paydesk_demo_launcher(tmp_path))
    async with await connect(service.port, username="demo") as conn:
        chan, screen = await open_terminal(conn, 100, 30, term="xterm-256color")
        await screen.wait_for(WELCOME, timeout=30)
        await asyncio.sleep(0.3)  # the screen settles before a person starts typing
        await type_keys(chan, [F3], pause=0.2)
        mark = screen.mark()
        await type_keys(chan, "LINK-1013\r", pause=0.08)
        drawn = await screen.wait_for("INV-1013", timeout=20, since=mark)
        await screen.wait_for("190.00", timeout=10, since=mark)
        assert "Estate of Harold Whitfield" in drawn or "WHI-" in drawn

        (info,) = service.sessions()
        with open(f"/proc/{info.pid}/fd/0", "rb", buffering=0) as tty:
            assert get_window_size(tty.fileno()) == (100, 30)
            mark = screen.mark()
            chan.change_terminal_size(120, 40)
            await screen.wait_for("INV-1013", timeout=10, since=mark)
            assert get_window_size(tty.fileno()) == (120, 40)
        # Repainted for 40 rows: the app now draws on row 40, which a 30-row screen lacks.
        assert await wait_until(lambda: b"\x1b[40;" in screen.stream[mark:], 5), (
            "the app did not repaint at the new size"
        )
        assert b"\x1b[40;" not in screen.stream[:mark]


async def test_each_connection_runs_its_own_app_and_closing_it_ends_that_app(
    make_server, tmp_path: Path
):
    service = await make_server(paydesk_demo_launcher(tmp_path))
    first = await connect(service.port)
    second = await connect(service.port)
    try:
        _, screen1 = await open_terminal(first)
        _, screen2 = await open_terminal(second)
        await asyncio.gather(screen1.wait_for(WELCOME, 30), screen2.wait_for(WELCOME, 30))
        pids = [info.pid for info in service.sessions()]
        assert len(set(pids)) == 2 and None not in pids
        assert all(os.getpgid(pid) == pid for pid in pids)
        scratch = tmp_path / "scratch"
        assert len(list(scratch.iterdir())) == 2, "each connection has its own demo database"

        first.close()
        gone = await wait_until(lambda: not pid_alive(pids[0]), 5.0)
        assert gone, f"pid {pids[0]} outlived its connection"
        assert pid_alive(pids[1]), "closing one connection ended another's app"
        assert await wait_until(lambda: len(list(scratch.iterdir())) == 1, 5.0), (
            "the closed session's throwaway database was left behind"
        )
        assert not screen2.closed.is_set()
    finally:
        first.close()
        second.close()


async def test_a_shared_demo_database_is_one_file_for_every_connection(make_server, tmp_path: Path):
    shared = tmp_path / "shared-demo.db"
    settings = demo_settings(tmp_path, demo_database="shared", shared_demo_path=str(shared))
    # serve-ssh seeds it once before listening, so that sessions never race to create it.
    assert prepare_shared_demo(settings) is None
    assert shared.exists()
    seeded = shared.stat().st_size
    service = await make_server(paydesk_demo_launcher(tmp_path, settings))
    async with await connect(service.port) as first, await connect(service.port) as second:
        _, screen1 = await open_terminal(first)
        _, screen2 = await open_terminal(second)
        await asyncio.gather(screen1.wait_for(WELCOME, 30), screen2.wait_for(WELCOME, 30))
        assert list((tmp_path / "scratch").iterdir()) == []
        assert shared.stat().st_size >= seeded
