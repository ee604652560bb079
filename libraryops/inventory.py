"""The inventory adapter: one Ansible YAML inventory, read by every engine.

Ansible reads ``inventories/<site>/`` natively. pyinfra 3 has no Ansible connector, so this
module asks Ansible itself (``ansible-inventory --list``, with
``ANSIBLE_INVENTORY_UNPARSED_FAILED=true`` so a broken file is an error, not an empty
inventory) for the merged host variables, decrypts the inline ``!vault`` values that
``ansible-inventory`` returns still encrypted (``{"__ansible_vault": ...}``) with Ansible's own
vault code, and maps the ``ansible_*`` connection variables to pyinfra's ``ssh_*`` data.
No inventory parsing or precedence logic lives here: Ansible does all of it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libraryops import paths

#: The function groups: every host is in exactly one of them.
FUNCTION_GROUPS = ("public_pcs", "staff_machines", "wireless_aps")
#: Branch groups are named ``branch_<slug>`` (slug: lowercase letters, digits, ``_``); every
#: host is in exactly one.
BRANCH_PREFIX = "branch_"
BRANCH_GROUP = re.compile(re.escape(BRANCH_PREFIX) + r"[a-z0-9_]+")


def branch_of(groups: dict[str, list[str]], host: str) -> str | None:
    """The slug of ``host``'s branch (``branch_<slug>``) among ``groups`` (group -> members, as
    :attr:`SiteInventory.groups` or Ansible's ``groups``), or None for a host of no branch."""
    return next((g.removeprefix(BRANCH_PREFIX) for g in sorted(groups)
                 if BRANCH_GROUP.fullmatch(g) and host in groups[g]), None)

#: Ansible connection variables and the pyinfra data keys they become.
_CONNECTION_MAP = {
    "ansible_host": "ssh_hostname",
    "ansible_user": "ssh_user",
    "ansible_port": "ssh_port",
    "ansible_ssh_private_key_file": "ssh_key",
}
#: OpenSSH ``-o`` options (from ``ansible_ssh_common_args``) that pyinfra's paramiko connector
#: takes as data keys.
_SSH_OPTION_MAP = {
    "stricthostkeychecking": "ssh_strict_host_key_checking",
    "userknownhostsfile": "ssh_known_hosts_file",
}


class InventoryError(RuntimeError):
    """``ansible-inventory`` could not read the site, or a vaulted value could not be opened."""


@dataclass
class SiteInventory:
    """A site as Ansible sees it.

    Attributes:
        path: the site directory (``inventories/<site>``).
        hosts: host name -> merged variables (all < parent group < child group < host_vars),
            vault values decrypted.
        groups: group name -> sorted host names, membership through child groups included.
            ``all`` and ``ungrouped`` are omitted.
        vault_plaintexts: the decrypted inline ``!vault`` values (secrets: never log them).
    """

    path: Path
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    vault_plaintexts: set[str] = field(default_factory=set, repr=False)

    @property
    def branches(self) -> dict[str, list[str]]:
        """The well-named branch groups (``branch_<slug>``) and their hosts."""
        return {g: m for g, m in self.groups.items() if BRANCH_GROUP.fullmatch(g)}

    def groups_of(self, host: str) -> list[str]:
        """Sorted names of the groups that contain ``host``."""
        return sorted(g for g, members in self.groups.items() if host in members)

    def hosts_matching(self, limit: str | None) -> list[str]:
        """Hosts selected by ``limit``: a host or group name, several joined by commas (their
        union, in order), or None/"" for all.

        Raises:
            InventoryError: a name is neither a host nor a group.
        """
        if not limit:
            return sorted(self.hosts)
        found: list[str] = []
        for name in limit.split(","):
            if name in self.hosts:
                selected = [name]
            elif name in self.groups:
                selected = list(self.groups[name])
            else:
                raise InventoryError(
                    f"LIMIT={limit}: {name!r} is not a host or group of {self.path} "
                    f"(allowed: {sorted(self.groups) + sorted(self.hosts)})")
            found += [h for h in selected if h not in found]
        return found


def _ansible_bin(name: str) -> str:
    """Path of an Ansible CLI next to the running interpreter (the venv), else from PATH."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def vault_lib(password_file: Path | None):
    """Ansible's ``VaultLib`` for a password file (None: no secrets; decrypting then fails)."""
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    if password_file is None:
        return VaultLib([])
    secret = VaultSecret(password_file.read_bytes().strip())
    return VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)])


def _decrypt(value: Any, vault, where: str, plaintexts: set[str]) -> Any:
    """Recursively replace ``{"__ansible_vault": ciphertext}`` with the plaintext string,
    collecting each plaintext into ``plaintexts``."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_vault"}:
            try:
                plaintext = vault.decrypt(value["__ansible_vault"]).decode()
            except Exception as exc:  # AnsibleError subclasses; never echo the ciphertext
                raise InventoryError(
                    f"{where}: cannot decrypt vault value ({type(exc).__name__}); "
                    "is the vault password file right?"
                ) from None
            plaintexts.add(plaintext)
            return plaintext
        return {k: _decrypt(v, vault, f"{where}.{k}", plaintexts) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypt(v, vault, f"{where}[{i}]", plaintexts) for i, v in enumerate(value)]
    return value


def _group_members(listing: dict[str, Any]) -> dict[str, list[str]]:
    """Group -> hosts, following ``children`` transitively, from ``ansible-inventory --list``."""

    def members(group: str, seen: frozenset[str]) -> set[str]:
        entry = listing.get(group, {})
        found = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            if child not in seen:
                found |= members(child, seen | {child})
        return found

    groups = [g for g in listing if g not in ("_meta", "all", "ungrouped")]
    return {g: sorted(members(g, frozenset({g}))) for g in groups}


def hosts_file(site: Path) -> Path:
    """The inventory source of a site: ``<site>/hosts.yml``.

    Engines get this file, not the directory, so other files of the site (``azure.yml``,
    vault password files) are never parsed as inventory; ``group_vars/`` and ``host_vars/``
    beside it still load.
    """
    return site / "hosts.yml"


def load_site(site: Path | str, vault_password_file: Path | None = None) -> SiteInventory:
    """Load a site through ``ansible-inventory --list``.

    Args:
        site: the site directory (``inventories/<site>``), or a site name.
        vault_password_file: decrypts inline ``!vault`` values; default
            :func:`libraryops.paths.vault_password_file`.

    Returns:
        The merged view of the site (see :class:`SiteInventory`).

    Raises:
        InventoryError: Ansible could not parse the inventory (its message names the file), or a
            vault value could not be decrypted.
    """
    site_path = Path(site) if isinstance(site, Path) or "/" in str(site) else paths.site_dir(site)
    if vault_password_file is None:
        vault_password_file = paths.vault_password_file(site_path)
    # Only the JSON listing on stdout: at ANSIBLE_VERBOSITY >= 1 (or with ANSIBLE_DEBUG)
    # ansible-inventory prints its banner there too. The user's verbosity is for the engines.
    env = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true", ANSIBLE_VERBOSITY="0",
               ANSIBLE_DEBUG="0")
    # Vault-encrypted vars files are opened by Ansible itself; inline !vault values come back
    # still encrypted and are opened below.
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    if vault_password_file is not None:
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(vault_password_file)
    proc = subprocess.run(
        [_ansible_bin("ansible-inventory"), "-i", str(hosts_file(site_path)), "--list"],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if "[WARNING]" not in line]
        message = " ".join(" ".join(lines).split())
        raise InventoryError(f"{site_path}: ansible-inventory failed: {message}")
    try:
        listing = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise InventoryError(f"{site_path}: ansible-inventory printed something other than its "
                             "JSON listing") from None
    vault = vault_lib(vault_password_file)
    hostvars = listing.get("_meta", {}).get("hostvars", {})
    groups = _group_members(listing)
    all_hosts = set(hostvars) | {h for members in groups.values() for h in members}
    plaintexts: set[str] = set()
    hosts = {h: _decrypt(hostvars.get(h, {}), vault, h, plaintexts) for h in sorted(all_hosts)}
    return SiteInventory(path=site_path, hosts=hosts, groups=groups, vault_plaintexts=plaintexts)


def pyinfra_data(hostvars: dict[str, Any]) -> dict[str, Any]:
    """pyinfra host data for one host: its Ansible variables plus ``ssh_*`` connection keys.

    ``ansible_host/user/port/ssh_private_key_file`` map to ``ssh_hostname/user/port/key``;
    ``-o StrictHostKeyChecking=`` and ``-o UserKnownHostsFile=`` in ``ansible_ssh_common_args``
    map to ``ssh_strict_host_key_checking`` and ``ssh_known_hosts_file``; ``-F file`` to
    ``ssh_config_file``; ``ansible_become`` to ``_sudo``. The Ansible keys stay too, so deploys
    read the same names as roles.
    """
    data = dict(hostvars)
    for ansible_key, pyinfra_key in _CONNECTION_MAP.items():
        if ansible_key in hostvars:
            data[pyinfra_key] = hostvars[ansible_key]
    args = shlex.split(str(hostvars.get("ansible_ssh_common_args", "")))
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-F":
            data["ssh_config_file"] = value
        elif flag == "-o" and "=" in value:
            key, _, option = value.partition("=")
            if key.lower() in _SSH_OPTION_MAP:
                data[_SSH_OPTION_MAP[key.lower()]] = option
    if hostvars.get("ansible_become"):
        data["_sudo"] = True
    return data


def pyinfra_groups(inventory: SiteInventory) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Groups in the shape a pyinfra inventory file exports: name -> [(host, data), ...].

    Every occurrence of a host carries the same fully merged data (Ansible already applied the
    precedence), so pyinfra's own group merging cannot change a value.
    """
    data = {h: pyinfra_data(v) for h, v in inventory.hosts.items()}
    return {g: [(h, data[h]) for h in members] for g, members in inventory.groups.items()}


def site_cli(argv: list[str] | None, module: str, commands: list[str], *, label: str,
             site_option: bool = True, flags: Mapping[str, str] | None = None,
             ) -> tuple[argparse.Namespace, SiteInventory | None]:
    """The command line of a module that reads one site, and that site.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).
        module: the module run with ``python -m`` (the usage line's program).
        commands: the choices of the first argument, ``command``.
        label: what precedes the adapter's message on stderr, e.g. ``"catch-up: "``.
        site_option: the site directory is ``--site-dir DIR`` (True) or the positional
            ``site_dir`` (False); either way ``args.site_dir``, a Path.
        flags: further store-true options, name (``--install``) -> help.

    Returns:
        (the parsed arguments, the loaded site); the site is None when it cannot be read
        (:class:`InventoryError`): its message was printed to stderr, the caller exits 1.

    Raises:
        SystemExit: arguments argparse refuses (exit 2, with the usage).
    """
    parser = argparse.ArgumentParser(prog=f"python -m {module}")
    parser.add_argument("command", choices=commands)
    if site_option:
        parser.add_argument("--site-dir", type=Path, required=True, help="inventories/<site>")
    else:
        parser.add_argument("site_dir", type=Path)
    for flag, help_text in (flags or {}).items():
        parser.add_argument(flag, action="store_true", help=help_text)
    args = parser.parse_args(argv)
    try:
        return args, load_site(args.site_dir)
    except InventoryError as exc:
        print(f"{label}{exc}", file=sys.stderr)
        return args, None


def main(argv: list[str] | None = None) -> int:
    """``python -m libraryops.inventory pyinfra-groups SITE_DIR``: print pyinfra_groups as JSON.

    deploy/inventory.py runs this in a child process: importing Ansible inside pyinfra's
    gevent-patched process makes Ansible's socket self-check print a spurious traceback.
    Exit 1 with the adapter's message on stderr when the site cannot be read.
    """
    _, site = site_cli(argv, "libraryops.inventory", ["pyinfra-groups"], label="error: ",
                       site_option=False)
    if site is None:
        return 1
    json.dump(pyinfra_groups(site), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
