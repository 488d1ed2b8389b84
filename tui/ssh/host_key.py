"""The SSH server's host key: kept on disk so clients see the same fingerprint across
restarts (a new key would make every client warn of a man in the middle)."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

import asyncssh

from billing.config import default_data_dir

KEY_FILE_NAME = "ssh_host_ed25519_key"


class HostKeyError(RuntimeError):
    """The host key file cannot be used; the message says what to do."""


def default_host_key_path() -> Path:
    return default_data_dir() / KEY_FILE_NAME


def fingerprint(key: asyncssh.SSHKey) -> str:
    """The key's SHA256 fingerprint as OpenSSH shows it (``SHA256:...``)."""
    return key.get_fingerprint("sha256")


def load_or_create_host_key(path: str | os.PathLike[str] | None = None) -> asyncssh.SSHKey:
    """The private host key at `path` (default under the data directory).

    A missing key is created: ed25519, file mode 0600, with the public half beside it
    as ``.pub``. An existing key readable by anyone but its owner is refused, as sshd
    does, rather than silently trusted.
    """
    key_path = Path(path) if path is not None else default_host_key_path()
    if not key_path.exists():
        _create(key_path)
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o077:
        raise HostKeyError(
            f"host key {key_path} can be read by others (mode {mode:o}); "
            f"run: chmod 600 {key_path}"
        )
    try:
        return asyncssh.read_private_key(key_path)
    except (OSError, asyncssh.KeyImportError) as exc:
        raise HostKeyError(f"host key {key_path} cannot be read: {exc}") from None


def _create(key_path: Path) -> None:
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="paydesk host key")
    # Written under a temporary name, then hard-linked into place: two servers starting
    # at once cannot each install a different key; the second one loads the first's.
    tmp = key_path.with_name(f".{key_path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask says
        os.write(fd, key.export_private_key())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, key_path)
    except FileExistsError:
        return
    finally:
        tmp.unlink()
    with contextlib.suppress(OSError):
        pub = key_path.with_name(key_path.name + ".pub")
        pub.write_bytes(key.export_public_key())
