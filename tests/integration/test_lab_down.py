"""`make lab-down` leaves nothing behind: no host, mount, bridge, nft table, process, cgroup or
systemd unit -- on both kinds of machine (libraryops.lab.owner).

Runs last in the integration suite (see conftest.py), after every test that needs the lab.
Processes are looked for in this machine's own mount namespace only: the nested labs of
stock-machine boxes (libraryops.lab.stockbox) use the same paths inside their own.
"""

import os
import subprocess
from pathlib import Path

from libraryops import paths
from libraryops.inventory import load_site
from libraryops.lab import owner

LAB = load_site(paths.site_dir("lab"))
SETTINGS = next(iter(LAB.hosts.values()))
STATE = Path(SETTINGS["lab__state_dir"])
CGROUP_FS = Path("/sys/fs/cgroup")


def _run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def _our_processes() -> list[str]:
    """Command lines of the processes in this mount namespace."""
    ours = os.readlink("/proc/self/ns/mnt")
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "ns/mnt") == ours:
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def _lab_cgroups() -> list[Path]:
    """Cgroups named like the lab's: at the top of a cgroup2 mount, one level down on v1
    (``<hierarchy>/libraryops-lab``), and the slice systemd made (``libraryops.slice/...``)."""
    found = list(CGROUP_FS.glob("libraryops-lab*")) + list(CGROUP_FS.glob("*/libraryops-lab*"))
    found += list(CGROUP_FS.glob("libraryops.slice/libraryops-lab*"))
    found += list(CGROUP_FS.glob("*/libraryops.slice/libraryops-lab*"))
    return found


def test_lab_down_removes_everything_the_lab_made():
    assert subprocess.run(["make", "lab-down"], cwd=paths.REPO, check=False).returncode == 0
    assert _run("ip", "link", "show", SETTINGS["lab__bridge_name"]).returncode != 0
    assert _run("nft", "list", "table", "inet", "libraryops_lab").returncode != 0
    mounts = Path("/proc/mounts").read_text()
    assert str(STATE) not in mounts
    processes = _our_processes()
    assert processes, "no process of this mount namespace found: the check itself is broken"
    assert not [p for p in processes if "systemd-nspawn" in p and f"--directory={STATE}/" in p]
    assert not [p for p in processes if f"-c {STATE}" in p]  # the lab's nginx
    assert not [p for p in processes if f"--state-dir {STATE}" in p]  # the ARM stand-in
    assert not [p for p in processes if f"-d {STATE}" in p]  # the printer
    assert not [p for p in processes if "aiosmtpd" in p and str(STATE) in p]  # the mail sink
    assert not _lab_cgroups()
    assert not (STATE / "hosts").exists() or not any((STATE / "hosts").iterdir())
    if owner.kind() == owner.SYSTEMD:
        units = _run("systemctl", "list-units", "--all", "--plain", "--no-legend",
                     f"{owner.UNIT_PREFIX}*", owner.SLICE)
        assert units.returncode == 0 and units.stdout.strip() == "", units.stdout
        others = _run("systemctl", "list-units", "--all", "--plain", "--no-legend",
                      "--state=active", "libraryops-*.slice").stdout.strip()
        parent = _run("systemctl", "is-active", owner.PARENT_SLICE).stdout.strip()
        assert others or parent != "active", f"{owner.PARENT_SLICE} left {parent}"
        machines = _run("machinectl", "list", "--no-legend")
        assert machines.returncode == 0
        lab_hosts = set(LAB.hosts)
        assert not [line for line in machines.stdout.splitlines()
                    if line.split() and line.split()[0] in lab_hosts]
