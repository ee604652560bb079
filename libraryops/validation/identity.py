"""The lockout guard that proves the identity: the key the engines log in with stays authorised.

The accounts role installs *exactly* the inventory's keys for each management account
(``authorized_key exclusive``). If the account the engines connect as (``ansible_user``) would
no longer hold the key they connect with, the run succeeds and the next one fails with
"Permission denied (publickey)" on every host. So before any host is contacted, for every host,
the connecting identity must be among that account's keys in ``accounts__management_users``.

The connecting identity is what ssh(1) would offer, as ssh_config(5) describes it:

- ``ansible_ssh_private_key_file`` (or ``ansible_private_key_file``) when the inventory sets it
  (the lab, a CI secret written to a file): its public half, from ``<file>.pub`` or else
  ``ssh-keygen -y``;
- otherwise the keys of the operator's agent (``ssh-add -L``, when ``SSH_AUTH_SOCK`` is set) and
  the default identity files ``~/.ssh/id_{rsa,ecdsa,ecdsa_sk,ed25519,ed25519_sk}.pub``; ssh
  offers each in turn, so one authorised key is enough.

Connecting as root needs no proof (the role never touches root's keys). A documentation site
is never contacted, so it is not checked. When no identity can be found at all, the result is a
warning: the guard cannot prove the next login, and says so.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from libraryops import paths
from libraryops.validation.base import Problem, Site, display_path
from libraryops.validation.values import key_blob

#: ssh_config(5) IdentityFile: the files ssh tries when none is configured (OpenSSH 9).
DEFAULT_IDENTITY_FILES = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk")
#: Host variables naming the private key Ansible's ssh connection uses (Ansible's ssh plugin).
KEY_FILE_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")
ACCOUNTS_VAR = "accounts__management_users"


def fingerprint(blob: bytes) -> str:
    """The SHA256 fingerprint of a key as ``ssh-keygen -l`` prints it: ``SHA256:`` and the
    unpadded base64 of the SHA-256 of the key data (ssh-keygen(1), ``-E sha256``)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _lines(text: str) -> list[bytes]:
    return [blob for blob in map(key_blob, text.splitlines()) if blob]


@functools.lru_cache(maxsize=32)
def _key_file_identity(private: str) -> tuple[bytes, ...]:
    """The public half of a private key file: ``<file>.pub``, else ``ssh-keygen -y`` (with an
    empty passphrase: an encrypted key without its .pub yields nothing)."""
    public = Path(f"{private}.pub")
    try:
        return tuple(_lines(public.read_text()))
    except OSError:
        pass
    try:
        result = subprocess.run(["ssh-keygen", "-y", "-P", "", "-f", private],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(_lines(result.stdout)) if result.returncode == 0 else ()


@functools.lru_cache(maxsize=1)
def _operator_identity() -> tuple[bytes, ...]:
    """The agent's keys and the default identity files' public halves."""
    blobs: list[bytes] = []
    if os.environ.get("SSH_AUTH_SOCK"):
        try:
            result = subprocess.run(["ssh-add", "-L"], capture_output=True, text=True,
                                    timeout=10, check=False)
            if result.returncode == 0:
                blobs += _lines(result.stdout)
        except (OSError, subprocess.TimeoutExpired):
            pass
    ssh_dir = Path.home() / ".ssh"
    for name in DEFAULT_IDENTITY_FILES:
        try:
            blobs += _lines((ssh_dir / f"{name}.pub").read_text())
        except OSError:
            continue
    return tuple(dict.fromkeys(blobs))


def connecting_identity(hostvars: dict) -> tuple[str, tuple[bytes, ...]]:
    """What the engines offer when they connect to a host with these variables.

    Returns:
        ``(source, key blobs)``: source is the private key file's path, or ``"the SSH agent and
        ~/.ssh/id_*.pub"``; the blobs are empty when nothing was found.
    """
    for var in KEY_FILE_VARS:
        if hostvars.get(var):
            private = os.path.expanduser(str(hostvars[var]))
            return private, _key_file_identity(private)
    return "the SSH agent and ~/.ssh/id_*.pub", _operator_identity()


def _account_keys(entry: dict) -> set[bytes] | None:
    """The key blobs the accounts role would install for one entry, or None when a key file
    cannot be read or a line is not a public key (the accounts check reports those)."""
    texts = [str(k) for k in entry.get("ssh_keys") or []]
    for name in entry.get("ssh_key_files") or []:
        try:
            texts.append(Path(str(name)).read_text())
        except OSError:
            return None
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    blobs = [key_blob(line) for line in lines]
    return None if None in blobs else set(blobs)


def check_identity(site: Site) -> Iterator[Problem]:
    """Refuse a site whose connecting identity would lose its access on some host.

    One problem per management-account entry and set of offered keys, naming the hosts and the
    offered keys' fingerprints; a warning when the identity cannot be found. Hosts whose
    ``accounts__management_users`` is malformed or lacks ``ansible_user`` are left to
    :mod:`libraryops.validation.accounts`.
    """
    if site.files.path.resolve().name in paths.DOCUMENTATION_SITES:
        return
    expected = site.files.path / "group_vars" / "all" / "accounts.yml"
    refused: dict[tuple[Path, int, str, tuple[str, ...]], list[str]] = {}
    unknown: dict[tuple[Path, str], list[str]] = {}
    for host in sorted(site.inventory.hosts):
        hostvars = site.inventory.hosts[host]
        user = hostvars.get("ansible_user") or "root"
        entries = hostvars.get(ACCOUNTS_VAR)
        if user == "root" or not isinstance(entries, list):
            continue
        index = next((i for i, e in enumerate(entries)
                      if isinstance(e, dict) and e.get("name") == user), None)
        if index is None:
            continue
        authorised = _account_keys(entries[index])
        if authorised is None:
            continue
        file = site.source(ACCOUNTS_VAR, host) or expected
        source, offered = connecting_identity(hostvars)
        if not offered:
            unknown.setdefault((file, source), []).append(host)
        elif not authorised.intersection(offered):
            prints = tuple(fingerprint(blob) for blob in offered)
            refused.setdefault((file, index, source, prints), []).append(host)
    for (file, index, source, prints), hosts in refused.items():
        yield Problem(
            display_path(file), f"{ACCOUNTS_VAR}[{index}].ssh_keys",
            f"on {', '.join(hosts)}: the engines connect with {', '.join(prints)} (from "
            f"{source}), which this list does not hold: the run would replace the account's "
            "keys and its next login would fail",
            "the account's keys including one the engines connect with")
    for (file, source), hosts in unknown.items():
        yield Problem(
            display_path(file), ACCOUNTS_VAR,
            f"on {', '.join(hosts)}: no key found in {source}: cannot prove the engines will "
            "still log in after this run", "a readable key file or an agent holding the key",
            warning=True)
