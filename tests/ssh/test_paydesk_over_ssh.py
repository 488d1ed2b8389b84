"""The real `paydesk demo` over SSH, as `paydesk serve-ssh` runs it (sessions forked
from the warm process, demo databases copied from a template): a person connects with a
terminal, sees the welcome screen, types a payment code and sees the invoice; resizing
is followed; each connection has its own process and its own throwaway demo database;
one session killed leaves the others working."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

from tests.ssh.conftest import demo_settings, paydesk_demo_launcher, pid_alive, wait_until
from tests.ssh.terminal import connect, open_terminal, type_keys
from tui.ssh.launch import paydesk_preload, prepare_demo_template, prepare_shared_demo
from tui.ssh.pty_process import get_window_size

WELCOME = "Welcome to Harbor & Vale LLP"
F3 = "\x1bOR"  # the welcome screen's "Payment code" key
PRELOAD = paydesk_preload()
# The payment code field drawn with its cursor on the placeholder's first letter (the
# letter styled apart from the rest): the field has the focus, and typed keys reach it.
CODE_FIELD_FOCUSED = re.compile(rb"e(?:\x1b\[[0-9;]*m)+\.g\. LINK-1234")


async def enter_payment_code(chan, screen, code: str = "LINK-1013") -> int:
    """F3, the code typed once its field has the focus, Enter once the field shows the
    code; returns the stream position after which the answer is drawn."""
    mark = screen.mark()
    await type_keys(chan, [F3])
    # Textual moves the focus on its next turn: keys sent before then go elsewhere.
    assert await wait_until(lambda: CODE_FIELD_FOCUSED.search(screen.stream, mark), 10), (
        "F3 did not put the focus in the payment code field"
    )
    mark = screen.mark()
    await type_keys(chan, code, pause=0.08)
    # The field shows the code (the demo hint beside it reads "LINK-1013." instead).
    await screen.wait_for(f"{code} ", timeout=10, since=mark)
    mark = screen.mark()
    await type_keys(chan, "\r")
    return mark


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def serve_demo(make_server, tmp_path: Path, settings=None):
    """A server as serve-ssh makes it, with its demo template under tmp_path."""
    settings = settings or demo_settings(tmp_path)
    template = prepare_demo_template(settings, tmp_path)
    if settings.ssh.demo_database != "shared":
        assert template is not None and template.exists()
    launcher = paydesk_demo_launcher(tmp_path, settings, demo_template=template)
    return await make_server(launcher, warm=PRELOAD)


async def test_a_client_types_a_payment_code_and_sees_the_invoice_then_resizes(
    make_server, tmp_path: Path
):
    service = await serve_demo(make_server, tmp_path)
    async with await connect(service.port, username="demo") as conn:
        chan, screen = await open_terminal(conn, 100, 30, term="xterm-256color")
        await screen.wait_for(WELCOME, timeout=30)
        mark = await enter_payment_code(chan, screen)
        drawn = await screen.wait_for("INV-1013", timeout=20, since=mark)
        await screen.wait_for("190.00", timeout=10, since=mark)
        assert "Estate of Harold Whitfield" in drawn or "WHI-" in drawn

        (info,) = service.sessions()
        assert parent_of(info.pid) == service.warm.pid
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
    service = await serve_demo(make_server, tmp_path)
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
    service = await serve_demo(make_server, tmp_path, settings)
    async with await connect(service.port) as first, await connect(service.port) as second:
        _, screen1 = await open_terminal(first)
        _, screen2 = await open_terminal(second)
        await asyncio.gather(screen1.wait_for(WELCOME, 30), screen2.wait_for(WELCOME, 30))
        assert list((tmp_path / "scratch").iterdir()) == []
        assert shared.stat().st_size >= seeded


async def test_killing_one_of_three_paydesk_sessions_leaves_the_others_working(
    make_server, tmp_path: Path
):
    service = await serve_demo(make_server, tmp_path)
    conns = [await connect(service.port) for _ in range(3)]
    try:
        terminals = [await open_terminal(conn, 100, 30) for conn in conns]
        await asyncio.gather(*(screen.wait_for(WELCOME, 30) for _, screen in terminals))
        pids = [info.pid for info in service.sessions()]
        assert all(parent_of(pid) == service.warm.pid for pid in pids)
        os.kill(pids[0], signal.SIGKILL)
        # Which connection had that pid is not known here: wait for any one to close.
        closed = await wait_until(lambda: any(s.closed.is_set() for _, s in terminals), 10)
        assert closed, "the killed session's connection stayed open"
        alive = [(chan, screen) for chan, screen in terminals if not screen.closed.is_set()]
        assert len(alive) == 2
        for chan, screen in alive:
            # Keys still reach each app (a payment code finds its invoice) ...
            mark = await enter_payment_code(chan, screen)
            await screen.wait_for("INV-1013", timeout=20, since=mark)
            # ... and it still repaints at a new size.
            mark = screen.mark()
            chan.change_terminal_size(100, 40)
            assert await wait_until(lambda s=screen, m=mark: b"\x1b[40;" in s.stream[m:], 10)
        newcomer = await connect(service.port)
        conns.append(newcomer)
        _, screen = await open_terminal(newcomer)
        await screen.wait_for(WELCOME, 30)
        assert len(service.sessions()) == 3
    finally:
        for conn in conns:
            conn.close()
