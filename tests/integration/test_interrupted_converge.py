"""A converge killed half-way, as a power cut would (the controller and the host's own package
run, while dpkg is unpacking), and run again, converges cleanly; the run after that changes
nothing. On a throwaway staff machine of its own (interrupted/hosts.yml), once per test run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from libraryops import paths
from libraryops.inventory import load_site
from libraryops.lab.config import load_config

SITE = Path(__file__).parent / "interrupted"
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "ANSIBLE_CONFIG": str(paths.REPO / "ansible.cfg"),
    "ANSIBLE_VAULT_PASSWORD_FILE": str(paths.INVENTORIES / "lab" / "vault-password.txt"),
}


def _lab(*args):
    subprocess.run([sys.executable, "-m", "libraryops.lab", *args, "--site-dir", str(SITE)],
                   cwd=paths.REPO, env=ENV, check=True)


def _playbook(name, stats, *extra, **popen):
    argv = [str(BIN / "ansible-playbook"), "-i", str(SITE / "hosts.yml"),
            f"playbooks/{name}.yml", *extra]
    env = {**ENV, "LIBRARYOPS_ANSIBLE_STATS": str(stats)}
    if popen:
        return subprocess.Popen(argv, cwd=paths.REPO, env=env, **popen)
    return subprocess.run(argv, cwd=paths.REPO, env=env, check=False).returncode


@pytest.fixture(scope="module")
def host():
    config = load_config(SITE)
    (lab_host,) = config.hosts
    _lab("up")
    try:
        yield config, lab_host
    finally:
        _lab("down", "--only-these-hosts")


def _root(config, lab_host, command):
    return subprocess.run(
        ["ssh", "-F", str(config.layout.ssh_config), "-o", "BatchMode=yes",
         f"root@{lab_host.address}", command],
        capture_output=True, text=True, timeout=30, check=False)


def test_killed_converge_reruns_cleanly_then_changes_nothing(host, tmp_path):
    config, lab_host = host
    name = load_site(SITE).groups["staff_machines"][0]
    assert _playbook("bootstrap", tmp_path / "boot.json", "-e", "ansible_user=root") == 0

    started = time.monotonic()
    first = _playbook("site", tmp_path / "killed.json", stdout=subprocess.DEVNULL,
                      start_new_session=True)
    try:
        while _root(config, lab_host, "pgrep -x dpkg").returncode != 0:
            assert first.poll() is None, "the converge ended before dpkg ever ran"
            assert time.monotonic() - started < 600, "dpkg never ran"
            time.sleep(0.5)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    _root(config, lab_host, "pkill -KILL -x dpkg; pkill -KILL -f AnsiballZ")
    pending = _root(config, lab_host, "ls /var/lib/dpkg/updates").stdout.split()
    print(f"\nkilled after {time.monotonic() - started:.1f} s; "
          f"dpkg left {len(pending)} pending update file(s)")

    began = time.monotonic()
    assert _playbook("site", tmp_path / "rerun.json") == 0
    print(f"re-run converged in {time.monotonic() - began:.1f} s")
    began = time.monotonic()
    assert _playbook("site", tmp_path / "third.json") == 0
    print(f"third run in {time.monotonic() - began:.1f} s")
    recap = json.loads((tmp_path / "third.json").read_text())
    assert recap[name]["changed"] == 0 and recap[name]["failures"] == 0
