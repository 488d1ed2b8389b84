"""The host key is created once (ed25519, mode 0600) and the fingerprint clients see
stays the same across restarts, of the server object and of `paydesk serve-ssh`."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncssh
import pytest

from billing.config import SshSettings
from tests.ssh.conftest import tiny_launcher
from tests.ssh.terminal import connect
from tui.ssh import HostKeyError, fingerprint, load_or_create_host_key, start_server

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_host_key_is_ed25519_and_private_to_its_owner(host_key_path: Path):
    key = load_or_create_host_key(host_key_path)
    assert key.get_algorithm() == "ssh-ed25519"
    assert stat.S_IMODE(host_key_path.stat().st_mode) == 0o600
    public = host_key_path.with_name(host_key_path.name + ".pub").read_bytes()
    assert asyncssh.import_public_key(public).get_fingerprint() == fingerprint(key)


def test_the_same_key_is_loaded_again(host_key_path: Path):
    first = fingerprint(load_or_create_host_key(host_key_path))
    assert fingerprint(load_or_create_host_key(host_key_path)) == first
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", first)


def test_a_key_readable_by_others_is_refused(host_key_path: Path):
    load_or_create_host_key(host_key_path)
    host_key_path.chmod(0o644)
    with pytest.raises(HostKeyError, match="chmod 600"):
        load_or_create_host_key(host_key_path)


def test_servers_starting_together_agree_on_one_key(host_key_path: Path):
    barrier = threading.Barrier(8)

    def start() -> str:
        barrier.wait()
        return fingerprint(load_or_create_host_key(host_key_path))

    with ThreadPoolExecutor(8) as pool:
        assert len(set(pool.map(lambda _: start(), range(8)))) == 1
    assert [p.name for p in host_key_path.parent.iterdir() if p.name.endswith(".tmp")] == []


async def test_clients_see_the_same_fingerprint_after_a_restart(host_key_path: Path, tmp_path: Path):
    seen = []
    for _ in range(2):
        settings = SshSettings(port=0, host_key_path=str(host_key_path))
        service = await start_server(
            settings, load_or_create_host_key(host_key_path), tiny_launcher(tmp_path)
        )
        try:
            async with await connect(service.port) as conn:
                seen.append(conn.get_server_host_key().get_fingerprint("sha256"))
        finally:
            await service.close()
    assert seen[0] == seen[1] == fingerprint(load_or_create_host_key(host_key_path))


def _serve_ssh_once(host_key: Path, home: Path) -> tuple[str, int]:
    """Start `paydesk serve-ssh`, read its banner, stop it; (fingerprint, port)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve-ssh", "--port", "0", "--host-key", str(host_key)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=15)
    text = "".join(banner)
    assert proc.returncode == 0, text + rest
    found = re.search(r"fingerprint: (SHA256:\S+)", text)
    port = re.search(r"port (\d+)", text)
    assert found and port, text
    return found.group(1), int(port.group(1))


def test_serve_ssh_prints_the_same_fingerprint_after_a_restart(host_key_path: Path, tmp_path: Path):
    first, _ = _serve_ssh_once(host_key_path, tmp_path)
    second, _ = _serve_ssh_once(host_key_path, tmp_path)
    assert first == second == fingerprint(load_or_create_host_key(host_key_path))


def test_serve_ssh_refuses_kiosk_mode_without_credentials(tmp_path: Path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "serve-ssh", "--port", "0", "--mode", "kiosk",
         "--host-key", str(tmp_path / "key")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "nobody could sign in" in result.stderr
