"""One app process on its own pseudo-terminal, in its own session and process group.

The pty is the child's controlling terminal, so a window-size change (TIOCSWINSZ on
the master) reaches the app as SIGWINCH from the kernel, and ending the session can
end every process the app started (the whole process group).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import struct
import termios
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

log = logging.getLogger("paydesk.ssh")

# Child variables that would override what the pty says, or leak the server's own.
_DROPPED_ENV = ("COLUMNS", "LINES", "ROWS", "SSH_AUTH_SOCK", "TEXTUAL_DRIVER", "TERM")
# The exit status of an app whose end was seen but whose status could not be learnt (a
# forked session whose warm process died or hung): not 0, which would claim a clean end.
UNKNOWN_STATUS = 255
# After SIGKILL a process is gone at once unless the kernel holds it (a hung disk or
# mount); the session is then given up on rather than kept open for ever.
KILL_WAIT_SECONDS = 5.0


def set_window_size(fd: int, columns: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
    """Set a terminal's size (rows, columns, pixels) as the ioctl expects it."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, xpixels, ypixels))


def get_window_size(fd: int) -> tuple[int, int]:
    """(columns, rows) of a terminal."""
    rows, columns, _, _ = struct.unpack(
        "HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    )
    return columns, rows


def child_environment(base: Mapping[str, str], term: str, extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in _DROPPED_ENV}
    env.update(extra)
    env["TERM"] = term or "xterm-256color"
    return env


def _make_controlling_tty() -> None:  # pragma: no cover - runs in the child
    # Runs after setsid() (start_new_session) and after stdin became the pty slave.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # A server started under nohup ignores hang-ups, and children inherit that: a session's
    # app must still end on the SIGHUP sent when its connection closes.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class AppProcess(Protocol):
    """What a session needs of its app's process: a started one (asyncio's) or one
    forked by the warm process (tui.ssh.warm)."""

    pid: int
    returncode: int | None

    async def wait(self) -> int: ...


class PtyProcess:
    """A started process whose stdin/stdout/stderr are a pty slave.

    Output is handed to `on_output` as it arrives; `on_output_paused` lets the caller
    stop reading when its client cannot keep up (the app then blocks on its own pty,
    and only that session slows down).
    """

    def __init__(self, process: AppProcess, master_fd: int,
                 on_output: Callable[[bytes], None]) -> None:
        self.process = process
        self.master_fd = master_fd
        self._on_output = on_output
        self._loop = asyncio.get_running_loop()
        self._output_closed = asyncio.Event()
        self._pending_input = bytearray()
        self._writer_added = False
        self._reading = False
        self._closed = False
        os.set_blocking(master_fd, False)
        self.resume_output()

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(cls, argv: Sequence[str], *, env: Mapping[str, str], columns: int,
                    rows: int, on_output: Callable[[bytes], None],
                    cwd: str | None = None) -> PtyProcess:
        """Start `argv` on a new pty of `columns` x `rows`."""
        master, slave = os.openpty()
        try:
            set_window_size(slave, columns, rows)
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave, env=dict(env), cwd=cwd,
                start_new_session=True, preexec_fn=_make_controlling_tty,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            # Only the child holds the slave: when it (and its children) exit, reading
            # the master reports end of output.
            os.close(slave)
        return cls(process, master, on_output)

    # output ------------------------------------------------------------------
    def pause_output(self) -> None:
        if self._reading:
            self._loop.remove_reader(self.master_fd)
            self._reading = False

    def resume_output(self) -> None:
        if not self._reading and not self._closed and not self._output_closed.is_set():
            self._loop.add_reader(self.master_fd, self._read_ready)
            self._reading = True

    def _read_ready(self) -> None:
        try:
            data = os.read(self.master_fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every holder of the slave side has gone
            data = b""
        if not data:
            self.pause_output()
            self._output_closed.set()
            return
        self._on_output(data)

    async def wait_output_closed(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._output_closed.wait(), timeout)
        return self._output_closed.is_set()

    # input -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Queue keys for the app; never blocks the event loop."""
        if self._closed:
            return
        self._pending_input += data
        self._flush_input()

    @property
    def pending_input(self) -> int:
        return len(self._pending_input)

    def _flush_input(self) -> None:
        while self._pending_input:
            try:
                written = os.write(self.master_fd, self._pending_input)
            except BlockingIOError:
                break
            except OSError:
                self._pending_input.clear()
                break
            del self._pending_input[:written]
        want_writer = bool(self._pending_input) and not self._closed
        if want_writer and not self._writer_added:
            self._loop.add_writer(self.master_fd, self._flush_input)
            self._writer_added = True
        elif not want_writer and self._writer_added:
            self._loop.remove_writer(self.master_fd)
            self._writer_added = False

    # size --------------------------------------------------------------------
    def resize(self, columns: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
        """Follow the client's window; the kernel signals SIGWINCH to the app."""
        if not self._closed and columns > 0 and rows > 0:
            set_window_size(self.master_fd, columns, rows, xpixels, ypixels)

    # ending ------------------------------------------------------------------
    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            # No such group (yet): the app itself still gets the signal.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.process.pid, sig)
        except PermissionError:
            pass

    async def terminate(self, grace: float = 2.0) -> int:
        """End the process group (SIGHUP, then SIGKILL after `grace`) and reap the app.

        Returns its exit status (negative: the signal that ended it).
        """
        if self.process.returncode is None:
            self._signal_group(signal.SIGHUP)
            self._signal_group(signal.SIGCONT)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self._signal_group(signal.SIGKILL)
                try:
                    await asyncio.wait_for(self.process.wait(), KILL_WAIT_SECONDS)
                except TimeoutError:
                    log.error("app process %d outlived SIGKILL; its session is closed",
                              self.process.pid)
        # Anything the app left behind in its group goes too.
        self._signal_group(signal.SIGKILL)
        self.close()
        return self.process.returncode if self.process.returncode is not None else UNKNOWN_STATUS

    def close(self) -> None:
        if self._closed:
            return
        self.pause_output()
        if self._writer_added:
            self._loop.remove_writer(self.master_fd)
            self._writer_added = False
        self._closed = True
        os.close(self.master_fd)
