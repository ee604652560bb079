"""``make bench``: measured speed of converging and verifying public PCs, pyinfra against Ansible.

``python -m libraryops.bench [--hosts "2 5 10"] [--repeat 3] [--noop-only] [--budget-minutes 19]
[--report-dir DIR]``

A benchmark, not a test: nothing here asserts a timing. It brings up throwaway kiosk hosts of
its own on the lab bridge (``bench-pub-NN`` from 10.123.0.150, ``bench-ans-01/02`` at .168/.169,
from a generated inventory in a temporary directory that copies the lab site's ``all``,
``branch_main`` and ``public_pcs`` group_vars), adds them to the running lab with
``python -m libraryops.lab up`` and removes exactly them at the end, however the run ends
(``down --only-these-hosts``). The lab's own hosts are never contacted.

What is measured (wall-clock seconds, median and min–max of ``--repeat`` runs; every run is
started cold: no SSH master connection to the bench hosts is left open before it):

- ``cold``: the pyinfra public-PC deploy (``deploy/public_pc.py``, run exactly as the pipeline
  runs it) on two fresh hosts, once, with the lab's warm package cache; and the same work as an
  Ansible playbook (``tests/bench/public_pc.yml``) on two other fresh hosts, once. The
  Ansible-converged hosts then get the public-PC testinfra suites (the proof that the playbook
  does the same work) and a pyinfra run that must change nothing on them;
- ``noop``: the re-converge that changes nothing (the daily case), by both engines, at every N.
  Hosts beyond the first two are copies of a pyinfra-converged host's disk (its overlay layer,
  copied before they boot), so a large N costs seconds to set up, not a converge; every no-op
  run's change count is recorded and must be 0 (Ansible's runs over pyinfra-converged hosts
  are therefore also a drift check between the two);
- ``verify-serial`` / ``verify-xdist``: ``make verify``'s testinfra run of the public-PC suites
  (``tests/testinfra/test_public_pc.py``, ``test_power.py``), serial and with pytest-xdist
  ``-n 4`` (``make verify``'s default);
- ``floor-cm-off`` / ``floor-cm-on``: one trivial SSH command (``true``) to every host in
  parallel with OpenSSH and the lab's ssh config, ControlMaster off (a new connection per host:
  the floor the engines' ratios use) and on (over a master opened beforehand);
- ``azure-plan``: the Azure plan of a generated 50-resource spec against a private ARM stand-in
  (its own state directory, loopback only), after one apply; with the HTTP requests per plan.

Order: the cold converges first; then all hosts of the largest N are up and each repetition
goes over the engines at every N, then the verify runs at every N, before the next one starts,
so that the machine's noise spreads evenly over engines and counts. A repetition that would
overrun the time budget
(``--budget-minutes``, default 19, so that the default run ends within 20 minutes on a 2-core
machine) is skipped, never the first one; the report counts the skipped runs.

Peak memory: the resident set (RSS, MiB) of the controller's whole process tree, sampled from
``/proc`` every 0.1 s (a shared page counts in every process that maps it, so forked engines
-- Ansible's workers, xdist's -- read high).

The table (engine × phase × N → median s, min–max, ratio to the floor, pyinfra/Ansible ratio)
is printed and written to ``<report-dir>/bench-<date>.md`` and ``.json``. ``--noop-only``
(``make bench-smoke``) skips the cold converges and the Ansible proof: the first two hosts are
converged by pyinfra without being measured. Exit status: 0, or 1 when a run failed, a no-op
run changed something or the Ansible equivalent failed the suites (the report says which).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import ipaddress
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from libraryops import paths, report
from libraryops.cloud import spec as azure_spec
from libraryops.cloud import standin
from libraryops.lab.config import LabConfig, load_config
from libraryops.lab.hosts import host_paths
from libraryops.lab.hosts import running as host_running
from libraryops.lab.system import LabError, exclusive
from libraryops.pipeline import testinfra_argv

BIN = Path(sys.executable).parent
LAB_SITE = paths.INVENTORIES / "lab"
#: The lab site's group_vars a public PC needs (copied into the bench inventory).
COPIED_GROUPS = ("all", "branch_main", "public_pcs")
PLAYBOOK = "tests/bench/public_pc.yml"
SUITES = ("tests/testinfra/test_public_pc.py", "tests/testinfra/test_power.py")
#: Bench host names and their addresses (offsets in the lab subnet): .150-.167 and .168-.169.
HOST_PREFIX, PROOF_PREFIX = "bench-pub-", "bench-ans-"
FIRST_OFFSET, PROOF_OFFSET, MAX_HOSTS, PROOF_HOSTS = 150, 168, 18, 2
#: Hosts of the cold converges (each engine its own fresh ones).
COLD_N = 2
XDIST_WORKERS = 4
SAMPLE_SECONDS = 0.1
AZURE_RESOURCES = 50
#: Seconds one engine run may take before it is killed (and recorded as failed).
RUN_TIMEOUT = 1800
#: One bench at a time on a machine: the hosts and addresses are fixed.
LOCK_FILE = Path("/run/lock/libraryops-bench.lock")
#: Seconds a bench waits for another one to finish.
LOCK_TIMEOUT = 40 * 60
#: Copied hosts booted at a time (10 kiosks booting at once on 2 busy cores time out units).
BOOT_BATCH = 4
#: Seconds kept free in the time budget for removing the hosts and writing the report.
CLEANUP_RESERVE = 90
#: Seconds the hosts' kiosk sessions have to come up after a boot.
SESSION_TIMEOUT = 120
#: Paths of a converged host's overlay layer not copied to a new host: package files, the
#: journal, temporary files, and what makes a host itself (machine id, SSH host keys).
CLONE_EXCLUDES = ("./var/cache/apt/archives/*.deb", "./var/log/journal/*", "./tmp/*",
                  "./var/tmp/*", "./etc/machine-id", "./etc/ssh/ssh_host_*",
                  "./var/lib/systemd/random-seed")

#: (engine, phase) -> what the row says. Engines: ssh, pyinfra, ansible, testinfra, azure.
PHASES = {
    ("ssh", "floor-cm-off"): "floor: `true` on every host, ControlMaster off (new connections)",
    ("ssh", "floor-cm-on"): "floor: `true` on every host, ControlMaster on (master open)",
    ("pyinfra", "cold"): "cold converge, warm package cache",
    ("ansible", "cold"): "cold converge, warm package cache",
    ("pyinfra", "noop"): "no-op re-converge",
    ("ansible", "noop"): "no-op re-converge",
    ("testinfra", "verify-serial"): "verify: public-PC suites, serial",
    ("testinfra", "verify-xdist"): f"verify: public-PC suites, xdist -n {XDIST_WORKERS}",
    ("azure", "apply"): f"apply: create {AZURE_RESOURCES} resources (setup, once)",
    ("azure", "plan"): f"plan: {AZURE_RESOURCES} resources, no changes",
}
#: What each engine's connections are (stated in the report).
SSH_SETTINGS = {
    "ssh": "OpenSSH with the lab's ssh config (-F); `-o ControlMaster=no -o ControlPath=none` "
           "for the floor, a master opened beforehand (ControlMaster=auto, its own ControlPath) "
           "for `floor-cm-on`",
    "pyinfra": "paramiko (pyinfra 3 has no OpenSSH connector): one SSH connection per host, "
               "opened at the start of each run and reused by all its commands (no reuse across "
               "runs; no pipelining setting: each command is one exec on that connection, "
               "through sudo)",
    "ansible": "OpenSSH with ansible.cfg's settings: ssh_args `-C -o ControlMaster=auto "
               "-o ControlPersist=60s` (a fresh ControlPath directory per run, so every run "
               "starts cold), pipelining = True, forks = 10, become (sudo)",
    "testinfra": "OpenSSH through the inventory's ansible_ssh_common_args (`-F` the lab's ssh "
                 "config: ControlMaster auto, ControlPersist 60s; masters closed before each "
                 "run), one command per check, sudo for become",
    "azure": "HTTPS to the ARM stand-in on 127.0.0.1 through the real Azure SDK clients",
}


class BenchError(RuntimeError):
    """The bench cannot go on (a setup step failed); the message says which."""


@dataclass
class Sample:
    """One measured run.

    Attributes:
        engine, phase, n: which row it belongs to (``n`` is None for the Azure phases).
        rep: the repetition (1-based).
        seconds: wall-clock seconds from start to exit.
        exit: the exit status (-9 when killed after :data:`RUN_TIMEOUT`).
        ok: the run did what it should (exit 0; a no-op: no change; testinfra: the suites ran,
            failed checks are reported in ``note`` and the report's notes).
        peak_rss_mib: peak RSS of the controller's process tree, MiB.
        changes: operations/tasks the engine changed (engines only).
        passed, failed: testinfra checks (verify only).
        requests: HTTP requests the stand-in answered (Azure only).
        load: the machine's 1-minute load average when the run started.
        cpu_seconds: CPU seconds (user + system) of the controller's process tree: on real
            PCs the hosts' share of the work runs on the PCs, this share on the controller.
        note: why ``ok`` is False, or anything else worth saying.
    """

    engine: str
    phase: str
    n: int | None
    rep: int
    seconds: float
    exit: int
    ok: bool = True
    peak_rss_mib: float = 0.0
    changes: int | None = None
    passed: int | None = None
    failed: int | None = None
    requests: int | None = None
    load: float = 0.0
    cpu_seconds: float = 0.0
    note: str = ""


@dataclass
class Row:
    """One line of the table: the samples of one (engine, phase, n), summarised.

    Attributes:
        median, low, high: seconds (median, min, max).
        floor_ratio: median / the ``floor-cm-off`` median at the same n (None: no floor).
        pyinfra_ansible: pyinfra's median / Ansible's for the same phase and n (pyinfra rows).
        peak_rss_mib: the highest peak of its samples, MiB.
        changes: total changes over the samples (engines), None otherwise.
        cpu: median CPU seconds of the controller's process tree.
    """

    engine: str
    phase: str
    n: int | None
    runs: int
    median: float
    low: float
    high: float
    floor_ratio: float | None = None
    pyinfra_ansible: float | None = None
    peak_rss_mib: float = 0.0
    changes: int | None = None
    failed_runs: int = 0
    requests: float | None = None
    skipped: int = 0
    cpu: float = 0.0
    label: str = ""


# -- process tree memory -----------------------------------------------------------------------


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, IndexError, ValueError):
        return 0


def _pids() -> set[int]:
    return {int(name) for name in os.listdir("/proc") if name.isdigit()}


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every :data:`SAMPLE_SECONDS`.

    Processes that existed before the root started are never its descendants (pids are not
    reused that fast), so each sample reads ``/proc/<pid>/stat`` only of processes it has not
    seen yet and ``statm`` of the descendants. A process first seen after it was re-parented
    (an SSH ControlPersist master) does not count: it outlives the run.

    Attributes:
        peak_kib: the highest sum of RSS seen, KiB.
    """

    def __init__(self, root: int, known: set[int]):
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self._ours = {root}
        self._others = set(known) - {root}
        self._stop_event = threading.Event()

    def sample(self) -> int:
        """One sample: the tree's RSS now, KiB (also folded into :attr:`peak_kib`)."""
        alive = _pids()
        self._ours &= alive
        self._others &= alive
        for pid in sorted(alive - self._ours - self._others):
            parent = _ppid(pid)
            (self._ours if parent in self._ours else self._others).add(pid)
        total = sum(_rss_kib(pid) for pid in self._ours)
        self.peak_kib = max(self.peak_kib, total)
        return total

    def run(self) -> None:
        """Sample until :meth:`stop`."""
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> float:
        """Stop sampling; return the peak in MiB."""
        self._stop_event.set()
        self.join(timeout=5)
        return round(self.peak_kib / 1024, 1)


# -- inventories ---------------------------------------------------------------------------------


def bench_hosts(network: ipaddress.IPv4Network, count: int,
                prefix: str = HOST_PREFIX, offset: int = FIRST_OFFSET) -> dict[str, str]:
    """``count`` bench host names -> their addresses in the lab subnet (``bench-pub-01`` ...).

    Raises:
        BenchError: more hosts than the bench's address range holds.
    """
    limit = MAX_HOSTS if prefix == HOST_PREFIX else PROOF_HOSTS
    if count > limit:
        raise BenchError(f"at most {limit} {prefix}* hosts (addresses .{offset}-"
                         f".{offset + limit - 1}); asked for {count}")
    return {f"{prefix}{i:02d}": str(network.network_address + offset + i - 1)
            for i in range(1, count + 1)}


def hosts_yaml(hosts: dict[str, str]) -> str:
    """A bench inventory's hosts.yml: every host a public PC of the lab's ``branch_main``."""
    lines = ["---",
             "# Written by libraryops.bench: throwaway bench hosts, removed when the run ends.",
             "all:", "  children:", "    public_pcs:", "      hosts:"]
    for name, address in hosts.items():
        lines += [f"        {name}:", f"          ansible_host: {address}"]
    lines += ["    branch_main:", "      hosts:"] + [f"        {name}:" for name in hosts]
    return "\n".join(lines) + "\n"


def write_site(state: Path) -> Path:
    """Copy the lab's public-PC group_vars and vault password file into ``state/site``."""
    site = state / "site"
    for group in COPIED_GROUPS:
        shutil.copytree(LAB_SITE / "group_vars" / group, site / "group_vars" / group)
    shutil.copy2(LAB_SITE / "vault-password.txt", site / "vault-password.txt")
    return site


def write_set(state: Path, name: str, hosts: dict[str, str]) -> Path:
    """A site directory ``state/sets/<name>`` listing ``hosts``, sharing ``state/site``."""
    directory = state / "sets" / name
    directory.mkdir(parents=True)
    (directory / "group_vars").symlink_to(state / "site" / "group_vars")
    (directory / "vault-password.txt").symlink_to(state / "site" / "vault-password.txt")
    (directory / "hosts.yml").write_text(hosts_yaml(hosts), encoding="utf-8")
    return directory


def lab_network() -> ipaddress.IPv4Network:
    """The lab subnet, from the lab site's ``lab__bridge_address``."""
    settings = yaml.safe_load((LAB_SITE / "group_vars" / "all" / "lab.yml").read_text())
    return ipaddress.IPv4Interface(settings["lab__bridge_address"]).network


# -- the Azure spec ------------------------------------------------------------------------------

#: A request line in the stand-in's log (``"GET /subscriptions/... HTTP/1.1" 200 -``).
_REQUEST_LINE = re.compile(r'"(?:GET|PUT|POST|PATCH|DELETE|HEAD) /')

#: A throwaway public key for the generated VMs (the stand-in runs no VM).
_BENCH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBench00 bench"


def azure_document(total: int = AZURE_RESOURCES, groups: int = 3) -> dict[str, Any]:
    """A valid ``azure.yml`` of exactly ``total`` plan items (resource groups included).

    Per group (one per branch): a virtual network with two subnets and two NSGs; then VMs with
    their NIC and public IP, round-robin over the groups, and lone public IPs for the rest.

    Raises:
        ValueError: ``total`` is below the groups with their networks (``4 * groups``).
    """
    if total < 4 * groups:
        raise ValueError(f"{total} resources: at least {4 * groups} for {groups} groups")
    names = [f"rg-bench-{i + 1}" for i in range(groups)]
    res: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "network_security_groups", "virtual_networks", "public_ips", "network_interfaces",
        "virtual_machines")}
    for i, rg in enumerate(names):
        for kind in ("servers", "mgmt"):
            res["network_security_groups"].append({
                "name": f"nsg-{kind}-{i + 1}", "resource_group": rg, "rules": [{
                    "name": "allow-https-from-town", "priority": 100, "direction": "Inbound",
                    "access": "Allow", "protocol": "Tcp", "source": "10.0.0.0/16",
                    "destination": f"10.{20 + i}.0.0/24", "destination_ports": [443]}]})
        res["virtual_networks"].append({
            "name": f"vnet-{i + 1}", "resource_group": rg, "address_space": [f"10.{20 + i}.0.0/22"],
            "subnets": [{"name": "servers", "prefix": f"10.{20 + i}.0.0/24",
                         "network_security_group": f"nsg-servers-{i + 1}"},
                        {"name": "mgmt", "prefix": f"10.{20 + i}.1.0/24",
                         "network_security_group": f"nsg-mgmt-{i + 1}"}]})
    left = total - groups - sum(len(v) for v in res.values())
    vm = 0
    while left >= 3:
        i, vm, left = vm % groups, vm + 1, left - 3
        rg = names[i]
        res["public_ips"].append({"name": f"pip-vm-{vm}", "resource_group": rg})
        res["network_interfaces"].append({
            "name": f"nic-vm-{vm}", "resource_group": rg, "subnet": f"vnet-{i + 1}/servers",
            "public_ip": f"pip-vm-{vm}"})
        res["virtual_machines"].append({
            "name": f"vm-{vm}", "resource_group": rg, "size": "Standard_B2s",
            "image": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2"},
            "admin_user": "libops", "ssh_public_key": _BENCH_KEY,
            "network_interfaces": [f"nic-vm-{vm}"]})
    for extra in range(left):
        res["public_ips"].append({"name": f"pip-spare-{extra + 1}", "resource_group": names[0]})
    return {"subscription_id": "00000000-0000-0000-0000-0000000be4c4", "endpoint": "standin",
            "location": "East US",
            "tags": {"owner": "bench@library.invalid", "cost-center": "library", "env": "bench"},
            "resource_groups": [{"name": rg} for rg in names], "resources": res}


# -- the bench -----------------------------------------------------------------------------------


class Bench:
    """One bench run: its state directory, hosts, samples and notes (see the module docstring).

    Args:
        counts: the host counts N, ascending.
        repeat: runs per measured phase (the cold converges run once).
        noop_only: the smoke: no cold converges, no Ansible proof.
        state: the run's temporary directory (inventories, engine outputs).
        budget: seconds the whole run should take (0: no limit); repetitions that would
            overrun it are skipped (:meth:`fits`).
    """

    def __init__(self, counts: Sequence[int], repeat: int, noop_only: bool, state: Path,
                 budget: float = 0):
        self.counts = sorted(set(counts))
        self.repeat = repeat
        self.budget = budget
        self.skipped: dict[str, int] = {}
        self.azure_site = state / "azure"
        self.noop_only = noop_only
        self.state = state
        self.samples: list[Sample] = []
        self.notes: list[str] = []
        self.setup: dict[str, float] = {}
        self.proof: dict[str, Any] = {}
        self.problems: list[str] = []
        self.running: set[str] = set()
        self.last_cpu = 0.0
        self.started = time.monotonic()
        self._sequence = 0
        self._running: set[int] = set()
        self.network = lab_network()
        largest = max(self.counts)
        self.pub = bench_hosts(self.network, max(largest, COLD_N))
        self.ans = {} if noop_only else bench_hosts(self.network, PROOF_HOSTS, PROOF_PREFIX,
                                                    PROOF_OFFSET)
        write_site(state)
        self.sweep = write_set(state, "all-bench-hosts",
                               {**bench_hosts(self.network, MAX_HOSTS),
                                **bench_hosts(self.network, PROOF_HOSTS, PROOF_PREFIX,
                                              PROOF_OFFSET)})
        self.lab: LabConfig = load_config(self.sweep)
        self.user = self.lab.hosts[0].user or "root"
        self.standin_dir = state / "arm"

    # -- helpers -------------------------------------------------------------------------------

    def log(self, message: str) -> None:
        """Print one progress line with the time since the bench began."""
        print(f"bench [{time.monotonic() - self.started:6.0f} s] {message}", flush=True)

    def env(self, site: Path, **extra: str) -> dict[str, str]:
        """The engines' environment, as libraryops.pipeline gives it, for a bench site."""
        env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   PYTHONPATH=str(paths.REPO), ANSIBLE_CONFIG=str(paths.REPO / "ansible.cfg"),
                   LIBRARYOPS_INVENTORY=str(site),
                   ANSIBLE_VAULT_PASSWORD_FILE=str((site / "vault-password.txt").resolve()))
        env.pop("LIBRARYOPS_VERIFY_HOSTS", None)
        env.update(extra)
        return env

    def run_dir(self, label: str) -> Path:
        """A new directory for one run's output (``runs/<seq>-<label>``)."""
        self._sequence += 1
        directory = self.state / "runs" / f"{self._sequence:03d}-{label}"
        directory.mkdir(parents=True)
        return directory

    def execute(self, argv: Sequence[str], env: dict[str, str], out: Path, stdout: str = "out.log",
                timeout: float = RUN_TIMEOUT) -> tuple[float, int, float]:
        """Run one command from the repository root, timed and sampled.

        Its standard output goes to ``out/<stdout>``, errors to ``out/err.log``.
        Returns (seconds, exit status, peak RSS of its process tree in MiB); the CPU seconds
        (user + system) of the command and the descendants it waited for are left in
        :attr:`last_cpu` (the controller's work; the hosts' own work is not in it).
        """
        known = _pids()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(out / stdout, "w") as handle, open(out / "err.log", "w") as errors:
            start = time.monotonic()
            proc = subprocess.Popen(list(argv), cwd=paths.REPO, env=env, stdin=subprocess.DEVNULL,
                                    stdout=handle, stderr=errors, start_new_session=True)
            self._running.add(proc.pid)
            sampler = TreeSampler(proc.pid, known)
            sampler.start()
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                status = proc.wait()
            finally:
                seconds = time.monotonic() - start
                peak = sampler.stop()
                self._running.discard(proc.pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.last_cpu = round(after.ru_utime + after.ru_stime
                              - before.ru_utime - before.ru_stime, 2)
        return round(seconds, 2), status, peak

    def setup_step(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None,
                   check: bool = True) -> float:
        """Run a setup command (not measured for the table); return its seconds.

        Raises:
            BenchError: it failed (the message carries its last output lines).
        """
        out = self.run_dir(f"setup-{name}")
        seconds, status, _ = self.execute(argv, env or self.env(self.sweep), out)
        self.setup[name] = round(self.setup.get(name, 0) + seconds, 1)
        if check and status != 0:
            tail = ((out / "out.log").read_text() + (out / "err.log").read_text())[-1500:]
            raise BenchError(f"{name} failed (exit {status}); output in {out}:\n{tail}")
        self.log(f"{name}: {seconds:.1f} s")
        return seconds

    def lab_cli(self, command: str, site: Path, only: bool = False) -> None:
        """``python -m libraryops.lab <command> --site-dir <site> [--only-these-hosts]``; keeps
        :attr:`running` (the bench hosts that should be up) current."""
        argv = [str(BIN / "python"), "-m", "libraryops.lab", command, "--site-dir", str(site)]
        if only:
            argv.append("--only-these-hosts")
        names = set(yaml.safe_load((site / "hosts.yml").read_text())["all"]["children"]
                    ["public_pcs"]["hosts"])
        try:
            self.setup_step(f"lab-{command}-{site.name}", argv)
        except BenchError as exc:
            # A boot storm on a busy machine once left a host "degraded" by root's user
            # manager (user@0, started by the readiness check's SSH login): the lab gives up
            # there; the hosts are booted, so check each of them here instead.
            if command != "up" or "systemd is degraded" not in str(exc):
                raise
            self.log(f"lab-up-{site.name}: a host came up degraded; checking each host")
            self.setup_step(f"lab-up-{site.name}-again", argv)
            self.settle({n: a for n, a in {**self.pub, **self.ans}.items() if n in names})
        self.running = self.running | names if command == "up" else self.running - names

    def settle(self, hosts: dict[str, str]) -> None:
        """Wait for each host's systemd to finish starting; a host degraded only by failed
        ``user@*.service`` units (a user's own service manager, not the machine's) gets
        ``systemctl reset-failed`` and a note in the report.

        Raises:
            BenchError: a host is not running, or other units failed.
        """
        def remote(address: str, command: str) -> str:
            proc = subprocess.run(["ssh", *self.ssh_options(), f"root@{address}", command],
                                  capture_output=True, text=True, timeout=150, check=False)
            return proc.stdout.strip()

        for name, address in hosts.items():
            state = remote(address, "systemctl is-system-running --wait")
            if state == "running":
                continue
            failed = remote(address, "systemctl --failed --plain --no-legend | cut -d' ' -f1")
            failed = failed.split()
            if state != "degraded" or not failed or not all(
                    unit.startswith("user@") for unit in failed):
                raise BenchError(f"{name}: systemd is {state or 'unreachable'}, failed units: "
                                 f"{', '.join(failed) or '-'}")
            remote(address, "systemctl reset-failed")
            self.notes.append(f"{name} came up with {', '.join(failed)} failed (reset)")

    def bootstrap(self, site: Path) -> None:
        """The bootstrap playbook as root (creates the management account), as `make lab`."""
        self.setup_step(f"bootstrap-{site.name}", [
            str(BIN / "ansible-playbook"), "-i", str(site / "hosts.yml"),
            "playbooks/bootstrap.yml", "-e", "ansible_user=root"], self.env(site))

    def ssh_options(self) -> list[str]:
        """OpenSSH options of the floor: the lab's ssh config, batch mode."""
        return ["-F", str(self.lab.layout.ssh_config), "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10"]

    def close_masters(self, addresses: Iterable[str]) -> None:
        """Close every SSH master connection to these hosts (the lab config's, the floor's)."""
        control = self.state / "cm"
        for address in addresses:
            for user in sorted({self.user, "root"}):
                subprocess.run(["ssh", *self.ssh_options(), "-O", "exit", "-l", user, address],
                               capture_output=True, timeout=15, check=False)
                subprocess.run(["ssh", *self.ssh_options(), "-o", f"ControlPath={control}/%C",
                                "-O", "exit", "-l", user, address],
                               capture_output=True, timeout=15, check=False)

    def record(self, sample: Sample) -> Sample:
        """Keep a sample (with the CPU seconds of the run that made it) and print it."""
        sample.cpu_seconds = self.last_cpu
        self.samples.append(sample)
        bits = [f"{sample.seconds:.1f} s", f"CPU {sample.cpu_seconds:.1f} s",
                f"peak {sample.peak_rss_mib:.0f} MiB"]
        if sample.changes is not None:
            bits.append(f"{sample.changes} changes")
        if sample.passed is not None:
            bits.append(f"{sample.passed} passed, {sample.failed} failed")
        if sample.requests is not None:
            bits.append(f"{sample.requests} requests")
        where = f"n={sample.n} " if sample.n else ""
        flag = f"  NOT OK: {sample.note}" if not sample.ok else (
            f"  ({sample.note})" if sample.note else "")
        self.log(f"{where}rep {sample.rep}: {sample.engine} {sample.phase}: "
                 f"{', '.join(bits)}{flag}")
        if not sample.ok:
            self.problems.append(f"{sample.engine} {sample.phase} n={sample.n} rep "
                                 f"{sample.rep}: {sample.note}")
            gone = sorted(h for h in self.running if not host_running(self.lab.layout, h))
            if gone:
                raise BenchError(f"bench hosts {', '.join(gone)} are gone (did someone run "
                                 "`make lab-down`?): stopping")
        return sample

    # -- hosts -----------------------------------------------------------------------------------

    def check_addresses(self) -> None:
        """Refuse to start when another lab host (not a bench one) uses a bench address.

        Raises:
            BenchError: a host of another inventory has one of the bench addresses.
        """
        ours = {h.name for h in self.lab.hosts}
        wanted = {str(h.address) for h in self.lab.hosts}
        hosts_dir = self.lab.layout.hosts
        for other in sorted(p.name for p in hosts_dir.iterdir()) if hosts_dir.is_dir() else []:
            if other in ours:
                continue
            upper = host_paths(self.lab.layout, other).upper
            network = upper / "etc/systemd/network/10-host0.network"
            text = network.read_text(errors="replace") if network.is_file() else ""
            for line in text.splitlines():
                if line.startswith("Address=") and line[8:].split("/")[0] in wanted:
                    raise BenchError(f"lab host {other} uses {line[8:]}, a bench address: "
                                     "the bench needs .150-.169 of the lab subnet for itself")

    def clone(self, source: str, address: str, targets: Iterable[str]) -> None:
        """Give each new host a copy of a converged host's overlay layer before it first boots.

        The source is powered off first, so that what CUPS, dpkg and the journal write lazily
        is on its disk (a copy of a running host once missed its print queue); the next
        ``up`` powers it on again with its disk kept. The lab's ``up`` keeps a stopped host's
        layer when it was made on the current base image and writes the host's own name,
        address and keys over it, so each copy boots as a converged public PC with its own
        identity (a new machine id and SSH host keys).

        Raises:
            BenchError: the source did not power off, or a copy failed.
        """
        layout = self.lab.layout
        origin = host_paths(layout, source)
        began = time.monotonic()
        self.close_masters([address])
        subprocess.run(["ssh", *self.ssh_options(), f"root@{address}", "systemctl poweroff"],
                       capture_output=True, timeout=30, check=False)
        while host_running(layout, source):
            if time.monotonic() - began > SESSION_TIMEOUT:
                raise BenchError(f"{source} did not power off in {SESSION_TIMEOUT} s")
            time.sleep(0.5)
        self.setup["clone"] = round(self.setup.get("clone", 0) + time.monotonic() - began, 1)
        with exclusive(layout.lock_file):
            for target in targets:
                began = time.monotonic()
                copy = host_paths(layout, target)
                if copy.root.exists():
                    raise BenchError(f"{copy.root} exists: a bench host left by another run?")
                copy.upper.mkdir(parents=True)
                excludes = [f"--exclude={pattern}" for pattern in CLONE_EXCLUDES]
                common = ["--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner"]
                reader = subprocess.Popen(["tar", "-C", str(origin.upper), *common, *excludes,
                                           "-cf", "-", "."], stdout=subprocess.PIPE)
                writer = subprocess.run(["tar", "-C", str(copy.upper), *common, "-xpf", "-"],
                                        stdin=reader.stdout, capture_output=True, check=False)
                reader.stdout.close()
                if reader.wait() != 0 or writer.returncode != 0:
                    raise BenchError(f"copying {source}'s disk to {target} failed: "
                                     f"{writer.stderr.decode(errors='replace')[-500:]}")
                shutil.copy2(origin.base, copy.base)
                seconds = time.monotonic() - began
                self.setup["clone"] = round(self.setup.get("clone", 0) + seconds, 1)
                self.log(f"{target}: copy of {source}'s disk ({seconds:.1f} s)")

    def wait_sessions(self, hosts: dict[str, str]) -> None:
        """Wait until each host's patron kiosk session runs (the suites check it), then 5 s.

        Raises:
            BenchError: a host has no session after :data:`SESSION_TIMEOUT` seconds.
        """
        began = time.monotonic()
        waiting = dict(hosts)
        while waiting and time.monotonic() - began < SESSION_TIMEOUT:
            for name, address in list(waiting.items()):
                proc = subprocess.run(["ssh", *self.ssh_options(), f"root@{address}",
                                       "pgrep -x xfce4-session >/dev/null"],
                                      capture_output=True, timeout=30, check=False)
                if proc.returncode == 0:
                    del waiting[name]
            if waiting:
                time.sleep(2)
        if waiting:
            raise BenchError(f"no kiosk session on {', '.join(waiting)} after "
                             f"{SESSION_TIMEOUT} s")
        time.sleep(5)
        self.setup["sessions"] = round(self.setup.get("sessions", 0)
                                       + time.monotonic() - began, 1)

    # -- measured runs ---------------------------------------------------------------------------

    def floor(self, n: int, rep: int, hosts: dict[str, str], master: bool) -> Sample:
        """One trivial command on every host in parallel (see the module docstring)."""
        phase = "floor-cm-on" if master else "floor-cm-off"
        control = self.state / "cm"
        control.mkdir(exist_ok=True)
        options = self.ssh_options() + (
            ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}/%C",
             "-o", "ControlPersist=300"] if master else
            ["-o", "ControlMaster=no", "-o", "ControlPath=none"])
        script = "pids=''\n" + "".join(
            f"{shlex.join(['ssh', *options, f'{self.user}@{a}', 'true'])} & pids=\"$pids $!\"\n"
            for a in hosts.values()) + "rc=0\nfor p in $pids; do wait $p || rc=1; done\nexit $rc\n"
        self.close_masters(hosts.values())
        out = self.run_dir(f"{phase}-n{n}-r{rep}")
        if master:  # open the masters first (not measured)
            self.execute(["sh", "-c", script], dict(os.environ), out, "open-masters.log")
        load = os.getloadavg()[0]
        seconds, status, peak = self.execute(["sh", "-c", script], dict(os.environ), out)
        self.close_masters(hosts.values())
        return self.record(Sample("ssh", phase, n, rep, seconds, status, ok=status == 0,
                                  peak_rss_mib=peak, load=load,
                                  note="" if status == 0 else "an ssh command failed"))

    def pyinfra(self, phase: str, n: int, rep: int, site: Path, addresses: Iterable[str]) -> Sample:
        """The public-PC deploy, run as the pipeline runs it (``Pipeline.pyinfra``)."""
        self.close_masters(addresses)
        out = self.run_dir(f"pyinfra-{phase}-{site.name}-r{rep}")
        load = os.getloadavg()[0]
        argv = [str(BIN / "pyinfra"), "--json", "-y", "deploy/inventory.py",
                "deploy/public_pc.py", "--limit", "public_pcs"]
        seconds, status, peak = self.execute(argv, self.env(site), out, "pyinfra-public_pc.json")
        return self.record(self._engine_sample("pyinfra", phase, n, rep, seconds, status, peak,
                                               load, out))

    def ansible(self, phase: str, n: int, rep: int, site: Path, addresses: Iterable[str]) -> Sample:
        """The Ansible equivalent (``tests/bench/public_pc.yml``), recap via libraryops_stats."""
        self.close_masters(addresses)
        out = self.run_dir(f"ansible-{phase}-{site.name}-r{rep}")
        control = self.state / "cp" / str(self._sequence)  # short: it goes into socket paths
        control.mkdir(parents=True)
        env = self.env(site, LIBRARYOPS_ANSIBLE_STATS=str(out / "ansible-public_pc.json"),
                       ANSIBLE_SSH_CONTROL_PATH_DIR=str(control))
        load = os.getloadavg()[0]
        argv = [str(BIN / "ansible-playbook"), "-i", str(site / "hosts.yml"), PLAYBOOK]
        seconds, status, peak = self.execute(argv, env, out)
        for socket_path in control.iterdir():  # its masters would outlive the run by 60 s
            subprocess.run(["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "bench"],
                           capture_output=True, timeout=15, check=False)
        return self.record(self._engine_sample("ansible", phase, n, rep, seconds, status, peak,
                                               load, out))

    def _engine_sample(self, engine: str, phase: str, n: int, rep: int, seconds: float,
                       status: int, peak: float, load: float, out: Path) -> Sample:
        try:
            rows = report.summarize(out, junit=None)
        except (OSError, ValueError, KeyError) as exc:
            rows, note = {}, f"no readable result ({exc})"
        else:
            note = ""
        changes = sum(r.changes.get(engine, 0) for r in rows.values())
        failures = sum(r.engine_failures + r.unreachable for r in rows.values())
        if status != 0 or failures:
            note = note or f"exit {status}, {failures} failed operations or unreachable hosts"
        elif len(rows) != n:
            note = f"results for {len(rows)} hosts, expected {n}"
        elif phase == "noop" and changes:
            note = f"not a no-op: {changes} changes (see {out})"
        elif phase == "cold" and not changes:
            note = "a cold converge that changed nothing: the hosts were not fresh"
        return Sample(engine, phase, n, rep, seconds, status, ok=not note, peak_rss_mib=peak,
                      changes=changes, load=load, note=note)

    def verify(self, n: int, rep: int, site: Path, addresses: Iterable[str], workers: int,
               phase: str | None = None) -> Sample:
        """``make verify``'s testinfra run of the public-PC suites (serial or ``-n workers``)."""
        phase = phase or ("verify-xdist" if workers > 1 else "verify-serial")
        self.close_masters(addresses)
        out = self.run_dir(f"{phase}-{site.name}-r{rep}")
        argv = testinfra_argv(SUITES, site / "hosts.yml", out / "testinfra.xml", workers)
        load = os.getloadavg()[0]
        seconds, status, peak = self.execute(argv, self.env(site), out)
        junit = out / "testinfra.xml"
        rows = report.summarize(out, pyinfra=[], ansible=False) if junit.is_file() else {}
        passed = sum(r.passed for r in rows.values())
        failed = sum(r.failed for r in rows.values())
        # The run is measured when pytest ran the suites; failed checks are the suites' news,
        # reported as a note (a timing is still a timing), except for the Ansible proof.
        ok = status in (0, 1) and passed > 0
        note = "" if ok else f"pytest exit {status}, {passed} passed (see {out})"
        if ok and failed:
            names = [f"{case.get('name')}" for case in ET.parse(junit).getroot().iter("testcase")
                     if case.find("failure") is not None or case.find("error") is not None]
            note = f"{failed} check(s) failed: {', '.join(names)}"
            if phase != "proof":
                self.notes.append(f"testinfra {phase} n={n} rep {rep}: {note}")
        return self.record(Sample("testinfra", phase, n, rep, seconds, status, ok=ok,
                                  peak_rss_mib=peak, passed=passed, failed=failed, load=load,
                                  note=note))

    def azure_setup(self) -> None:
        """Write a generated 50-resource spec, start a private stand-in, apply it once."""
        site = self.state / "azure" / "bench-azure"
        site.mkdir(parents=True)
        (site / "azure.yml").write_text(yaml.safe_dump(azure_document(), sort_keys=False))
        azure_spec.load(site)  # the generator must make a valid spec
        standin.start(self.standin_dir)
        self.azure_site = site
        self.azure_run("apply", 1)

    def azure_plan(self, rep: int) -> None:
        """One plan of the applied spec (it must show no change), within the time budget."""
        if self.fits("azure", "plan", None, rep):
            self.azure_run("plan", rep)

    def azure_run(self, phase: str, rep: int) -> Sample:
        """``python -m libraryops.cloud <phase>`` against the private stand-in, with the number
        of HTTP requests it answered (the stand-in logs one line per request; its
        ``/_standin/stats`` counter leaves out the long-running-operation polls)."""
        log = self.standin_dir / "standin.log"

        def requests() -> int:
            text = log.read_text(errors="replace") if log.is_file() else ""
            return len(_REQUEST_LINE.findall(text))

        out = self.run_dir(f"azure-{phase}-r{rep}")
        argv = [str(BIN / "python"), "-m", "libraryops.cloud", phase, "--site",
                self.azure_site.name, "--inventory", str(self.azure_site),
                "--standin-dir", str(self.standin_dir), "--auth", "lab", "--report-dir", str(out)]
        before = requests()
        load = os.getloadavg()[0]
        seconds, status, peak = self.execute(argv, self.env(self.sweep), out)
        count = requests() - before
        note = "" if status == 0 else f"exit {status} (see {out})"
        if phase == "plan" and not note:
            items = json.loads((out / "azure-plan.json").read_text())["items"]
            if len(items) != AZURE_RESOURCES:
                note = f"{len(items)} plan items, expected {AZURE_RESOURCES}"
        return self.record(Sample("azure", phase, None, rep, seconds, status, ok=not note,
                                  peak_rss_mib=peak, requests=count, load=load, note=note))

    # -- the sequence ----------------------------------------------------------------------------

    def run(self) -> None:
        """Everything, in order (see the module docstring); hosts are removed by :meth:`cleanup`.

        Raises:
            BenchError: a setup step failed.
        """
        self.check_addresses()
        self.lab_cli("down", self.sweep, only=True)  # leftovers of an interrupted run
        cold = dict(list(self.pub.items())[:COLD_N])
        fresh = write_set(self.state, "fresh", {**cold, **self.ans})
        self.lab_cli("up", fresh)
        self.bootstrap(fresh)
        pyinfra_cold = write_set(self.state, "cold-pyinfra", cold)
        if self.noop_only:
            self.setup_step("converge-pyinfra", [
                str(BIN / "pyinfra"), "--json", "-y", "deploy/inventory.py",
                "deploy/public_pc.py", "--limit", "public_pcs"], self.env(pyinfra_cold))
        else:
            self.pyinfra("cold", COLD_N, 1, pyinfra_cold, cold.values())
            self.prove_ansible()
        source = next(iter(cold))
        largest = max(self.counts)
        if largest > COLD_N:  # every host the largest N needs, up once for all rounds
            self.clone(source, self.pub[source], list(self.pub)[COLD_N:largest])
            for end in range(COLD_N, largest, BOOT_BATCH):  # a few at a time: no boot storm
                batch = dict(list(self.pub.items())[:min(end + BOOT_BATCH, largest)])
                self.lab_cli("up", write_set(self.state, f"up{len(batch):02d}", batch))
        self.wait_sessions(self.pub)
        sets = {n: write_set(self.state, f"n{n:02d}", dict(list(self.pub.items())[:n]))
                for n in self.counts}
        self.azure_setup()
        for rep in range(1, self.repeat + 1):
            for group in ("engines", "verify"):
                for n in self.counts:
                    self.measure(group, n, rep, sets[n], dict(list(self.pub.items())[:n]))
            self.azure_plan(rep)

    def prove_ansible(self) -> None:
        """The Ansible cold converge on its own fresh hosts, the suites on them, and a pyinfra
        run over them that must change nothing; then those hosts are removed."""
        site = write_set(self.state, "cold-ansible", self.ans)
        self.ansible("cold", COLD_N, 1, site, self.ans.values())
        self.wait_sessions(self.ans)
        checks = self.verify(COLD_N, 1, site, self.ans.values(), 1, phase="proof")
        cross = self.pyinfra("cross", COLD_N, 1, site, self.ans.values())
        self.samples.remove(checks)  # facts for the report, not table rows
        self.samples.remove(cross)
        self.proof = {"hosts": sorted(self.ans), "passed": checks.passed, "failed": checks.failed,
                      "suites_ok": checks.ok, "pyinfra_changes_on_them": cross.changes,
                      "pyinfra_ok": cross.ok and cross.changes == 0}
        if not checks.ok or checks.failed:
            self.problems.append(f"the Ansible equivalent failed the public-PC suites: "
                                 f"{checks.note}")
        if cross.changes:
            self.problems.append(f"pyinfra changed {cross.changes} things on the Ansible-"
                                 "converged hosts: the two are not the same work")
        self.lab_cli("down", site, only=True)

    def measure(self, group: str, n: int, rep: int, site: Path, hosts: dict[str, str]) -> None:
        """One repetition of a group of phases at one N: ``engines`` (the floors, pyinfra and
        Ansible) or ``verify`` (testinfra serial and xdist).

        A repetition goes over the engines at every N, then the verify runs at every N, before
        the next one starts: noise spreads evenly over engines and counts, and when the time
        budget runs short the runs it skips (see :meth:`fits`) are the verify runs first.
        """
        addresses = list(hosts.values())
        steps = [
            ("ssh", "floor-cm-off", lambda: self.floor(n, rep, hosts, master=False)),
            ("ssh", "floor-cm-on", lambda: self.floor(n, rep, hosts, master=True)),
            ("pyinfra", "noop", lambda: self.pyinfra("noop", n, rep, site, addresses)),
            ("ansible", "noop", lambda: self.ansible("noop", n, rep, site, addresses)),
        ] if group == "engines" else [
            ("testinfra", "verify-serial", lambda: self.verify(n, rep, site, addresses, 1)),
            ("testinfra", "verify-xdist",
             lambda: self.verify(n, rep, site, addresses, XDIST_WORKERS)),
        ]
        for engine, phase, step in steps:
            if self.fits(engine, phase, n, rep):
                step()

    def fits(self, engine: str, phase: str, n: int | None, rep: int) -> bool:
        """Whether one more run of a phase fits the time budget (the first run always does).

        The estimate is the phase's slowest run so far at this N plus 5 s, and
        :data:`CLEANUP_RESERVE` seconds stay free for removing the hosts. A skipped run is
        counted for the report.
        """
        if rep == 1 or not self.budget:
            return True
        done = [s.seconds for s in self.samples if (s.engine, s.phase, s.n) == (engine, phase, n)]
        needed = max(done, default=0) + 5 + CLEANUP_RESERVE
        if time.monotonic() - self.started + needed <= self.budget:
            return True
        key = f"{engine}/{phase}/{'' if n is None else n}"
        self.skipped[key] = self.skipped.get(key, 0) + 1
        self.log(f"n={n} rep {rep}: {engine} {phase}: skipped, it would overrun the "
                 f"{self.budget / 60:.0f}-minute budget")
        return False

    def cleanup(self) -> None:
        """Kill engine runs still going, close master connections, remove every bench host and
        stop the private ARM stand-in. Safe to call when setup never finished."""
        for pid in list(self._running):
            _kill_group(pid)
        try:
            self.close_masters(str(h.address) for h in self.lab.hosts)
        except (OSError, subprocess.SubprocessError):
            pass
        argv = [str(BIN / "python"), "-m", "libraryops.lab", "down", "--only-these-hosts",
                "--site-dir", str(self.sweep)]
        proc = subprocess.run(argv, cwd=paths.REPO, capture_output=True, text=True, check=False)
        print(proc.stdout.strip() or proc.stderr.strip(), flush=True)
        if proc.returncode != 0:
            self.problems.append(f"removing the bench hosts failed: {proc.stderr.strip()}")
        standin.stop(self.standin_dir, clear=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# -- the report ----------------------------------------------------------------------------------


def summarize(samples: list[Sample], skipped: dict[str, int] | None = None) -> list[Row]:
    """Group samples into table rows, ordered by phase then N, with both ratios filled in.

    Args:
        samples: every measured run.
        skipped: ``"engine/phase/n"`` -> runs skipped for the time budget.
    """
    groups: dict[tuple[str, str, int | None], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.engine, sample.phase, sample.n), []).append(sample)
    rows = []
    for (engine, phase, n), found in groups.items():
        seconds = [s.seconds for s in found]
        changes = [s.changes for s in found if s.changes is not None]
        counted = [s.requests for s in found if s.requests is not None]
        rows.append(Row(engine, phase, n, len(found), round(statistics.median(seconds), 2),
                        min(seconds), max(seconds),
                        peak_rss_mib=max(s.peak_rss_mib for s in found),
                        changes=sum(changes) if changes else None,
                        failed_runs=sum(not s.ok for s in found),
                        requests=statistics.median(counted) if counted else None,
                        skipped=(skipped or {}).get(f"{engine}/{phase}/{'' if n is None else n}",
                                                    0),
                        cpu=round(statistics.median(s.cpu_seconds for s in found), 1),
                        label=PHASES.get((engine, phase), phase)))
    floors = {r.n: r.median for r in rows if r.phase == "floor-cm-off"}
    medians = {(r.engine, r.phase, r.n): r.median for r in rows}
    for row in rows:
        if row.n in floors and floors[row.n] > 0 and row.engine != "azure":
            ratio = row.median / floors[row.n]
            row.floor_ratio = round(ratio, 1 if ratio >= 1 else 2)
        other = medians.get(("ansible", row.phase, row.n))
        if row.engine == "pyinfra" and other:
            row.pyinfra_ansible = round(row.median / other, 2)
    order = list(PHASES)
    rows.sort(key=lambda r: (order.index((r.engine, r.phase)) if (r.engine, r.phase) in order
                             else len(order), r.n or 0))
    return rows


def format_table(rows: list[Row], largest: int) -> str:
    """The rows as a Markdown table (peak memory shown at the largest N and for Azure)."""
    header = ("| engine | phase | N | runs | median s | min–max s | × floor | pyinfra/Ansible "
              "| controller CPU s | changes | peak RSS MiB |")
    lines = [header, "|" + "---|" * 11]
    for r in rows:
        memory = f"{r.peak_rss_mib:.0f}" if r.n in (largest, None) else ""
        changes = "" if r.changes is None else str(r.changes)
        if r.requests is not None:
            changes = f"{r.requests:.0f} HTTP requests"
        flag = f" ({r.failed_runs} not ok)" if r.failed_runs else ""
        if r.skipped:
            flag += f" ({r.skipped} skipped: time budget)"
        lines.append(
            f"| {r.engine} | {r.label}{flag} | {r.n if r.n is not None else '–'} | {r.runs} "
            f"| {r.median:.1f} | {r.low:.1f}–{r.high:.1f} "
            f"| {'' if r.floor_ratio is None else f'{r.floor_ratio:g}'} "
            f"| {'' if r.pyinfra_ansible is None else f'{r.pyinfra_ansible:.2f}'} "
            f"| {r.cpu:.1f} | {changes} | {memory} |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    """What the figures depend on: machine, load, versions, commit."""
    def output(argv: list[str]) -> str:
        proc = subprocess.run(argv, cwd=paths.REPO, capture_output=True, text=True, check=False)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if (
            proc.stdout or proc.stderr) else ""

    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE")
                                                    * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "pyinfra": version("pyinfra"), "ansible-core": version("ansible-core"),
        "pytest-xdist": version("pytest-xdist"), "openssh": output(["ssh", "-V"]),
        "commit": output(["git", "describe", "--always", "--dirty"]),
    }


def write_report(bench: Bench, directory: Path, info: dict[str, Any], total: float) -> Path:
    """Write ``bench-<date>.md`` and ``.json`` into ``directory``; return the .md path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = summarize(bench.samples, bench.skipped)
    largest = max(bench.counts)
    hosts = sorted(bench.pub)[:largest]
    fresh = COLD_N
    hosts_note = f"{', '.join(hosts[:fresh])} converged by pyinfra"
    if len(hosts) > fresh:
        hosts_note += f", {hosts[fresh]}…{hosts[-1]} copies of {hosts[0]}'s disk"
    lines = [
        f"# libraryops bench, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
        f"N = {' '.join(map(str, bench.counts))}, up to {bench.repeat} run(s) per phase"
        f"{f' within a {bench.budget / 60:.0f}-minute budget' if bench.budget else ''}"
        f"{', no-op phases only (smoke)' if bench.noop_only else ''}; total "
        f"{total / 60:.1f} min. Machine: {info['cpus']} CPUs, {info['memory_gib']} GiB, "
        f"load average at start {info['load_start']:.1f}, at end {info['load_end']:.1f} "
        "(shared with other work: read ratios, not absolute seconds). Commit "
        f"{info['commit']}; pyinfra {info['pyinfra']}, ansible-core {info['ansible-core']}, "
        f"{info['openssh']}.", "",
        f"Hosts: {hosts_note}; all kiosk sessions running. Seconds are wall-clock; "
        "`× floor` is the median over "
        "the `floor-cm-off` median at the same N; `controller CPU s` is the median CPU time "
        "of the engine's own process tree (the hosts' share of the work is not in it: here the "
        "hosts run on the same cores, on real PCs each on its own); `changes` is the sum over "
        "the runs (no-op runs must be 0); peak RSS is shown at the largest N.", "",
        format_table(rows, largest), "",
        "## SSH settings", "",
        *[f"- **{engine}**: {text}" for engine, text in SSH_SETTINGS.items()], "",
    ]
    if bench.proof:
        p = bench.proof
        lines += ["## The Ansible equivalent does the same work", "",
                  f"- `{PLAYBOOK}` converged fresh hosts {', '.join(p['hosts'])}: the public-PC "
                  f"suites passed {p['passed']} checks, failed {p['failed']};",
                  f"- pyinfra over those Ansible-converged hosts changed "
                  f"{p['pyinfra_changes_on_them']} things, and every Ansible no-op run above "
                  "ran over pyinfra-converged hosts (its `changes`).", ""]
    lines += ["## Setup (not measured in the table)", "",
              ", ".join(f"{k} {v:.0f} s" for k, v in bench.setup.items()) + ".", ""]
    if bench.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in bench.notes], ""]
    if bench.problems:
        lines += ["## Problems", "", *[f"- {p}" for p in bench.problems], ""]
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / f"bench-{stamp}.md"
    markdown.write_text("\n".join(lines), encoding="utf-8")
    document = {"date": stamp, "counts": bench.counts, "repeat": bench.repeat,
                "noop_only": bench.noop_only, "total_seconds": round(total, 1),
                "environment": info, "ssh_settings": SSH_SETTINGS, "phases": {
                    f"{e}/{p}": label for (e, p), label in PHASES.items()},
                "rows": [asdict(r) for r in rows], "samples": [asdict(s) for s in bench.samples],
                "proof": bench.proof, "setup_seconds": bench.setup, "notes": bench.notes,
                "problems": bench.problems,
                "budget_seconds": bench.budget, "skipped": bench.skipped}
    markdown.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n",
                                             encoding="utf-8")
    print("\n" + format_table(rows, largest) + "\n", flush=True)
    return markdown


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """CLI (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="2 5 10", help='host counts N (default "2 5 10")')
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (default 3)")
    parser.add_argument("--noop-only", action="store_true",
                        help="the smoke: no cold converges, no Ansible proof")
    parser.add_argument("--budget-minutes", type=float, default=19,
                        help="minutes the run should take: repetitions that would overrun it "
                             "are skipped and the report says so (0: no limit; default 19)")
    parser.add_argument("--report-dir", type=Path, default=paths.REPORTS)
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.hosts.replace(",", " ").split()]
    except ValueError:
        parser.error(f"--hosts: {args.hosts!r} is not a list of numbers")
    if not counts or min(counts) < 1 or args.repeat < 1:
        parser.error("--hosts needs counts >= 1 and --repeat >= 1")
    if os.geteuid() != 0:
        print("bench: needs root (the lab makes mounts and links)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _terminate)
    with open(LOCK_FILE, "w") as lock:
        if not _locked(lock):
            print(f"bench: another bench runs (lock {LOCK_FILE}); waiting for it", flush=True)
            deadline = time.monotonic() + LOCK_TIMEOUT
            while not _locked(lock):
                if time.monotonic() > deadline:
                    print(f"bench: another bench still runs after {LOCK_TIMEOUT / 60:.0f} min",
                          file=sys.stderr)
                    return 1
                time.sleep(2)
        return _main(args, counts)


def _locked(handle: Any) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _main(args: argparse.Namespace, counts: list[int]) -> int:
    began = time.monotonic()
    load_start = os.getloadavg()[0]
    state = Path(tempfile.mkdtemp(prefix="libraryops-bench-"))
    bench = None
    failed = False
    try:
        bench = Bench(counts, args.repeat, args.noop_only, state, args.budget_minutes * 60)
        bench.run()
    except (BenchError, LabError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        failed = True
    except (KeyboardInterrupt, SystemExit):
        print("bench: interrupted", file=sys.stderr)
        failed = True
    finally:
        if bench is not None:
            bench.cleanup()
    if bench is None or not bench.samples:
        print(f"bench: nothing measured; run files kept in {state}", file=sys.stderr)
        return 1
    info = {**environment(), "load_start": load_start, "load_end": os.getloadavg()[0]}
    markdown = write_report(bench, args.report_dir, info, time.monotonic() - began)
    if failed or bench.problems:
        for problem in bench.problems:
            print(f"bench: problem: {problem}", file=sys.stderr)
        print(f"bench: run files kept in {state}", file=sys.stderr)
    else:
        shutil.rmtree(state, ignore_errors=True)
    print(f"bench: {markdown} and {markdown.with_suffix('.json').name} "
          f"({(time.monotonic() - began) / 60:.1f} min)", flush=True)
    return 1 if failed or bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
