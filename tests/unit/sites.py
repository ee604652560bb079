"""Helpers of the validation tests: the shipped sites, copies of them in tmp_path with one file
edited, ``make validate``'s output for a copy, the files and edits that several concerns' tests
share, and the example site's wireless secrets."""

import shutil
from pathlib import Path

import yaml

from libraryops import paths
from libraryops.inventory import vault_lib
from libraryops.validation.run import main

EXAMPLE = paths.INVENTORIES / "example"
LAB = paths.INVENTORIES / "lab"
LAB_KEY_FILE = "/var/lib/libraryops-lab/ssh/id_ed25519.pub"

# The files of a site that the tests of several concerns edit (relative to the site).
HOSTS = "hosts.yml"
ACCOUNTS = "group_vars/all/accounts.yml"
EAST = "group_vars/branch_east/branch.yml"
PUBLIC_PC = "group_vars/public_pcs/public_pc.yml"
FIREWALL = "group_vars/all/firewall.yml"
STAFF_FIREWALL = "group_vars/staff_machines/firewall.yml"
TIMESYNC = "group_vars/all/timesync.yml"
SSHD = "group_vars/all/sshd.yml"
STAFF = "group_vars/staff_machines/staff_workstation.yml"
UPDATES = "group_vars/all/updates.yml"
WIRELESS = "group_vars/all/wireless.yml"
VAULT = "group_vars/all/wireless_vault.yml"


def copy_site(source: Path, tmp_path: Path) -> Path:
    site = tmp_path / source.name
    shutil.copytree(source, site)
    return site


def edit(site: Path, relpath: str, old: str, new: str) -> None:
    """Replace the first ``old`` in a file of the site; ``old`` must be there."""
    file = site / relpath
    text = file.read_text()
    assert old in text, f"{relpath} does not contain {old!r}"
    file.write_text(text.replace(old, new, 1))


def write(site: Path, relpath: str, text: str) -> None:
    file = site / relpath
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)


def run(site: Path, capsys) -> tuple[int, list[str]]:
    code = main([str(site)])
    return code, capsys.readouterr().out.splitlines()


def assert_problems(site: Path, capsys, expected: list[tuple[str, str, str]]) -> list[str]:
    """Exit 1 and exactly the ``expected`` (file, key, problem text) lines; returns them."""
    code, lines = run(site, capsys)
    assert code == 1
    assert lines[-1] == f"validate: {len(expected)} problem(s); nothing was contacted"
    problems = lines[:-1]
    assert len(problems) == len(expected), "\n".join(problems)
    for line, (file, key, text) in zip(problems, expected, strict=True):
        assert line.startswith(f"{site / file}: {key}: "), line
        assert text in line, line
    return problems


# --- edits that tests of several concerns make (one problem each) -----------------------------


def no_address(site):
    edit(site, HOSTS, "        east-pub-02:\n          ansible_host: 203.0.113.12\n",
         "        east-pub-02:\n")


def inline_host_var(site):
    edit(site, HOSTS, "          ansible_host: 198.51.100.11\n",
         "          ansible_host: 198.51.100.11\n          public_pc__patron_user: kiosk\n")


def malformed_group_vars(site):
    edit(site, EAST, "branch__name: Riverton East Branch", "branch__name: [Riverton East Branch")


def malformed_hosts_file(site):
    edit(site, HOSTS, "        main-pub-02:\n", "        main-pub-02:\n\t\n")


def unknown_time_zone(site):
    edit(site, EAST, "America/New_York", "America/Riverton")


def patron_is_root(site):
    edit(site, PUBLIC_PC, "public_pc__patron_user: patron", "public_pc__patron_user: root")


# --- the example site's wireless secrets ---------------------------------------------------------


def read_secrets(site):
    """The site's wireless secrets, decrypted (kept in memory, never printed)."""
    vault = vault_lib(site / "vault-password.txt")
    return yaml.safe_load(vault.decrypt((site / VAULT).read_bytes()))["wireless__secrets"]


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif value:
        yield str(value)
