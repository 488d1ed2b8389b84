"""A session is a pty running the app and nothing else: forwarding of any kind, X11,
SFTP, exec requests, a shell without a pty and a second session are all refused."""

from __future__ import annotations

import asyncio
import binascii

import asyncssh
import pytest
from asyncssh.packet import Boolean, String, UInt32

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
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_unix_connection("/run/any.sock")
        assert not reached.is_set()
    finally:
        listener.close()


async def test_remote_port_forwarding_is_refused(signed_in):
    _, conn = signed_in
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.start_unix_server(lambda: None, "/tmp/paydesk-test-forward.sock")


async def test_sftp_is_refused(signed_in):
    _, conn = signed_in
    with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
        await conn.start_sftp_client()


async def test_exec_requests_are_refused(signed_in):
    service, conn = signed_in
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.run("id", check=True)
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.create_session(Screen, "cat /etc/passwd", term_type="xterm", encoding=None)
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
