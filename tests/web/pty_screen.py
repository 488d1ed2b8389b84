"""`paydesk` on a pseudo-terminal of 80x24, as a person's terminal: what it drew is kept
byte for byte, and the screen it leaves is rebuilt from those bytes (where Textual placed
each line), so a test reads the link and the QR code off the screen as a person would."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

from tests.ssh.terminal import visible_text

COLUMNS, ROWS = 80, 24
_TOKENS = re.compile(  # tests/ssh/terminal.py's escape sequences, the CSI ones parsed
    r"\x1b\[(?P<csi>[0-?]*)[ -/]*(?P<final>[@-~])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[P_^][^\x1b]*\x1b\\"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b[()][0-9A-Za-z]"
    r"|(?P<char>[^\x1b])", re.S)


def screen_lines(stream: bytes) -> list[str]:
    """The 80x24 screen the stream leaves drawn: text and cursor moves (Textual places
    every line it draws), clears; colours and modes do not change where text lands."""
    grid = [[" "] * COLUMNS for _ in range(ROWS)]
    row = col = 0
    for token in _TOKENS.finditer(stream.decode("utf-8", "replace")):
        if token["final"] in ("H", "f"):
            numbers = [int(n) if n else 1 for n in (token["csi"] or "").split(";")]
            row, col = (numbers + [1, 1])[0] - 1, (numbers[1:] + [1])[0] - 1
        elif token["final"] == "J" and token["csi"] in ("2", "3"):
            grid = [[" "] * COLUMNS for _ in range(ROWS)]
        elif (char := token["char"]) is not None:
            if char == "\n":
                row, col = row + 1, 0
            elif char == "\r":
                col = 0
            elif char >= " " and 0 <= row < ROWS and 0 <= col < COLUMNS:
                grid[row][col] = char
                col += 1
    return ["".join(line) for line in grid]


def link_on_screen(lines: list[str]) -> str | None:
    """The link as drawn, wrapped over the lines below where it starts."""
    for number, line in enumerate(lines):
        found = re.search(r"http://127\.0\.0\.1:\d+/pay/\S+", line)
        if found:
            link = found.group(0)
            for below in lines[number + 1:]:
                rest = below[found.start():].split(" ", 1)[0]
                if not rest or not re.fullmatch(r"\w+", rest):
                    break
                link += rest
            return link
    return None


def qr_on_screen(lines: list[str]) -> list[str]:
    """The lines of the QR code drawn on the left (the link's column and beyond cut off)."""
    drawn = [line for line in lines if "█" in line or "▀" in line or "▄" in line]
    start = min(len(line) - len(line.lstrip(" ")) for line in drawn)
    width = max(len(line[start:].split("  ", 1)[0]) for line in drawn)
    return [line[start:start + width].ljust(width) for line in drawn]


class Terminal:
    """`paydesk` on a pseudo-terminal of 80x24, as a person's terminal: it keeps every byte
    the program wrote and types keys."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.stream = bytearray()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                     env=env, start_new_session=True, close_fds=True)
        os.close(slave)
        self._master = master

    def read(self, wait: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # the program ended
            return False
        self.stream += chunk
        return bool(chunk)

    def text(self, since: int = 0) -> str:
        return visible_text(bytes(self.stream[since:]))

    async def wait_for(self, pattern: str | re.Pattern[str], since: int = 0,
                       timeout: float = 20.0) -> str:
        """Wait until the program has drawn `pattern` (after `since`); returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            drawn = self.text(since)
            found = (pattern.search(drawn) if isinstance(pattern, re.Pattern)
                     else (pattern if pattern in drawn else None))
            if found:
                return found if isinstance(found, str) else found.group(0)
            if time.monotonic() > deadline or self.proc.poll() is not None:
                screen = "\n".join(screen_lines(bytes(self.stream)))
                raise AssertionError(f"never drawn: {pattern!r}; the screen:\n{screen}")
            await asyncio.to_thread(self.read, 0.1)

    def press(self, *keys: str) -> int:
        """Type `keys` (text or escape sequences); returns the stream position before."""
        mark = len(self.stream)
        for key in keys:
            os.write(self._master, key.encode())
        return mark

    async def wait_for_output(self, since: int, timeout: float = 20.0) -> None:
        """Wait until the program has written anything after `since` (a key's repaint)."""
        deadline = time.monotonic() + timeout
        while len(self.stream) <= since:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("nothing drawn after the key")
            await asyncio.to_thread(self.read, 0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        while self.read(0):
            pass
        os.close(self._master)
