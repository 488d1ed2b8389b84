"""Paydesk over SSH: each connection runs the app in a process of its own on a pty."""

from tui.ssh.host_key import HostKeyError, fingerprint, load_or_create_host_key
from tui.ssh.launch import Launch, paydesk_launcher
from tui.ssh.server import SshService, start_server

__all__ = [
    "HostKeyError",
    "Launch",
    "SshService",
    "fingerprint",
    "load_or_create_host_key",
    "paydesk_launcher",
    "start_server",
]
