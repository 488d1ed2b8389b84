"""`paydesk serve-web`: the demo in a browser, with textual-serve, on loopback.

Each page load starts its own `paydesk demo` process on a throwaway database; the
page talks to it over a websocket and draws it with xterm.js.

The page needs nothing from the internet: textual-serve's page links its font (Roboto Mono)
from Google Fonts, which an office without internet access cannot reach, so the page is
served with the copy of that font that textual-serve ships in its own static files.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import socket
import sys
from collections.abc import Sequence

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

TITLE = "Paydesk demo"
PAGE = "app_index.html"
# Any stylesheet link to Google Fonts in textual-serve's page.
_WEB_FONT_LINK = re.compile(
    r"<link\b[^>]*\bhref=\"https?://fonts\.(?:googleapis|gstatic)\.com(?:/[^\"]*)?\"[^>]*>", re.S)
# The same family, from the font files textual-serve serves under /static/fonts/.
LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        font-style: normal;
        font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
      }
      @font-face {
        font-family: "Roboto Mono";
        font-style: italic;
        font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf")
          format("truetype");
      }
    </style>"""


def offline_page(template: str) -> str:
    """textual-serve's page template with its web-font links replaced by the local font."""
    page, count = _WEB_FONT_LINK.subn(lambda _m: LOCAL_FONT, template, count=1)
    return _WEB_FONT_LINK.sub("", page) if count else page


class OfflineServer(Server):
    """textual-serve's server, whose page loads nothing from another site."""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        template = (self.templates_path / PAGE).read_text(encoding="utf-8")
        page = offline_page(template)
        # The other templates (if a later textual-serve has any) come from its own folder.
        aiohttp_jinja2.setup(app, loader=jinja2.ChoiceLoader([
            jinja2.DictLoader({PAGE: page}), jinja2.FileSystemLoader(self.templates_path)]))
        return app


def demo_command(global_args: Sequence[str] = ()) -> str:
    """The shell command textual-serve runs per browser session."""
    return shlex.join([sys.executable, "-m", "tui.ssh.demo_session", *global_args])


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def build_server(host: str = "127.0.0.1", port: int = 8000,
                 global_args: Sequence[str] = ()) -> Server:
    """A textual-serve server for the demo; `serve()` runs it until Ctrl+C or SIGTERM."""
    return OfflineServer(demo_command(global_args), host=host, port=port, title=TITLE)


def serve_web(host: str, port: int, global_args: Sequence[str] = ()) -> int:
    if not is_loopback(host):
        # textual-serve has no sign-in: anyone who reaches the port gets a session.
        print(
            f"paydesk: serve-web on {host} is reachable from other machines and has no "
            "sign-in; it is meant for a demo on loopback",
            file=sys.stderr,
        )
    server = build_server(host, port, global_args)
    print(f"Paydesk demo in a browser: http://{host}:{port}/", flush=True)
    server.serve()
    return 0
