"""Shared fixtures for the testinfra suites.

Suites run against a site's hosts with expected values read from the same inventory
(``host.ansible.get_variables()``), never copied into the tests. Each suite names its hosts
with ``testinfra_hosts = ["ansible://<group>"]``; the inventory comes from
``--ansible-inventory`` (see the Makefile's ``verify`` target).
"""

from pathlib import Path

import pytest
import yaml

from libraryops.report import HOST_PROPERTY

ROLES = Path(__file__).resolve().parents[2] / "roles"


@pytest.fixture(autouse=True)
def _record_host(request, record_property):
    """Record which host a test checked, for the per-host summary (libraryops.report)."""
    if "host" in request.fixturenames:
        record_property(HOST_PROPERTY, request.getfixturevalue("host").backend.get_hostname())


@pytest.fixture
def inventory_vars(host):
    """The host's merged inventory variables, as Ansible sees them."""
    return host.ansible.get_variables()


@pytest.fixture
def role_vars(inventory_vars):
    """A role's effective plain variables: its defaults/main.yml overlaid with the inventory.

    Usage: ``role_vars("sshd")["sshd__password_authentication"]``. Jinja defaults stay
    unrendered strings; tests read those from the inventory facts they point at.
    """

    def _vars(role):
        defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}
        return {**defaults, **{k: v for k, v in inventory_vars.items() if k in defaults}}

    return _vars
