"""`paydesk serve-ssh`: an asyncssh server whose sessions each run the app on a pty.

Per connection: at most one session; in demo mode anyone may sign in without a
password, in kiosk and desk modes a configured password or an authorized public key is
needed, and a peer address that fails `max_auth_tries` times is disconnected and then
refused for a while. Forwarding of any kind, X11, SFTP/SCP and exec requests are refused;
variables the client sends are not passed to the app; a signed-in connection that has
not started its app within `start_timeout` seconds is closed.

Connections that have not signed in are kept apart from the session limit, so that
sockets which never speak SSH cannot keep a person out: each peer address may hold
`max_unauthenticated_per_address` of them, each has `handshake_timeout_seconds` to
finish the SSH handshake and ask to sign in and `login_timeout_seconds` to be signed in.
When an address is at its budget, a newcomer takes the place of the oldest of its
connections that has not yet asked to sign in (one that has sent nothing at all goes
first), and is refused only when every one of them is already signing in. Only
signed-in connections count toward the connection cap.
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
from tui.ssh.warm import WarmProcess

log = logging.getLogger("paydesk.ssh")

# Signed-in clients that open no session, or open one but never ask for its shell, are
# dropped after this long; they would otherwise hold a connection (or a session of the
# limit) for as long as they liked.
START_TIMEOUT_SECONDS = 30
# Signed-in connections beyond this many per allowed session are dropped at once
# (sitting without a session still costs a little; an app is not started for them).
CONNECTIONS_PER_SESSION = 2


@dataclass(frozen=True)
class SessionInfo:
    peer: str
    pid: int | None


class SshService:
    """The listening server, its live sessions and its count of failed sign-ins."""

    def __init__(self, settings: SshSettings, host_key: asyncssh.SSHKey,
                 launcher: Launcher, warm: WarmProcess | None = None) -> None:
        self.settings = settings
        self.host_key = host_key
        self.launcher = launcher
        # Sessions whose launch has an entry are forked from it (started and ended with
        # the server); the others, or all of them without it, start afresh.
        self.warm = warm
        self.failures = AuthFailures(settings.max_auth_tries, settings.auth_lockout_seconds)
        self._sessions: dict[AppSession, str] = {}
        self.connections = 0
        # Signed-in connections (the others are in `_unauthenticated`).
        self.signed_in = 0
        # Per peer address, its connections that have not signed in, oldest first.
        self._unauthenticated: dict[str, list[_Connection]] = {}
        # Seconds a signed-in connection has to open its session and start its app.
        self.start_timeout: float = START_TIMEOUT_SECONDS
        self._acceptor: asyncssh.SSHAcceptor | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    @property
    def port(self) -> int:
        assert self._acceptor is not None, "not started"
        return self._acceptor.get_port()

    def unauthenticated(self, peer: str | None = None) -> int:
        """How many connections (from `peer`, or from anywhere) have not signed in."""
        if peer is not None:
            return len(self._unauthenticated.get(peer, ()))
        return sum(len(conns) for conns in self._unauthenticated.values())

    def sessions(self) -> list[SessionInfo]:
        """The open sessions, with the pid of each one's app (None while starting)."""
        return [SessionInfo(peer, s.pid) for s, peer in self._sessions.items()]

    async def start(self) -> None:
        if self.warm is not None:
            await self.warm.start()  # warms up while the server listens
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
            login_timeout=self.settings.login_timeout_seconds,
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
        if self.warm is not None:
            await self.warm.close()

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
            start_timeout=self.start_timeout, warm=self.warm,
        )
        self._sessions[session] = peer
        return session

    def _closed(self, session: AppSession) -> None:
        self._sessions.pop(session, None)

    # connections that have not signed in ----------------------------------------------
    def admit_unauthenticated(self, conn: _Connection) -> bool:
        """Count `conn` in its address's budget, making room if the budget is full by
        closing the oldest connection that has not asked to sign in (silent ones first).
        False if there is no room: every one of them is signing in."""
        pending = self._unauthenticated.setdefault(conn.peer, [])
        if len(pending) >= self.settings.max_unauthenticated_per_address:
            waiting = [c for c in pending if not c.auth_begun]
            silent = [c for c in waiting if not c.spoke]
            if not waiting:
                return False
            victim = (silent or waiting)[0]
            pending.remove(victim)
            log.warning("closed a connection from %s that had not signed in: %d waiting",
                        conn.peer, len(pending) + 1)
            victim.drop("Too many connections from your address; please try again")
        pending.append(conn)
        return True

    def leave_unauthenticated(self, conn: _Connection) -> None:
        pending = self._unauthenticated.get(conn.peer)
        if pending and conn in pending:
            pending.remove(conn)
            if not pending:
                del self._unauthenticated[conn.peer]


class _Connection(asyncssh.SSHServer):
    """One client connection's sign-in and what it may open."""

    def __init__(self, service: SshService) -> None:
        self._service = service
        self._settings = service.settings
        self._conn: asyncssh.SSHServerConnection | None = None
        self._peer = "unknown"
        self.auth_begun = False
        self._signed_in = False
        self._has_session = False
        self._no_session_timer: asyncio.TimerHandle | None = None
        self._handshake_timer: asyncio.TimerHandle | None = None

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def spoke(self) -> bool:
        """True once the client has sent its SSH version line."""
        return self._conn is not None and bool(self._conn.get_extra_info("client_version"))

    def drop(self, reason: str) -> None:
        """Close this connection (soon: never inside another connection's callback)."""
        if self._conn is not None:
            asyncio.get_running_loop().call_soon(
                self._conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS, reason
            )

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._service.connections += 1
        peername = conn.get_extra_info("peername")
        if peername:
            self._peer = str(peername[0])
        loop = asyncio.get_running_loop()
        if self._service.failures.locked_out(self._peer):
            log.warning("refused %s: too many failed sign-ins", self._peer)
            loop.call_soon(self._disconnect_locked_out)
        elif not self._service.admit_unauthenticated(self):
            log.warning("refused %s: %d connections signing in", self._peer,
                        self._service.unauthenticated(self._peer))
            self.drop("Too many connections from your address; please try again shortly")
        else:
            self._handshake_timer = loop.call_later(
                self._settings.handshake_timeout_seconds, self._handshake_expired
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self._service.connections -= 1
        if self._signed_in:
            self._service.signed_in -= 1
        self._service.leave_unauthenticated(self)
        for timer in (self._no_session_timer, self._handshake_timer):
            if timer is not None:
                timer.cancel()

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        if not self.auth_begun and self._conn is not None:
            log.info("dropped %s: no sign-in asked for within %ss", self._peer,
                     self._settings.handshake_timeout_seconds)
            self._conn.disconnect(asyncssh.DISC_BY_APPLICATION, "Sign-in took too long")

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
        self.auth_begun = True
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        if self._service.signed_in >= self._settings.max_sessions * CONNECTIONS_PER_SESSION:
            self._refuse_busy()
            return True
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

    def _refuse_busy(self) -> None:
        log.warning("refused %s: %d signed-in connections open", self._peer,
                    self._service.signed_in)
        if self._conn is not None:
            # At once, before any answer to the sign-in, so the client hears why.
            self._conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS,
                                  "Paydesk is busy; please try again shortly")

    def auth_completed(self) -> None:
        self._signed_in = True
        self._service.signed_in += 1
        self._service.leave_unauthenticated(self)
        if self._service.signed_in > self._settings.max_sessions * CONNECTIONS_PER_SESSION:
            # Another connection signed in between this one's start and its end.
            self._refuse_busy()
            return
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
                       launcher: Launcher, warm: WarmProcess | None = None) -> SshService:
    """A started server (listening); `close()` it to end every session (and `warm`)."""
    service = SshService(settings, host_key, launcher, warm)
    await service.start()
    return service
