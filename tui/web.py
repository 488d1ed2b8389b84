"""`paydesk serve-web`: the demo in a browser, with textual-serve, on loopback.

Each page load starts its own `paydesk demo` process on a throwaway database; the
page talks to it over a websocket and draws it with xterm.js.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence

from textual_serve.server import Server

TITLE = "Paydesk demo"


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
    return Server(demo_command(global_args), host=host, port=port, title=TITLE)


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
