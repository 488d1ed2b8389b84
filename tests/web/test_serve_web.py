"""`paydesk serve-web` in a real browser: headless Chromium loads the page from the
loopback server, textual-serve starts `paydesk demo` for it, and the welcome screen
arrives at the page's terminal and is drawn."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from tests.ssh.terminal import visible_text
from tests.web.chromium import Chromium, chromium_path

ROOT = Path(__file__).resolve().parents[2]
WELCOME = "Welcome to Harbor & Vale LLP"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Every descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@pytest.fixture
def chromium() -> str:
    found = chromium_path()
    if found is None:
        pytest.fail("Chromium is missing: run scripts/ensure-chromium.sh (make test does)")
    return found


@pytest.fixture
def serve_web(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "TMPDIR": str(tmp_path),
           "PAYDESK_OUTBOX_DIR": str(tmp_path / "outbox")}
    log = (tmp_path / "serve-web.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve-web", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}/", proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


async def wait_for_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            assert proc.poll() is None, "serve-web exited"
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return await response.text()
            except aiohttp.ClientError:
                pass
            assert loop.time() < deadline, f"{url} did not answer"
            await asyncio.sleep(0.1)


async def test_the_browser_page_shows_the_welcome_screen(serve_web, chromium, tmp_path: Path):
    url, server = serve_web
    page = await wait_for_http(url, server)
    assert "Paydesk demo" in page and "/ws" in page
    assert children_of(server.pid) == [], "an app started before any browser asked"

    async with Chromium(chromium, tmp_path / "profile") as browser:
        await browser.goto(url)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 40
        drawn = ""
        while WELCOME not in drawn:
            assert loop.time() < deadline, f"the welcome screen never reached the page: {drawn[-800:]!r}"
            await asyncio.sleep(0.25)
            drawn = visible_text((await browser.evaluate("window.__terminalBytes") or "").encode())
        # The page's own script saw terminal output and lifted the intro dialog off it.
        assert await browser.evaluate("document.body.classList.contains('-first-byte')")
        assert await browser.evaluate("document.querySelectorAll('.xterm-screen canvas').length") > 0
        # The app the page talks to is the server's child: started for this page.
        assert children_of(server.pid), "no app process was started for the page"

        await asyncio.sleep(0.5)  # the frame that carried the text gets painted
        shot = Image.open(io.BytesIO(await browser.screenshot())).convert("RGB")
        terminal = shot.crop((0, 0, shot.width, shot.height // 2))
        if keep := os.environ.get("PAYDESK_TEST_SCREENSHOT"):
            shot.save(keep, format="PNG")  # to look at what the browser drew
        colours = terminal.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 8, "the terminal area is blank"
        apps = children_of(server.pid)
        assert list(tmp_path.glob("paydesk-demo-*")), "the page's demo has no database of its own"

    # The browser has gone: its app ends and its throwaway database is removed.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in apps) or list(tmp_path.glob("paydesk-demo-*")):
        assert loop.time() < deadline, "the page's app outlived the page"
        await asyncio.sleep(0.2)
