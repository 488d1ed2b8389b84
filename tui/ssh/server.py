"""`paydesk serve-ssh`: an asyncssh server whose sessions each run the app on a pty.

Per connection: at most one session; in demo mode anyone may sign in without a
password, in kiosk and desk modes a configured password or an authorized public key is
needed, and a peer address that fails `max_auth_tries` times is disconnected and then
refused for a while. Forwarding of any kind, X11, SFTP/SCP and exec requests are refused;
variables the client sends are not passed to the app; a signed-in connection that has
not started its app within `start_timeout` seconds is closed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncssh

from billing.config import SshSettings
from tui.ssh.auth import AuthFailures, password_matches
from tui.ssh.host_key import fingerprint
from tui.ssh.launch import Launcher
from tui.ssh.session import AppSession

log = logging.getLogger("paydesk.ssh")

# Clients that neither sign in nor leave are dropped after this long; so are signed-in
# clients that open no session, or open one but never ask for its shell, which would
# otherwise hold a connection (or a session of the limit) for as long as they liked.
LOGIN_TIMEOUT_SECONDS = 30
# Connections beyond this many per allowed session are dropped at once (signing in
# or sitting without a session still costs a little; an app is not started for them).
CONNECTIONS_PER_SESSION = 2


@dataclass(frozen=True)
class SessionInfo:
    peer: str
    pid: int | None


class SshService:
    """The listening server, its live sessions and its count of failed sign-ins."""

    def __init__(self, settings: SshSettings, host_key: asyncssh.SSHKey,
                 launcher: Launcher) -> None:
        self.settings = settings
        self.host_key = host_key
        self.launcher = launcher
        self.failures = AuthFailures(settings.max_auth_tries, settings.auth_lockout_seconds)
        self._sessions: dict[AppSession, str] = {}
        self.connections = 0
        # Seconds a signed-in connection has to open its session and start its app.
        self.start_timeout: float = LOGIN_TIMEOUT_SECONDS
        self._acceptor: asyncssh.SSHAcceptor | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    @property
    def port(self) -> int:
        assert self._acceptor is not None, "not started"
        return self._acceptor.get_port()

    def sessions(self) -> list[SessionInfo]:
        """The open sessions, with the pid of each one's app (None while starting)."""
        return [SessionInfo(peer, s.pid) for s, peer in self._sessions.items()]

    async def start(self) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: _Connection(self),
            self.settings.host,
            self.settings.port,
            server_host_keys=[self.host_key],
            encoding=None,
            line_editor=False,
            allow_pty=True,
            agent_forwarding=False,
            x11_forwarding=False,
            sftp_factory=None,
            allow_scp=False,
            gss_host=None,
            login_timeout=LOGIN_TIMEOUT_SECONDS,
            keepalive_interval=60,
        )

    async def close(self) -> None:
        """Stop listening and end every session (each app's process group is reaped)."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        sessions = list(self._sessions)
        for session in sessions:
            session.end()
        if sessions:
            await asyncio.gather(*(s.ended.wait() for s in sessions))

    async def serve_forever(self) -> None:
        assert self._acceptor is not None, "not started"
        await self._acceptor.wait_closed()

    # sessions --------------------------------------------------------------------
    def open_session(self, peer: str) -> AppSession:
        if len(self._sessions) >= self.settings.max_sessions:
            log.warning("refused a session from %s: %d open", peer, len(self._sessions))
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_RESOURCE_SHORTAGE,
                f"Paydesk is busy ({self.settings.max_sessions} sessions open); "
                "please try again shortly",
            )
        session = AppSession(
            self.launcher, peer, float(self.settings.idle_timeout_seconds), self._closed,
            start_timeout=self.start_timeout,
        )
        self._sessions[session] = peer
        return session

    def _closed(self, session: AppSession) -> None:
        self._sessions.pop(session, None)


class _Connection(asyncssh.SSHServer):
    """One client connection's sign-in and what it may open."""

    def __init__(self, service: SshService) -> None:
        self._service = service
        self._settings = service.settings
        self._conn: asyncssh.SSHServerConnection | None = None
        self._peer = "unknown"
        self._has_session = False
        self._no_session_timer: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._service.connections += 1
        peername = conn.get_extra_info("peername")
        if peername:
            self._peer = str(peername[0])
        limit = self._settings.max_sessions * CONNECTIONS_PER_SESSION
        if self._service.connections > limit:
            log.warning("refused %s: %d connections open", self._peer, limit)
            asyncio.get_running_loop().call_soon(
                conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS,
                "Paydesk is busy; please try again shortly",
            )
        elif self._service.failures.locked_out(self._peer):
            log.warning("refused %s: too many failed sign-ins", self._peer)
            asyncio.get_running_loop().call_soon(self._disconnect_locked_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._service.connections -= 1
        if self._no_session_timer is not None:
            self._no_session_timer.cancel()

    def _drop_without_session(self) -> None:
        self._no_session_timer = None
        if not self._has_session and self._conn is not None:
            log.info("dropped %s: signed in but opened no session", self._peer)
            self._conn.disconnect(asyncssh.DISC_BY_APPLICATION, "No session was opened")

    def _disconnect_locked_out(self) -> None:
        if self._conn is not None:
            self._conn.disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                "Too many failed sign-in attempts; try again later",
            )

    # sign-in -----------------------------------------------------------------------
    @property
    def _demo(self) -> bool:
        return self._settings.mode == "demo"

    def begin_auth(self, username: str) -> bool:
        if self._demo:
            return False  # anyone, no password: the demo has nothing to protect
        keys = self._settings.authorized_keys_path
        if keys and self._conn is not None:
            try:
                # Read at each sign-in, so that an edited file applies without a restart.
                self._conn.set_authorized_keys(keys)
            except (OSError, ValueError) as exc:
                log.error("authorized keys %s unusable: %s", keys, exc)
        return True

    def password_auth_supported(self) -> bool:
        return not self._demo and bool(self._settings.passwords)

    def validate_password(self, username: str, password: str) -> bool:
        if self._service.failures.locked_out(self._peer):
            # Reached only if the peer got past the check at connect (it failed on
            # another connection meanwhile): not even the right password is let in.
            self._disconnect_locked_out()
            return False
        if password_matches(self._settings.passwords, username, password):
            self._service.failures.record_success(self._peer)
            return True
        count = self._service.failures.record_failure(self._peer)
        log.warning("failed password for %r from %s (%d)", username, self._peer, count)
        if count >= self._settings.max_auth_tries:
            # At once, before the failure reply, so the client is not asked for another.
            self._disconnect_locked_out()
        return False

    def public_key_auth_supported(self) -> bool:
        return not self._demo and bool(self._settings.authorized_keys_path)

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def auth_completed(self) -> None:
        self._service.failures.record_success(self._peer)
        self._no_session_timer = asyncio.get_running_loop().call_later(
            self._service.start_timeout, self._drop_without_session
        )

    # what a signed-in client may open ------------------------------------------------
    def session_requested(self) -> AppSession:
        if self._has_session:
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "one session per connection"
            )
        session = self._service.open_session(self._peer)
        self._has_session = True
        return session

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        return False

    def tun_requested(self, unit: int | None) -> bool:
        return False

    def tap_requested(self, unit: int | None) -> bool:
        return False


async def start_server(settings: SshSettings, host_key: asyncssh.SSHKey,
                       launcher: Launcher) -> SshService:
    """A started server (listening); `close()` it to end every session."""
    service = SshService(settings, host_key, launcher)
    await service.start()
    return service
