"""`paydesk serve-web` works in an office without internet access: the page it serves links
nothing from another site (textual-serve's own page links Google Fonts), and the font it
names is served by the same server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.web.test_serve_web import wait_for_http
from tui.web import offline_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "TMPDIR": str(tmp_path)}
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


async def test_the_page_links_nothing_from_another_site(served) -> None:
    url, server = served
    page = await wait_for_http(url, server)
    assert "fonts.googleapis.com" not in page and "fonts.gstatic.com" not in page
    # Every address the page loads (links, scripts, images, fonts) is on this server.
    loaded = re.findall(r'(?:href|src)="([^"]+)"|url\("?([^")]+)"?\)', page)
    addresses = [a or b for a, b in loaded]
    assert addresses, "the page loads nothing?"
    elsewhere = [a for a in addresses if a.startswith(("http:", "https:", "//"))
                 and not a.startswith(url)]
    assert elsewhere == []
    fonts = [a for a in addresses if a.endswith(".ttf")]
    assert fonts, "the page names no font file of its own"
    async with aiohttp.ClientSession() as http:
        for font in fonts:
            async with http.get(font) as response:
                assert response.status == 200, font
                # A TrueType font file starts with the sfnt version 0x00010000.
                assert (await response.read())[:4] == b"\x00\x01\x00\x00", font


def test_every_web_font_link_is_replaced_once() -> None:
    template = (
        '<head><link rel="stylesheet" href="/static/css/xterm.css" />\n'
        '<link\n  rel="stylesheet"\n  href="https://fonts.googleapis.com/css?family=Roboto%20Mono"\n/>\n'
        '<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin></head>'
    )
    page = offline_page(template)
    assert "googleapis" not in page and "gstatic" not in page
    assert page.count("@font-face") == 2
    assert '<link rel="stylesheet" href="/static/css/xterm.css" />' in page
