"""Whether the terminal Paydesk draws on is still there.

A terminal window closed, or an SSH connection dropped, normally ends the app with a
hang-up signal. When that signal does not reach it (Paydesk started by a program that holds
the terminal, such as `make demo`, or by one that ignores hang-ups), the app would go on
drawing for nobody and spin on a terminal that answers every read with an error. The app
asks now and then; a terminal that has hung up answers EIO.
"""

from __future__ import annotations

import errno
import sys
import termios

# How often the app asks, in seconds.
CHECK_SECONDS = 1.0


def watched_terminal() -> int | None:
    """The file descriptor of the terminal the app reads its keys from, or None when it
    does not read them from a terminal (a browser, a test)."""
    stream = sys.__stdin__
    try:
        fd = stream.fileno() if stream is not None else -1
    except (OSError, ValueError):
        return None
    return fd if fd >= 0 and _is_terminal(fd) else None


def _is_terminal(fd: int) -> bool:
    try:
        termios.tcgetattr(fd)
    except termios.error:
        return False
    return True


def hung_up(fd: int) -> bool:
    """Whether the terminal on `fd` has hung up (its window or connection is gone)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] in (errno.EIO, errno.ENXIO, errno.EBADF)
    return False
