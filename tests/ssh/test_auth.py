"""Who may connect: anyone in demo mode; in kiosk and desk modes a configured password
or an authorized key, with a peer disconnected after 3 failed tries and then refused."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from tests.ssh.conftest import wait_until
from tests.ssh.terminal import connect, open_terminal
from tui.ssh.auth import AuthFailures, password_matches

PASSWORDS = {"frontdesk": "correct horse battery staple"}


class Guesser(asyncssh.SSHClient):
    """A client that keeps trying wrong passwords for as long as it is let."""

    def __init__(self) -> None:
        self.tries = 0

    def password_auth_requested(self) -> str:
        self.tries += 1
        return f"wrong-{self.tries}"


async def guess_until_dropped(port: int) -> tuple[int, BaseException]:
    client = Guesser()
    try:
        await asyncssh.connect(
            "127.0.0.1", port, username="frontdesk", known_hosts=None, client_keys=None,
            agent_path=None, client_factory=lambda: client, preferred_auth="password",
        )
    except (asyncssh.Error, OSError) as exc:
        return client.tries, exc
    raise AssertionError("wrong passwords were let in")


async def test_demo_mode_lets_anyone_in_without_a_password(make_server):
    service = await make_server(mode="demo")
    async with await connect(service.port, username="whoever") as conn:
        _, screen = await open_terminal(conn)
        await screen.wait_for("tiny-app")


async def test_kiosk_mode_lets_in_the_configured_password(make_server):
    service = await make_server(mode="kiosk", passwords=PASSWORDS)
    async with await connect(service.port, "frontdesk", password=PASSWORDS["frontdesk"]) as conn:
        _, screen = await open_terminal(conn)
        await screen.wait_for("tiny-app")


@pytest.mark.parametrize("mode", ["kiosk", "desk"])
async def test_without_credentials_kiosk_and_desk_refuse(make_server, mode):
    service = await make_server(mode=mode, passwords=PASSWORDS)
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(service.port, "frontdesk")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(service.port, "intruder", password=PASSWORDS["frontdesk"])


async def test_three_wrong_passwords_disconnect_and_lock_the_peer_out(make_server):
    service = await make_server(mode="kiosk", passwords=PASSWORDS, auth_lockout_seconds=60)
    tries, exc = await guess_until_dropped(service.port)
    assert tries == 3, f"the server allowed {tries} tries"
    assert isinstance(exc, asyncssh.DisconnectError)
    # Reconnecting does not buy more guesses: even the right password is refused now.
    with pytest.raises(asyncssh.DisconnectError) as refused:
        await connect(service.port, "frontdesk", password=PASSWORDS["frontdesk"])
    assert "Too many failed" in refused.value.reason


async def test_failures_add_up_across_connections(make_server):
    service = await make_server(mode="kiosk", passwords=PASSWORDS)
    for _ in range(2):
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(service.port, "frontdesk", password="nope")
    # One more failure is the third for this peer.
    with pytest.raises(asyncssh.DisconnectError):
        await connect(service.port, "frontdesk", password="nope")
    with pytest.raises(asyncssh.DisconnectError):
        await connect(service.port, "frontdesk", password=PASSWORDS["frontdesk"])


async def test_the_lockout_ends_after_its_time(make_server):
    service = await make_server(mode="kiosk", passwords=PASSWORDS, auth_lockout_seconds=1)
    await guess_until_dropped(service.port)
    assert service.failures.locked_out("127.0.0.1")
    assert await wait_until(lambda: not service.failures.locked_out("127.0.0.1"), 5.0)
    async with await connect(service.port, "frontdesk", password=PASSWORDS["frontdesk"]):
        pass


async def test_an_authorized_key_lets_in_and_another_key_does_not(make_server, tmp_path: Path):
    good = asyncssh.generate_private_key("ssh-ed25519")
    other = asyncssh.generate_private_key("ssh-ed25519")
    keys = tmp_path / "authorized_keys"
    keys.write_bytes(good.export_public_key())
    service = await make_server(mode="desk", authorized_keys_path=str(keys))
    async with await connect(service.port, "clerk", client_keys=[good],
                             preferred_auth="publickey") as conn:
        _, screen = await open_terminal(conn)
        await screen.wait_for("tiny-app")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(service.port, "clerk", client_keys=[other], preferred_auth="publickey")


def test_password_check_needs_the_exact_password_of_a_known_user():
    assert password_matches(PASSWORDS, "frontdesk", "correct horse battery staple")
    assert not password_matches(PASSWORDS, "frontdesk", "correct horse")
    assert not password_matches(PASSWORDS, "frontdesk", "")
    assert not password_matches(PASSWORDS, "nobody", "correct horse battery staple")
    assert not password_matches({"x": ""}, "y", "")


def test_failures_are_counted_per_peer_and_forgotten_after_the_lockout():
    now = [0.0]
    failures = AuthFailures(max_tries=3, lockout_seconds=10, clock=lambda: now[0])
    for _ in range(3):
        failures.record_failure("10.0.0.1")
    assert failures.locked_out("10.0.0.1")
    assert not failures.locked_out("10.0.0.2")
    now[0] = 10.5
    assert not failures.locked_out("10.0.0.1")
    failures.record_failure("10.0.0.2")
    failures.record_success("10.0.0.2")
    assert failures.record_failure("10.0.0.2") == 1


class _FakeConnection:
    def __init__(self) -> None:
        self.disconnected: list[int] = []

    def disconnect(self, code: int, reason: str) -> None:
        self.disconnected.append(code)


def test_a_locked_out_peer_is_refused_even_the_right_password():
    # A peer may be past the check at connect when its count reaches the limit on
    # another connection; its next try there must not be checked at all.
    from billing.config import SshSettings
    from tui.ssh.server import SshService, _Connection

    settings = SshSettings(mode="kiosk", passwords=PASSWORDS, max_auth_tries=3)
    service = SshService(settings, asyncssh.generate_private_key("ssh-ed25519"),
                         lambda peer: None)
    signing_in = _Connection(service)
    signing_in._peer = "192.0.2.9"
    signing_in._conn = fake = _FakeConnection()
    for _ in range(3):
        service.failures.record_failure("192.0.2.9")
    assert not signing_in.validate_password("frontdesk", PASSWORDS["frontdesk"])
    assert fake.disconnected == [asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE]
    # Another peer is not affected.
    other = _Connection(service)
    other._peer, other._conn = "192.0.2.10", _FakeConnection()
    assert other.validate_password("frontdesk", PASSWORDS["frontdesk"])
