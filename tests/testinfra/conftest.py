"""Shared fixtures for the testinfra suites.

Suites run against a site's hosts with expected values read from the same inventory
(``host.ansible.get_variables()``), never copied into the tests. Each suite names its hosts
with ``testinfra_hosts = ["ansible://<group>"]``; the inventory comes from
``--ansible-inventory`` (see the Makefile's ``verify`` target).
"""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from deploy.defaults import DEFAULTS
from libraryops import clock, role_specs
from libraryops.hours import BranchHours
from libraryops.report import HOST_PROPERTY
from libraryops.secret_names import is_secret_name
from libraryops.timers import HostTimers, sweep_windows


def pytest_collection_modifyitems(config, items):
    """``LIBRARYOPS_VERIFY_HOSTS=a,b`` (set by `make apply` for its canaries): check only those
    hosts; the other hosts' checks are deselected, not skipped."""
    only = {h for h in os.environ.get("LIBRARYOPS_VERIFY_HOSTS", "").split(",") if h}
    if not only:
        return
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        host = spec.params.get("_testinfra_host") if spec else None
        (keep if host is None or host.backend.get_hostname() in only else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _record_host(request, record_property):
    """Record which host a test checked, for the per-host summary (libraryops.report)."""
    if "host" in request.fixturenames:
        record_property(HOST_PROPERTY, request.getfixturevalue("host").backend.get_hostname())


def pytest_configure(config):
    """Open the site's vault files as the engines do: ``ANSIBLE_VAULT_PASSWORD_FILE`` when set,
    else the site's own ``vault-password.txt`` (lab and example only; libraryops.paths). Without
    it ``ansible-inventory`` cannot read a vault-encrypted group_vars file at all."""
    from libraryops.paths import vault_password_file

    inventory = config.getoption("ansible_inventory", default=None)
    if inventory and "ANSIBLE_VAULT_PASSWORD_FILE" not in os.environ:
        password = vault_password_file(Path(inventory).resolve().parent)
        if password:
            os.environ["ANSIBLE_VAULT_PASSWORD_FILE"] = str(password)


@pytest.fixture(scope="module")
def inventory_vars(host):
    """The host's merged inventory variables, as Ansible sees them, with every secret (the
    variables with a secret's name, :func:`libraryops.secret_names.is_secret_name`) replaced by
    ``"<secret>"`` so that no test output can ever show one. Tests compare presence, not values."""
    return {k: "<secret>" if is_secret_name(k) else v
            for k, v in host.ansible.get_variables().items()}


@pytest.fixture(scope="module")
def public_pc_vars(inventory_vars):
    """A public PC's effective settings: the deploy's defaults (deploy/defaults.py, what the
    pyinfra deploy applied) overlaid with the inventory's variables (:func:`inventory_vars`)."""
    return {**DEFAULTS, **inventory_vars}


@pytest.fixture(scope="module")
def role_vars(inventory_vars):
    """A role's effective plain variables: its defaults (its argument_specs,
    :func:`libraryops.role_specs.defaults`) overlaid with the inventory.

    Usage: ``role_vars("sshd")["sshd__password_authentication"]``. Jinja defaults stay
    unrendered strings; tests read those from the inventory facts they point at.
    """

    def _vars(role):
        defaults = role_specs.defaults(role)
        return {**defaults, **{k: v for k, v in inventory_vars.items() if k in defaults}}

    return _vars


@pytest.fixture
def other_host(host):
    """Another host of the same inventory (for checks that need a second machine's view)."""
    import testinfra

    inventory = host.backend.ansible_inventory
    name = host.backend.get_hostname()
    others = [h for h in host.backend.get_hosts("all", ansible_inventory=inventory) if h != name]
    if not others:
        pytest.skip("needs a second host in the inventory")
    return testinfra.get_host(f"ansible://{sorted(others)[0]}", ansible_inventory=inventory)


@pytest.fixture
def controller_ssh(inventory_vars):
    """Run ssh from the controller to the host with the inventory's own SSH options, never
    through an existing master connection (each call authenticates afresh)."""

    def _ssh(user, *options, command="true"):
        argv = ["ssh", *shlex.split(inventory_vars.get("ansible_ssh_common_args", "")),
                "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=5", "-o", "LogLevel=INFO", *options,
                *(["-p", str(inventory_vars["ansible_port"])] if "ansible_port" in inventory_vars
                  else []),
                f"{user}@{inventory_vars['ansible_host']}", command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)

    return _ssh


def can_connect(host, address, port, timeout=3):
    """Whether ``host`` opens a TCP connection to address:port (its own Python, no extra tools)."""
    probe = ("import socket,sys\n"
             f"try: socket.create_connection(({str(address)!r}, {int(port)}), {timeout})\n"
             "except OSError: sys.exit(1)")
    return host.run(f"python3 -c {shlex.quote(probe)}").rc == 0


@pytest.fixture(scope="module")
def hours(inventory_vars):
    """The host's branch hours (:class:`libraryops.hours.BranchHours`) from the inventory."""
    return BranchHours.from_vars(inventory_vars)


@pytest.fixture(scope="module")
def now():
    """The controller's instant (:func:`libraryops.clock.now`: ``LIBRARYOPS_NOW`` when set)."""
    return clock.now()


@pytest.fixture(scope="module")
def sweep(hours, now):
    """The stretches of the calendar the branch's schedule is checked over
    (:func:`libraryops.timers.sweep_windows`: the weeks around ``now``, every closure date, every
    DST change and year boundary the closures cover), as aware UTC ``(start, end)`` pairs."""
    return sweep_windows(hours, now)


@pytest.fixture(scope="module")
def timers(host):
    """The schedule verifier on this host (:class:`libraryops.timers.HostTimers`): systemd's
    own calendar expansion and the units' real conditions, run as of any instant."""
    return HostTimers(lambda argv: host.check_output(" ".join(["%s"] * len(argv)), *argv))


@pytest.fixture
def lab_only(inventory_vars):
    """Skip unless the host is a throwaway lab host (its inventory sets ``lab__state_dir``):
    for the probes that change a host's state (switching Wi-Fi, starting the power services).
    ``make verify`` on a real site changes nothing."""
    if "lab__state_dir" not in inventory_vars:
        pytest.skip("lab only: this probe changes the host's state (make verify on a real site "
                    "is read-only)")
