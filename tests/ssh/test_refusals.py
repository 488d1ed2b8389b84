"""A session is a pty running the app and nothing else: forwarding of any kind, X11,
SFTP, exec requests, a shell without a pty and a second session are all refused."""

from __future__ import annotations

import asyncio
import binascii
import os
from pathlib import Path

import asyncssh
import pytest
from asyncssh.channel import SSHClientChannel
from asyncssh.packet import Boolean, String, UInt32

from tests.ssh.conftest import wait_until
from tests.ssh.terminal import Screen, connect, open_terminal


@pytest.fixture
async def signed_in(make_server):
    service = await make_server()
    conn = await connect(service.port)
    yield service, conn
    conn.close()


async def test_agent_forwarding_is_refused(signed_in):
    _, conn = signed_in
    chan, screen = await open_terminal(conn)
    await screen.wait_for("tiny-app")
    # What `ssh -A` sends; asyncssh's client sends it without asking for a reply.
    assert await chan._make_request(b"auth-agent-req@openssh.com") is False


async def test_x11_forwarding_is_refused(signed_in):
    _, conn = signed_in
    chan, screen = await open_terminal(conn)
    await screen.wait_for("tiny-app")
    cookie = binascii.b2a_hex(b"\x01" * 16)
    refused = await chan._make_request(
        b"x11-req", Boolean(False), String(b"MIT-MAGIC-COOKIE-1"), String(cookie), UInt32(0)
    )
    assert refused is False


async def test_direct_port_forwarding_is_refused(signed_in):
    _, conn = signed_in
    reached = asyncio.Event()

    async def target(reader, writer):
        reached.set()
        writer.close()

    listener = await asyncio.start_server(target, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", port)
        assert not reached.is_set()
    finally:
        listener.close()


async def test_direct_unix_socket_forwarding_is_refused(signed_in, tmp_path: Path):
    # A socket that exists and listens: a refusal is the server's, not a missing path.
    _, conn = signed_in
    reached = asyncio.Event()

    async def target(reader, writer):
        reached.set()
        writer.close()

    path = tmp_path / "target.sock"
    listener = await asyncio.start_unix_server(target, str(path))
    try:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_unix_connection(str(path))
        assert not reached.is_set()
    finally:
        listener.close()


async def test_remote_port_forwarding_is_refused(signed_in, tmp_path: Path):
    _, conn = signed_in
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
    path = tmp_path / "forward.sock"
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.start_unix_server(lambda: None, str(path))
    assert not path.exists()


async def test_sftp_is_refused(signed_in):
    _, conn = signed_in
    with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
        await conn.start_sftp_client()


async def test_exec_requests_are_refused(signed_in):
    service, conn = signed_in
    with pytest.raises(asyncssh.ChannelOpenError) as refused:
        await conn.run("id", check=True)
    assert refused.value.reason == "Session request failed"
    assert all(info.pid is None for info in service.sessions())


async def test_exec_requests_with_a_pty_are_refused(make_server):
    # On a connection of its own: a connection's second session is refused anyway.
    service = await make_server()
    async with await connect(service.port) as conn:
        with pytest.raises(asyncssh.ChannelOpenError) as refused:
            await conn.create_session(Screen, "cat /etc/passwd", term_type="xterm",
                                      encoding=None)
        assert refused.value.reason == "Session request failed"
        assert all(info.pid is None for info in service.sessions())


async def test_a_shell_without_a_pty_is_refused(signed_in):
    service, conn = signed_in
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.create_session(Screen, encoding=None)
    assert all(info.pid is None for info in service.sessions())


async def test_one_connection_gets_one_session(signed_in):
    service, conn = signed_in
    _, screen = await open_terminal(conn)
    await screen.wait_for("tiny-app")
    with pytest.raises(asyncssh.ChannelOpenError):
        await open_terminal(conn)
    assert len(service.sessions()) == 1


async def test_tun_and_tap_forwarding_are_refused(signed_in):
    _, conn = signed_in
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.open_tun()
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.open_tap()


@pytest.mark.parametrize("direction", ["download", "upload"])
async def test_scp_is_refused(make_server, tmp_path, direction):
    service = await make_server()
    target = tmp_path / "copied"
    async with await connect(service.port) as conn:
        with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)) as refused:
            if direction == "download":
                await asyncssh.scp((conn, "/etc/hostname"), target)
            else:
                await asyncssh.scp(__file__, (conn, str(target)))
        assert "one session per connection" not in str(refused.value)
        assert not target.exists()
        assert all(info.pid is None for info in service.sessions())


# What a client sends with `ssh -o SendEnv=...` / `SetEnv=...`: none of it may reach the
# app, which would otherwise open another database, use another Stripe key, import
# another module or load another library.
CLIENT_ENV = {
    "PAYDESK_DATABASE_URL": "/tmp/attacker.db",
    "PAYDESK_CONFIG": "/tmp/attacker.toml",
    "STRIPE_API_KEY": "sk_live_attacker",
    "PYTHONPATH": "/tmp/attacker",
    "PYTHONSTARTUP": "/tmp/attacker.py",
    "LD_PRELOAD": "/tmp/attacker.so",
    "PATH": "/tmp/attacker",
    "HOME": "/tmp/attacker",
    "TEXTUAL": "devtools",
    "TERM": "attacker-term",
    "LC_ALL": "attacker",
}


def process_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


async def test_variables_the_client_sends_do_not_reach_the_app(make_server):
    service = await make_server()
    async with await connect(service.port) as conn:
        _, screen = await conn.create_session(
            Screen, term_type="vt220", term_size=(100, 30), env=CLIENT_ENV, encoding=None
        )
        # The pty request's terminal type is the one that counts.
        await screen.wait_for("term=vt220")
        (info,) = service.sessions()
        env = process_environment(info.pid)
    assert env["TERM"] == "vt220"
    leaked = {k: v for k, v in env.items() if "attacker" in v}
    assert leaked == {}, f"client variables reached the app: {leaked}"
    for name in ("PAYDESK_DATABASE_URL", "PAYDESK_CONFIG", "STRIPE_API_KEY", "PYTHONPATH",
                 "PYTHONSTARTUP", "LD_PRELOAD", "TEXTUAL", "LC_ALL"):
        assert env.get(name) == os.environ.get(name), name


async def open_bare_session(conn: asyncssh.SSHClientConnection) -> None:
    """A session channel with no pty, shell, exec or subsystem request ever sent."""
    chan = SSHClientChannel(conn, asyncio.get_running_loop(), "strict", None, "strict",
                            2 * 1024 * 1024, 32768)
    await chan._open(b"session")
    chan._session = Screen()
    chan._session.connection_made(chan)


async def test_a_session_that_never_starts_is_closed(make_server):
    # Otherwise one client holding session channels open without asking for a shell
    # would use up the session limit for everyone.
    service = await make_server(max_sessions=1)
    service.start_timeout = 0.5
    conn = await connect(service.port)
    await open_bare_session(conn)
    assert len(service.sessions()) == 1
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert await wait_until(lambda: service.sessions() == [], 2.0)
    async with await connect(service.port) as other:
        _, screen = await open_terminal(other)
        await screen.wait_for("tiny-app")


async def test_a_refused_shell_does_not_hold_its_session(make_server):
    service = await make_server(max_sessions=1)
    service.start_timeout = 0.5
    conn = await connect(service.port)
    chan = SSHClientChannel(conn, asyncio.get_running_loop(), "strict", None, "strict",
                            2 * 1024 * 1024, 32768)
    await chan._open(b"session")
    chan._session = Screen()
    chan._session.connection_made(chan)
    assert await chan._make_request(b"shell") is False  # no pty asked for
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert await wait_until(lambda: service.sessions() == [], 2.0)


async def test_a_signed_in_connection_without_a_session_is_dropped(make_server):
    service = await make_server()
    service.start_timeout = 0.5
    conn = await connect(service.port)
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert await wait_until(lambda: service.connections == 0, 2.0)
