"""Connections that never speak SSH cannot keep a person out: they have a small budget
per address, apart from the session limit, and a short time to start signing in."""

from __future__ import annotations

import asyncio

from tests.ssh.conftest import wait_until
from tests.ssh.terminal import connect, open_terminal, type_keys

HOST = "127.0.0.1"
OTHER_ADDRESS = "127.0.0.2"  # another loopback address: another peer to the server


async def idle_socket(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection that hears the server's greeting and never says anything."""
    reader, writer = await asyncio.open_connection(HOST, port)
    greeting = await asyncio.wait_for(reader.readline(), 5)
    assert greeting.startswith(b"SSH-2.0-"), greeting  # the server accepted it
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    """True once the server has closed the socket (end of stream) within `timeout`."""
    try:
        async with asyncio.timeout(timeout):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def test_idle_sockets_beyond_the_budget_keep_no_login_out(make_server):
    # Long handshake timeout: only the budget, not a timer, makes room here.
    service = await make_server(max_sessions=2, max_unauthenticated_per_address=2,
                                handshake_timeout_seconds=120.0)
    idle = [await idle_socket(service.port) for _ in range(6)]
    try:
        # Each of the six was accepted and greeted; the address keeps two of them.
        assert len(idle) == 6
        assert await wait_until(lambda: service.unauthenticated(HOST) == 2, 5.0)
        still_open = [r for r, _ in idle[-2:]]
        for reader, _ in idle[:4]:
            assert await closed_by_server(reader, 5.0)

        # A real login from the same address, and one from another address, get in
        # while the idle sockets are held, and both sessions of the limit are used.
        async with (await connect(service.port) as same,
                    await connect(service.port, local_addr=(OTHER_ADDRESS, 0)) as other):
            same_chan, same_screen = await open_terminal(same)
            other_chan, other_screen = await open_terminal(other)
            await same_screen.wait_for("tiny-app")
            await other_screen.wait_for("tiny-app")
            assert {info.peer for info in service.sessions()} == {HOST, OTHER_ADDRESS}

            # More idle sockets from the login's own address do not push it out.
            idle += [await idle_socket(service.port) for _ in range(4)]
            assert await wait_until(lambda: service.unauthenticated(HOST) == 2, 5.0)
            for reader in still_open:
                assert await closed_by_server(reader, 5.0)
            await type_keys(same_chan, "still here\r")
            await same_screen.wait_for("echo=still here")
            assert not same_screen.closed.is_set() and not other_screen.closed.is_set()
    finally:
        for _, writer in idle:
            writer.close()


async def test_idle_sockets_are_closed_after_the_handshake_timeout(make_server):
    service = await make_server(max_unauthenticated_per_address=3,
                                handshake_timeout_seconds=0.5)
    idle = [await idle_socket(service.port) for _ in range(3)]
    try:
        assert service.unauthenticated(HOST) == 3 and service.connections == 3
        for reader, _ in idle:
            assert await closed_by_server(reader, 5.0), "an idle socket was kept open"
        assert await wait_until(lambda: service.connections == 0, 5.0)
        assert service.unauthenticated() == 0
        # A client that does speak SSH still signs in and gets its session.
        async with await connect(service.port) as conn:
            _, screen = await open_terminal(conn)
            await screen.wait_for("tiny-app")
    finally:
        for _, writer in idle:
            writer.close()


async def test_signed_in_connections_are_not_counted_as_waiting(make_server):
    service = await make_server(max_sessions=2, max_unauthenticated_per_address=1)
    async with await connect(service.port) as first, await connect(service.port) as second:
        # Both signed in from one address whose budget for waiting connections is one.
        _, screen1 = await open_terminal(first)
        _, screen2 = await open_terminal(second)
        await screen1.wait_for("tiny-app")
        await screen2.wait_for("tiny-app")
        assert service.signed_in == 2 and service.unauthenticated() == 0
    assert await wait_until(lambda: service.connections == 0 and service.signed_in == 0, 5.0)
