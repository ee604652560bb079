"""`make lab-down` leaves nothing behind: no host, mount, bridge, nft table or cgroup.

Runs last in the integration suite (see conftest.py), after every test that needs the lab.
"""

import subprocess
from pathlib import Path

from libraryops import paths
from libraryops.inventory import load_site

LAB = load_site(paths.site_dir("lab"))
SETTINGS = next(iter(LAB.hosts.values()))
STATE = Path(SETTINGS["lab__state_dir"])


def _run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_lab_down_removes_everything_the_lab_made():
    assert subprocess.run(["make", "lab-down"], cwd=paths.REPO, check=False).returncode == 0
    assert _run("ip", "link", "show", SETTINGS["lab__bridge_name"]).returncode != 0
    assert _run("nft", "list", "table", "inet", "libraryops_lab").returncode != 0
    mounts = Path("/proc/mounts").read_text()
    assert str(STATE) not in mounts
    processes = _run("ps", "-eo", "args").stdout
    assert "systemd-nspawn" not in processes
    assert f"-c {STATE}" not in processes  # the lab's nginx
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        assert not list(hierarchy.glob("libraryops*")), hierarchy
    assert not (STATE / "hosts").exists() or not any((STATE / "hosts").iterdir())
