"""`python -m tui.ssh.zygote FD`: the warm process SSH sessions are forked from.

It imports the modules named in the first message on the unix socket FD once (Textual,
the screens, billing, the gateway: what every session would otherwise import afresh,
~0.5 s and ~40 MiB each), freezes those objects out of the garbage collector's reach so
that forked sessions keep sharing their pages, then waits on that socket for requests. Each request brings a session's pty slave and a
socket for that session's news; the warm process forks one child per request. The
child first makes itself a session leader on the pty (so that its process group exists
before anyone may signal it), then says its pid on the news socket; the warm process
later reports the child's exit status there.

It never starts a thread or an event loop (forking either is unsafe), and the server
that started it is the only one who may ask: the socket is a socketpair end it passed.
The child becomes a session leader on its pty (SIGHUP, SIGWINCH and the group kill work
as for a started process), takes the session's environment and runs `MODULE.main(args)`.

Every child shares the warm process's hash() seed (str and bytes hashes are randomised
once per interpreter, at its start; the imported objects' cached hashes depend on it,
so a child cannot take another). A seed is still random per warm process, that is per
server start or restart, and is not visible to clients: reading it takes reading a
session's memory. What a session hashes comes from one signed-in person's typing into
fields of bounded length; a session slowed by colliding keys would slow only itself.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import termios
import threading
import traceback
from collections.abc import Sequence

# A request's JSON (argv-like lists and an environment) stays far below this.
MAX_REQUEST = 1 << 20
# Kept referenced in a forked child: the warm process's own stdio objects close fds 0-2
# when collected, which are the child's pty by then.
_KEPT: list[object] = []


def preload(modules: Sequence[str]) -> list[str]:
    """Import `modules`; returns the problems (a module that fails here fails in the
    session as well, where its user sees it)."""
    problems = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - reported to the server, not fatal
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return problems


def live_threads() -> int:
    """Threads of this process, native ones included (fork keeps only the caller)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class WarmServer:
    """The fork loop: requests on `control`, exits reported on each session's socket."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.news: dict[int, socket.socket] = {}  # child pid -> its session's news socket
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self.selector = selectors.DefaultSelector()

    def run(self) -> int:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self._wake_w)
        self.selector.register(self.control, selectors.EVENT_READ, "control")
        self.selector.register(self._wake_r, selectors.EVENT_READ, "child")
        while True:
            for key, _ in self.selector.select():
                if key.data == "child":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    self.reap()
                elif not self.request():
                    return 0

    def request(self) -> bool:
        """Serve one request; False when the server has gone (end of the socket)."""
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.control, MAX_REQUEST, 2)
        except InterruptedError:
            return True
        if not data:
            return False
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return True
        slave, news_fd = fds
        news = socket.socket(fileno=news_fd)
        try:
            spec = json.loads(data)
            sys.stdout.flush()
            sys.stderr.flush()
            gc.freeze()  # what this loop allocated since, too: children never collect it
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; never returns
                self._become_session(slave, news, spec)
            # The child says its pid itself, once it leads its own process group.
            self.news[pid] = news
        except Exception as exc:  # noqa: BLE001 - this session fails, the others go on
            with contextlib.suppress(OSError):
                news.sendall(f"error {type(exc).__name__}\n".encode())
            news.close()
        finally:
            os.close(slave)
        return True

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            news = self.news.pop(pid, None)
            if news is not None:
                with contextlib.suppress(OSError):
                    news.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                news.close()

    # the child ------------------------------------------------------------------
    def _become_session(self, slave: int, news: socket.socket, spec: dict) -> None:  # pragma: no cover
        code = 1
        try:
            # First of all: the server kills the session's process group as soon as
            # it knows the pid, so the group must exist by then.
            _lead_session(slave)
            news.sendall(f"pid {os.getpid()}\n".encode())
            self._leave_warm_process(news)
            name_process("paydesk-ssh")
            _take_terminal(slave)
            os.environ.clear()
            os.environ.update(spec["env"])
            if spec.get("cwd"):
                os.chdir(spec["cwd"])
            gc.enable()
            code = _run_entry(spec["module"], spec["args"])
        except BaseException:  # noqa: BLE001 - whatever happens, the child must not return
            with contextlib.suppress(Exception):
                traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _leave_warm_process(self, news: socket.socket) -> None:  # pragma: no cover
        """Drop what belongs to the warm process: its signal set-up, its sockets (other
        sessions' news among them) and its wake-up pipe."""
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.selector.close()
        self.control.close()
        news.close()
        for other in self.news.values():
            other.close()
        self.news.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)


def _lead_session(slave: int) -> None:  # pragma: no cover - runs in the child
    """A session (and process group) of its own whose controlling terminal is `slave`."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)


def _take_terminal(slave: int) -> None:  # pragma: no cover - runs in the child
    """`slave` as fds 0, 1 and 2, with stdio objects on them."""
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    # New stdio objects, as the interpreter makes them for a terminal (line-buffered);
    # Textual writes to sys.__stderr__ and reads sys.__stdin__'s fd.
    _KEPT.extend((sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__,
                  sys.__stderr__))
    old_out = sys.__stdout__ or sys.stdout
    encoding = getattr(old_out, "encoding", None) or "utf-8"
    sys.stdin = sys.__stdin__ = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", buffering=1, encoding=encoding,  # noqa: SIM115
                                       errors=getattr(old_out, "errors", None), closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, encoding=encoding,  # noqa: SIM115
                                       errors="backslashreplace", closefd=False)


def _run_entry(module: str, args: Sequence[str]) -> int:  # pragma: no cover - in the child
    """`module.main(args)` with the exit handling of `python -m module args`."""
    entry = importlib.import_module(module)
    sys.argv = [getattr(entry, "__file__", module) or module, *args]
    try:
        result = entry.main(list(args))
        code = 0 if result is None else int(result)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - printed, as the interpreter would
        traceback.print_exc()
        code = 1
    # What an interpreter does at its end: wait for non-daemon threads, run atexit.
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        with contextlib.suppress(Exception):
            shutdown()
    atexit._run_exitfuncs()
    return code


def name_process(name: str) -> None:
    """What `top` and `ps -o comm` show (the command line stays the warm process's)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    control = socket.socket(fileno=int(args[0]))
    name_process("paydesk-warm")
    first = control.recv(MAX_REQUEST)
    if not first:
        return 0
    # Collections during the imports would leave freed holes in pages the children
    # then write to; nothing collected here is garbage worth reclaiming.
    gc.disable()
    problems = preload(json.loads(first)["preload"])
    gc.collect()
    gc.freeze()
    threads = live_threads()
    if threads != 1:
        # Forking would copy a lock some other thread holds; refuse to serve.
        control.sendall(json.dumps({"ready": False, "problems": [
            *problems, f"{threads} threads after the imports"]}).encode())
        return 1
    control.sendall(json.dumps({"ready": True, "problems": problems}).encode())
    # Ctrl-C at the server's terminal is the server's to handle: it then closes our socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return WarmServer(control).run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
