"""The lockout guard that proves the identity (libraryops.validation.identity): the key the engines
connect with must stay among the connecting account's keys, or `make validate` refuses before any
host is contacted. Fingerprints are compared with ssh-keygen's own."""

import shutil
import subprocess
from pathlib import Path

import pytest
from sites import EXAMPLE, edit, run

from libraryops.validation import identity

ACCOUNTS = "group_vars/all/accounts.yml"
LAB_HOSTS = "main-ap-01, main-pub-01, main-pub-02, main-staff-01"


def new_key(directory: Path, name: str) -> Path:
    """A fresh ed25519 key pair; returns the private key's path."""
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                    str(private)], check=True)
    return private


def ssh_keygen_fingerprint(public: Path) -> str:
    """``ssh-keygen -l``'s SHA256 fingerprint of a public key file."""
    return subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public)], check=True,
                          capture_output=True, text=True).stdout.split()[1]


@pytest.fixture(autouse=True)
def operator(tmp_path, monkeypatch):
    """An operator with no agent and an empty ~/.ssh; the identity caches cleared."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    identity._operator_identity.cache_clear()
    identity._key_file_identity.cache_clear()
    yield home
    identity._operator_identity.cache_clear()
    identity._key_file_identity.cache_clear()


def test_the_lab_connecting_with_its_listed_key_passes(lab, capsys):
    code, lines = run(lab, capsys)
    assert code == 0, lines
    assert lines[-1].endswith("OK")


def test_a_different_key_in_the_list_is_refused_naming_hosts_and_fingerprint(
        lab, key_pair, tmp_path, capsys):
    other = new_key(tmp_path / "other", "id_other")
    edit(lab, ACCOUNTS, f"{key_pair}.pub", f"{other}.pub")
    code, lines = run(lab, capsys)
    assert code == 1
    assert lines == [
        f"{lab / ACCOUNTS}: accounts__management_users[0].ssh_keys: on {LAB_HOSTS}: the engines "
        f"connect with {ssh_keygen_fingerprint(Path(f'{key_pair}.pub'))} (from {key_pair}), "
        "which this list does not hold: the run would replace the account's keys and its next "
        "login would fail (allowed: the account's keys including one the engines connect with)",
        "validate: 1 problem(s); nothing was contacted"]


def test_the_public_half_comes_from_ssh_keygen_without_a_pub_file(lab, key_pair, tmp_path,
                                                                  capsys):
    alone = tmp_path / "alone" / "id_ed25519"
    alone.parent.mkdir()
    shutil.copy(key_pair, alone)
    alone.chmod(0o600)
    edit(lab, "group_vars/all/lab.yml", str(key_pair), str(alone))
    assert run(lab, capsys)[0] == 0
    other = new_key(tmp_path / "other", "id_other")
    edit(lab, ACCOUNTS, f"{key_pair}.pub", f"{other}.pub")
    code, lines = run(lab, capsys)
    assert code == 1 and ssh_keygen_fingerprint(Path(f"{key_pair}.pub")) in lines[0]


def test_without_a_key_file_the_operators_default_keys_are_judged(tmp_path, operator, capsys):
    site = tmp_path / "town"
    shutil.copytree(EXAMPLE, site)
    mine = new_key(operator / ".ssh", "id_ed25519")
    code, lines = run(site, capsys)
    assert code == 1
    assert f"the engines connect with {ssh_keygen_fingerprint(Path(f'{mine}.pub'))}" in lines[0]
    assert "(from the SSH agent and ~/.ssh/id_*.pub)" in lines[0]
    # The operator's key added to the connecting account's list: accepted.
    public = Path(f"{mine}.pub").read_text().strip()
    edit(site, ACCOUNTS, "      - >-\n        ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJUak",
         f"      - {public}\n      - >-\n        ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJUak")
    code, lines = run(site, capsys)
    assert code == 0, lines


def test_no_identity_at_all_is_a_warning_not_a_pass(tmp_path, capsys):
    site = tmp_path / "town"
    shutil.copytree(EXAMPLE, site)
    code, lines = run(site, capsys)
    assert code == 0
    assert any(": accounts__management_users: warning: on " in line
               and "cannot prove the engines will still log in" in line for line in lines), lines


def test_the_documentation_site_is_not_judged(capsys, operator):
    new_key(operator / ".ssh", "id_ed25519")
    assert run(EXAMPLE, capsys)[0] == 0


def test_fingerprint_matches_ssh_keygen(key_pair):
    line = Path(f"{key_pair}.pub").read_text()
    assert identity.fingerprint(identity.key_blob(line)) == ssh_keygen_fingerprint(
        Path(f"{key_pair}.pub"))
