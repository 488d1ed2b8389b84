"""The server's side of the warm process (tui.ssh.zygote): start it, ask it for a
session on a new pty, learn that session's exit, start it again if it dies.

A session forked from it starts in a fraction of the time a fresh interpreter takes and
shares the imported code's memory with the other sessions. When the warm process is
not there (still warming up past `ready_timeout`, dead, stopped, given up on), sessions
are started as fresh processes instead: slower, never refused.

Nothing here waits on the warm process without a bound: a warm process that is stopped
or hung (SIGSTOP, a debugger, a page-in storm) can neither keep a session from ending nor
the server from shutting down; it is killed and sessions start afresh meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tui.ssh.launch import Entry
from tui.ssh.pty_process import UNKNOWN_STATUS, PtyProcess, child_environment, set_window_size

log = logging.getLogger("paydesk.ssh")

# A warm process is not started again sooner than this after the previous one started,
# doubled for each one in a row that never became ready (something in its imports is
# broken; fresh processes serve meanwhile).
RESTART_BACKOFF_SECONDS = 10.0
# After this many warm processes in a row that never became ready, no more are started.
MAX_FAILED_STARTS = 4
# How long the warm process has to fork a requested session and the child to report.
PID_TIMEOUT_SECONDS = 10.0
# Once a forked session's process is seen gone, how long its exit report may take.
REPORT_GRACE_SECONDS = 1.0
# Without a pidfd, how often a forked session's pid is looked at.
PID_POLL_SECONDS = 0.5


def process_state(pid: int) -> str | None:
    """The state letter in /proc/PID/stat (R, S, T, Z...); None if there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        # No /proc: existence is all that can be learnt.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    return stat.rsplit(")", 1)[1].split()[0]


def pid_exited(pid: int) -> bool:
    """True once `pid` has ended (a zombie, whose parent has not reaped it, has ended)."""
    return process_state(pid) in (None, "Z", "X")


class ForkedProcess:
    """A session forked by the warm process: its pid, and its exit status as the warm
    process reports it (like asyncio's Process: negative is the ending signal;
    UNKNOWN_STATUS when the process was seen to end without a report)."""

    def __init__(self, pid: int, news: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._news = news
        self._writer = writer
        # The pid itself is watched too: a warm process that dies or hangs never sends
        # the report, and the session's end must still be seen. Without pidfds (Linux
        # before 5.3, seccomp profiles that refuse pidfd_open) the pid is polled.
        self._pidfd: int | None = None
        with contextlib.suppress(OSError, AttributeError):
            self._pidfd = os.pidfd_open(pid)
        self._waiter = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        report = loop.create_task(self._report())
        gone = loop.create_task(self._pid_gone())
        try:
            await asyncio.wait((report, gone), return_when=asyncio.FIRST_COMPLETED)
            if not report.done():
                # The process has ended: a working warm process reports it at once.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(report), REPORT_GRACE_SECONDS)
            code = report.result() if report.done() else None
            if code is None and not gone.done():
                log.warning("warm process gone before session %d ended; watching the pid",
                            self.pid)
                await gone
            if code is None:
                log.warning("session %d ended without an exit report; status unknown", self.pid)
            self.returncode = UNKNOWN_STATUS if code is None else code
        finally:
            report.cancel()
            gone.cancel()
            self._close()

    async def _report(self) -> int | None:
        """The status the warm process reports; None if it goes before reporting."""
        try:
            line = await self._news.readline()
        except (OSError, asyncio.IncompleteReadError):
            return None
        if not line.startswith(b"exit "):
            return None
        try:
            return int(line.split()[1])
        except (IndexError, ValueError):
            return None

    async def _pid_gone(self) -> None:
        if self._pidfd is None:
            while not pid_exited(self.pid):
                await asyncio.sleep(PID_POLL_SECONDS)
            return
        loop = asyncio.get_running_loop()
        gone = asyncio.Event()
        loop.add_reader(self._pidfd, gone.set)  # readable once the process has ended
        try:
            await gone.wait()
        finally:
            loop.remove_reader(self._pidfd)

    def _close(self) -> None:
        self._writer.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    async def wait(self) -> int:
        await asyncio.shield(self._waiter)
        assert self.returncode is not None
        return self.returncode


class WarmProcess:
    """One warm process for a server's sessions, importing `preload` before it forks."""

    def __init__(self, preload: Sequence[str], *, ready_timeout: float = 60.0) -> None:
        self.preload = list(preload)
        self.ready_timeout = ready_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._ready: asyncio.Task[bool] | None = None
        self._started_at = 0.0
        # The current process failed (not ready in time, reported it cannot fork, or
        # did not fork a session in time): it has been killed, sessions start afresh.
        self._failed = False
        self._was_ready = False
        self._failures = 0  # processes in a row that never became ready
        self._gave_up = False
        # Held only to restart: sessions wait for readiness outside it.
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        """Start warming up (returns at once; sessions wait for it as needed)."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # The warm process's environment is what its sessions' interpreters start
            # with (each session then gets its own); never the client's.
            env = child_environment(os.environ, "", {})
            env.pop("TERM", None)
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tui.ssh.zygote", str(theirs.fileno()),
                stdin=asyncio.subprocess.DEVNULL, stdout=2,
                pass_fds=(theirs.fileno(),), env=env, start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        # What to import goes over the socket: a command line of 150 module names would
        # be every session's too (they are forks of it) in `ps`.
        ours.sendall(json.dumps({"preload": self.preload}).encode())
        ours.setblocking(False)
        self._control = ours
        self._started_at = loop.time()
        self._failed = False
        self._was_ready = False
        self._ready = loop.create_task(self._await_ready(ours))

    async def _await_ready(self, control: socket.socket) -> bool:
        loop = asyncio.get_running_loop()
        try:
            data = await loop.sock_recv(control, 1 << 16)
            report = json.loads(data) if data else {"ready": False, "problems": ["it exited"]}
        except (OSError, ValueError) as exc:
            report = {"ready": False, "problems": [str(exc)]}
        for problem in report.get("problems", ()):
            log.warning("warm process: %s", problem)
        if report.get("ready"):
            log.info("warm process %s ready", self.pid)
            self._was_ready = True
            self._failures = 0
        return bool(report.get("ready"))

    async def ready(self) -> bool:
        """Wait until the warm process has imported everything (at most until
        `ready_timeout` after it started); False if it cannot fork sessions."""
        return await self._usable() is not None

    def _gone(self) -> bool:
        process = self._process
        return process is not None and (self._failed or process.returncode is not None)

    async def _restart_if_gone(self) -> None:
        async with self._lock:
            if not self._gone() or self._gave_up:
                return
            assert self._process is not None
            failures = self._failures + (0 if self._was_ready else 1)
            if failures >= MAX_FAILED_STARTS:
                self._gave_up = True
                log.error("warm process never became ready %d times in a row; sessions "
                          "start as fresh processes from now on", failures)
                return
            backoff = RESTART_BACKOFF_SECONDS * 2 ** failures
            if asyncio.get_running_loop().time() - self._started_at < backoff:
                return
            log.warning("warm process %s ended (%s); starting another", self._process.pid,
                        "failed" if self._failed else self._process.returncode)
            self._failures = failures
            await self.close()
            await self.start()

    async def _usable(self) -> socket.socket | None:
        """The control socket of a ready warm process, starting one again if it died.

        Every session waits until the same deadline (the process's start plus
        `ready_timeout`), not a timeout of its own one after another."""
        await self._restart_if_gone()
        process, ready, control = self._process, self._ready, self._control
        if process is None or ready is None or control is None or self._gone():
            return None
        if not ready.done():
            remaining = self._started_at + self.ready_timeout - asyncio.get_running_loop().time()
            try:
                await asyncio.wait_for(asyncio.shield(ready), max(remaining, 0.0))
            except TimeoutError:
                self._give_up(process, f"not ready within {self.ready_timeout:g}s")
                return None
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if ready.cancelled() and current is not None and not current.cancelling():
                    return None  # the warm process was closed meanwhile
                raise
        if ready.cancelled():
            return None
        if not ready.result():
            self._give_up(process, "it cannot fork sessions")
            return None
        return control if process is self._process and not self._failed else None

    def _give_up(self, process: asyncio.subprocess.Process, reason: str) -> None:
        """Kill `process` (if it is still the current one) and mark it failed: sessions
        go straight to fresh processes until it is restarted."""
        if process is not self._process or self._failed:
            return
        self._failed = True
        if process.returncode is None:
            log.warning("warm process %d killed: %s; sessions start afresh", process.pid,
                        reason)
            # Its group: the warm process and any child it forked that had not yet
            # made a session of its own. SIGKILL ends a stopped process too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    async def spawn(self, entry: Entry, *, env: Mapping[str, str], columns: int, rows: int,
                    on_output: Callable[[bytes], None], cwd: str | None = None
                    ) -> PtyProcess | None:
        """A session forked from the warm process on a new pty, or None when the warm
        process cannot fork one now (the caller starts a fresh process instead)."""
        control = await self._usable()
        process = self._process
        if control is None or process is None:
            return None
        master = slave = -1
        ours = theirs = None
        writer: asyncio.StreamWriter | None = None
        try:
            master, slave = os.openpty()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            set_window_size(slave, columns, rows)
            request = json.dumps({"module": entry.module, "args": list(entry.args),
                                  "env": dict(env), "cwd": cwd}).encode()
            # Non-blocking: a stuck warm process makes this fail, not the server wait.
            socket.send_fds(control, [request], [slave, theirs.fileno()])
            os.close(slave)
            slave = -1
            theirs.close()
            theirs = None
            news, writer = await asyncio.open_unix_connection(sock=ours)
            # The child itself says its pid, once it leads a session and process group
            # of its own on the pty: from then on, ending that group ends the session.
            try:
                line = await asyncio.wait_for(news.readline(), PID_TIMEOUT_SECONDS)
            except TimeoutError:
                self._give_up(process, f"no session forked within {PID_TIMEOUT_SECONDS:g}s")
                raise
            if not line.startswith(b"pid "):
                raise OSError(f"warm process answered {line[:40]!r}")
            forked = ForkedProcess(int(line.split()[1]), news, writer)
            return PtyProcess(forked, master, on_output)
        except BaseException as exc:
            # Cancelled included: nothing of this session may be left open.
            for fd in (master, slave):
                if fd >= 0:
                    os.close(fd)
            if theirs is not None:
                theirs.close()
            if writer is not None:
                writer.close()
            elif ours is not None:
                ours.close()
            if isinstance(exc, OSError | ValueError | IndexError):
                log.warning("warm process could not start a session: %s", exc)
                return None
            raise

    async def close(self) -> None:
        """End the warm process (sessions it forked are the server's to end)."""
        if self._ready is not None:
            self._ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._ready
            self._ready = None
        if self._control is not None:
            self._control.close()  # its end of the socket: the warm process exits
            self._control = None
        process = self._process
        if process is None or process.returncode is not None:
            return
        # A stopped or failed one cannot leave by itself.
        grace = 0.0 if self._failed or process_state(process.pid) == "T" else 5.0
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5)
