"""One SSH session: a pty request, a shell request, then one app process of its own
(forked from the server's warm process when there is one, else started afresh).

Everything else a client may ask of a session (exec, subsystems such as SFTP, X11,
agent forwarding, a shell without a pty) is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncssh

from tui.ssh.launch import Launch, Launcher
from tui.ssh.pty_process import UNKNOWN_STATUS, PtyProcess, child_environment

if TYPE_CHECKING:
    from tui.ssh.warm import WarmProcess

log = logging.getLogger("paydesk.ssh")

# Sent when the server ends a session itself (idle, shutdown, a crashed app): the app
# had no chance to restore the client's terminal, and a terminal left in the alternate
# screen with mouse reporting on is unusable until reset.
TERMINAL_RESET = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l"
    b"\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m"
)
# Keys typed faster than the app reads them are kept up to this much, then dropped.
MAX_PENDING_INPUT = 1 << 20


class AppSession(asyncssh.SSHServerSession[bytes]):
    """Runs the launcher's command on a pty sized and typed like the client's."""

    def __init__(self, launcher: Launcher, peer: str, idle_timeout: float,
                 on_closed: Callable[[AppSession], None], *,
                 start_timeout: float = 30.0, warm: WarmProcess | None = None) -> None:
        self._launcher = launcher
        self._warm = warm
        self._start_timeout = start_timeout
        self._peer = peer
        self._idle_timeout = idle_timeout
        self._on_closed = on_closed
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term: str | None = None
        self._size = (80, 24, 0, 0)
        self._process: PtyProcess | None = None
        self._launch: Launch | None = None
        self._task: asyncio.Task[None] | None = None
        self._ending: asyncio.Task[None] | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._start_handle: asyncio.TimerHandle | None = None
        self._last_input = 0.0
        self._started = asyncio.Event()
        self.ended = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    # requests from the client ------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan
        # A session whose app has not started by then (no shell asked for, or only
        # refused requests) is closed rather than left holding a place of the limit.
        self._start_handle = asyncio.get_running_loop().call_later(
            self._start_timeout, self._not_started
        )

    def _not_started(self) -> None:
        self._start_handle = None
        if self._task is None:
            log.info("session for %s never started its app, closing", self._peer)
            self.end(status=1)

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: asyncssh.TermModes) -> bool:
        self._term = term_type or "xterm-256color"
        columns, rows, xpixels, ypixels = term_size
        self._size = (columns or 80, rows or 24, xpixels, ypixels)
        return True

    def shell_requested(self) -> bool:
        # A shell without a pty would be a plain byte pipe into a full-screen app.
        return self._term is not None

    def exec_requested(self, command: str) -> bool:
        log.info("refused an exec request from %s", self._peer)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.info("refused subsystem %r from %s", subsystem, self._peer)
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        """Client-sent signals are ignored: the app is not theirs to signal."""

    def session_started(self) -> None:
        if self._start_handle is not None:
            self._start_handle.cancel()
            self._start_handle = None
        self._task = asyncio.get_running_loop().create_task(self._run())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self._last_input = asyncio.get_running_loop().time()
        if self._process is not None and self._process.pending_input < MAX_PENDING_INPUT:
            self._process.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self._size = (width, height, pixwidth, pixheight)
        if self._process is not None:
            self._process.resize(width, height, pixwidth, pixheight)

    def eof_received(self) -> bool:
        self.end()
        return False

    def pause_writing(self) -> None:
        if self._process is not None:
            self._process.pause_output()

    def resume_writing(self) -> None:
        if self._process is not None:
            self._process.resume_output()

    def connection_lost(self, exc: Exception | None) -> None:
        self._chan = None
        self.end()

    # the app process -----------------------------------------------------------
    def _output(self, data: bytes) -> None:
        if self._chan is not None:
            self._chan.write(data)

    async def _run(self) -> None:
        columns, rows, xpixels, ypixels = self._size
        try:
            self._launch = self._launcher(self._peer)
            # Variables the client sent (`env` requests, ssh's SendEnv/SetEnv) are never
            # passed on: only the pty request's TERM reaches the app. Anything else could
            # point it at another database or Stripe key, or inject code (PYTHONPATH,
            # LD_PRELOAD). tests/ssh/test_refusals.py checks the app's /proc environ.
            env = child_environment(os.environ, self._term or "xterm-256color", self._launch.env)
            if self._launch.entry is not None and self._warm is not None:
                self._process = await self._warm.spawn(
                    self._launch.entry, env=env, columns=columns, rows=rows,
                    on_output=self._output,
                )
            if self._process is None:
                self._process = await PtyProcess.start(
                    self._launch.argv, env=env, columns=columns, rows=rows,
                    on_output=self._output,
                )
        except Exception:
            log.exception("could not start the app for %s", self._peer)
            self._write_reset(b"Paydesk could not start; please try again later.\r\n")
            self.end(status=1)
            return
        finally:
            self._started.set()
        if (columns, rows) != self._size[:2]:  # resized while starting
            self._process.resize(*self._size)
        log.info("session for %s: pid %d", self._peer, self._process.pid)
        self._last_input = asyncio.get_running_loop().time()
        self._arm_idle()
        status = await self._process.process.wait()
        # What the app printed last (its terminal restore) still goes to the client.
        await self._process.wait_output_closed(1.0)
        if status == UNKNOWN_STATUS:
            # Its end was seen but not how it ended: no claim of a crash, but the
            # client's terminal is restored in case it was one.
            self._write_reset(b"Paydesk session ended.\r\n")
        elif status != 0:
            self._write_reset(b"Paydesk stopped unexpectedly.\r\n")
        # Killed by a signal: the shell's convention (128 + its number), as ssh shows it.
        self.end(status=status if status >= 0 else 128 - status)

    def _arm_idle(self) -> None:
        self._idle_handle = None
        if self._idle_timeout <= 0 or self._ending is not None:
            return
        loop = asyncio.get_running_loop()
        remaining = self._last_input + self._idle_timeout - loop.time()
        if remaining <= 0:
            log.info("session for %s idle, closing", self._peer)
            self._write_reset(b"Paydesk: session closed after a period without input.\r\n")
            self.end(status=0)
        else:
            self._idle_handle = loop.call_later(remaining, self._arm_idle)

    def _write_reset(self, message: bytes = b"") -> None:
        if self._chan is not None:
            self._chan.write(TERMINAL_RESET + b"\r\n" + message)

    # ending --------------------------------------------------------------------
    def end(self, status: int = 0) -> None:
        """End the session: the app's process group, then the channel and connection."""
        if self._ending is None:
            self._ending = asyncio.get_running_loop().create_task(self._end(status))

    async def _end(self, status: int) -> None:
        for handle in (self._idle_handle, self._start_handle):
            if handle is not None:
                handle.cancel()
        task = self._task
        if task is not None and not task.done():
            if self._process is None:
                # Still starting: let the start finish so that no process is left behind.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._started.wait(), 30)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        try:
            if self._process is not None:
                code = await self._process.terminate()
                status = status or (code if code >= 0 else 128 - code)
        finally:
            if self._launch is not None:
                self._launch.cleanup()
            chan = self._chan
            if chan is not None:
                conn = chan.get_extra_info("connection")
                chan.exit(status & 0xFF)
                # One session per connection: when the app is gone, so is the connection.
                if conn is not None:
                    conn.close()
            log.info("session for %s ended (status %d)", self._peer, status)
            self.ended.set()
            self._on_closed(self)
