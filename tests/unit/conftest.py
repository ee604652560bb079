"""Fixtures shared by the unit tests: a pinned clock, copies of the shipped sites in tmp_path."""

import subprocess
from pathlib import Path

import pytest
from sites import EXAMPLE, LAB, LAB_KEY_FILE, copy_site, edit

from libraryops import clock

#: The instant the unit tests run "as of" (LIBRARYOPS_NOW): date-dependent warnings, such as
#: closure dates running out, do not move with the day the tests run. Tests that are about the
#: clock set their own instants.
UNIT_TEST_NOW = "2026-12-07T12:00:00Z"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch):
    monkeypatch.setenv(clock.NOW_ENV, UNIT_TEST_NOW)


@pytest.fixture(autouse=True)
def _site_vault_password(monkeypatch):
    """Each site's own vault-password.txt, whatever the developer's environment says."""
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)


@pytest.fixture(scope="session")
def load_module():
    """``load_module(path)``: a Python file that is not importable by name (an Ansible filter
    plugin) loaded as a module."""
    import importlib.util

    def _load(path: Path):
        spec = importlib.util.spec_from_file_location(f"libraryops_test_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return _load


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory) -> Path:
    """A fresh ed25519 key pair made by ssh-keygen; returns the private key's path."""
    private = tmp_path_factory.mktemp("keys") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "unit-test",
                    "-f", str(private)], check=True)
    return private


@pytest.fixture
def example(tmp_path) -> Path:
    """A copy of the example site."""
    return copy_site(EXAMPLE, tmp_path)


@pytest.fixture
def lab(tmp_path, key_pair) -> Path:
    """The lab site, its management key pair pointed at one made for the test."""
    site = copy_site(LAB, tmp_path)
    edit(site, "group_vars/all/accounts.yml", LAB_KEY_FILE, f"{key_pair}.pub")
    edit(site, "group_vars/all/lab.yml", f"ansible_ssh_private_key_file: {LAB_KEY_FILE[:-4]}",
         f"ansible_ssh_private_key_file: {key_pair}")
    return site
