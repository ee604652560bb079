"""The lab on a stock Debian machine (systemd PID 1, cgroup v2): run INSIDE a stock-machine box
(libraryops.lab.stockbox) by tests/stock/test_stock_machine.py, never on the development
machines (the first test fails there, by design: this suite proves the systemd path).

In order: the probe picks systemd; ``up`` runs every host and daemon as a unit in the lab's
slice, registered with machined; the hosts boot to "running" and take the bootstrap; a reboot
inside a host is survived (systemd restarts nspawn after exit 133); then
tests/integration/test_lab_down.py (run after this file) checks that nothing is left.
"""

import os
import subprocess
from pathlib import Path

import pytest

from libraryops import paths
from libraryops.lab import hosts, ops, owner
from libraryops.lab.config import load_config
from libraryops.processes import wait_until

SITE = paths.REPO / "tests" / "stock" / "inventory"
CONFIG = load_config(SITE)
#: Seconds a rebooted host has to come back (a bound on the wait, not an assertion on speed).
REBOOT_WAIT = 180


def _run(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})


def _show(unit: str, prop: str) -> str:
    return _run("systemctl", "show", "--property", prop, "--value", unit).stdout.strip()


def test_the_probe_picks_systemd_on_a_stock_machine():
    assert Path("/proc/1/comm").read_text().strip() == "systemd"
    assert [m.split()[2] for m in Path("/proc/mounts").read_text().splitlines()
            if m.split()[1].startswith("/sys/fs/cgroup")] == ["cgroup2"]
    assert owner.probe() == owner.SYSTEMD


def test_up_runs_hosts_and_daemons_as_units_of_the_lab_slice():
    assert ops.up(SITE) == [h.name for h in CONFIG.hosts]
    for host in CONFIG.hosts:
        unit = owner.host_unit(host.name)
        assert _show(unit, "ActiveState") == "active"
        assert _show(unit, "ControlGroup").startswith(
            "/libraryops.slice/libraryops-lab.slice/"), _show(unit, "ControlGroup")
        assert _show(unit, "Delegate") == "yes"
        machine = _run("machinectl", "show", host.name, "--property", "Unit", "--value")
        assert machine.stdout.strip() == unit
    for daemon in ("nginx", "printer", "arm"):
        unit = f"{owner.UNIT_PREFIX}{daemon}.service"
        assert _show(unit, "ActiveState") == "active", unit
        assert _show(unit, "Slice") == owner.SLICE


def test_status_sees_every_host_running():
    lab = ops.status(SITE)
    assert [(h.running, h.systemd) for h in lab.hosts] == [(True, "running")] * len(CONFIG.hosts)
    assert lab.bridge and lab.nft_table and lab.nginx_pid and lab.printer_pid


def test_the_hosts_take_the_bootstrap():
    proc = _run(str(paths.REPO / ".venv/bin/ansible-playbook"), "-i", str(SITE / "hosts.yml"),
                str(paths.REPO / "playbooks/bootstrap.yml"), "-e", "ansible_user=root",
                env={"ANSIBLE_VAULT_PASSWORD_FILE": str(SITE / "vault-password.txt")})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "failed=0" in proc.stdout and "unreachable=0" in proc.stdout


@pytest.mark.parametrize("host", CONFIG.hosts, ids=lambda h: h.name)
def test_a_reboot_inside_a_host_is_survived(host):
    unit = owner.host_unit(host.name)
    restarts = int(_show(unit, "NRestarts"))
    # /run is the host's own tmpfs, made anew by each boot (the boot id is the machine's)
    marker = "/run/libraryops-before-reboot"
    assert hosts.ssh(CONFIG, host, ["touch", marker]).returncode == 0
    hosts.ssh(CONFIG, host, ["systemctl", "reboot"])
    assert wait_until(lambda: int(_show(unit, "NRestarts") or 0) == restarts + 1,
                      REBOOT_WAIT, 0.5), f"{unit} was not restarted"
    assert wait_until(lambda: hosts.systemd_state(CONFIG, host) == "running", REBOOT_WAIT, 1)
    assert _show(unit, "ActiveState") == "active"
    assert hosts.ssh(CONFIG, host, ["test", "-e", marker]).returncode == 1
