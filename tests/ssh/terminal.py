"""An SSH client with a pseudo-terminal, as a person's terminal would be: it keeps what
the server drew and types keys one at a time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

import asyncssh

# CSI, OSC, DCS/APC and two-byte escape sequences; what is left is the drawn text.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[P_^][^\x1b]*\x1b\\"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b[()][0-9A-Za-z]"
)


def visible_text(stream: bytes) -> str:
    """The text in a terminal stream, escape sequences removed."""
    return _ESCAPES.sub("", stream.decode("utf-8", "replace"))


class Screen(asyncssh.SSHClientSession[bytes]):
    """Collects the server's output; `wait_for` until some text has been drawn."""

    def __init__(self) -> None:
        self.stream = bytearray()
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self.exit_status: int | None = None

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.stream += data
        self._changed.set()

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        self._changed.set()

    def mark(self) -> int:
        """A position in the stream, to wait for text drawn after it."""
        return len(self.stream)

    def text(self, since: int = 0) -> str:
        return visible_text(bytes(self.stream[since:]))

    async def wait_for(self, text: str, timeout: float = 20.0, since: int = 0) -> str:
        """Wait until `text` has been drawn (after `since`); returns the drawn text."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in (drawn := self.text(since)):
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed.is_set():
                tail = drawn[-1500:]
                raise AssertionError(f"{text!r} was not drawn within {timeout}s; last drawn: {tail!r}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
        return drawn


async def connect(port: int, username: str = "demo", **options: Any) -> asyncssh.SSHClientConnection:
    """A client connection to the test server (its host key is not checked: tests
    compare fingerprints explicitly where that matters)."""
    options.setdefault("known_hosts", None)
    options.setdefault("client_keys", None)
    options.setdefault("agent_path", None)
    options.setdefault("password", None)
    options.setdefault("preferred_auth", "none,password,publickey")
    return await asyncssh.connect(
        "127.0.0.1", port, username=username, encoding=None, **options
    )


async def open_terminal(conn: asyncssh.SSHClientConnection, columns: int = 100, rows: int = 30,
                        term: str = "xterm-256color") -> tuple[asyncssh.SSHClientChannel[bytes], Screen]:
    """A shell session with a pty of `columns` x `rows`, as `ssh -t` opens one."""
    chan, screen = await conn.create_session(
        Screen, term_type=term, term_size=(columns, rows), encoding=None
    )
    return chan, screen


async def type_keys(chan: asyncssh.SSHClientChannel[bytes], keys: str | Iterable[str],
                    pause: float = 0.05) -> None:
    """Type like a person: one key at a time (Textual can reorder keys sent in a burst).

    A string is typed character by character; a list gives one key per item, so an
    escape sequence such as F3 (``"\\x1bOR"``) arrives whole, as a terminal sends it.
    """
    for key in keys:
        chan.write(key.encode("utf-8"))
        await asyncio.sleep(pause)
