"""Paydesk over SSH: each connection runs the app in a process of its own on a pty.

The names below are imported on first use: the warm process (`python -m
tui.ssh.zygote`) imports this package too, and its sessions have no use for the SSH
server (asyncssh, cryptography: ~25 MiB and ~0.15 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.ssh.host_key import HostKeyError, fingerprint, load_or_create_host_key
    from tui.ssh.launch import Launch, paydesk_launcher
    from tui.ssh.server import SshService, start_server
    from tui.ssh.warm import WarmProcess

_HOMES = {
    "HostKeyError": "tui.ssh.host_key",
    "fingerprint": "tui.ssh.host_key",
    "load_or_create_host_key": "tui.ssh.host_key",
    "Launch": "tui.ssh.launch",
    "paydesk_launcher": "tui.ssh.launch",
    "SshService": "tui.ssh.server",
    "start_server": "tui.ssh.server",
    "WarmProcess": "tui.ssh.warm",
}

__all__ = [
    "HostKeyError",
    "Launch",
    "SshService",
    "WarmProcess",
    "fingerprint",
    "load_or_create_host_key",
    "paydesk_launcher",
    "start_server",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tui.ssh' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
