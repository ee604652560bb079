"""The bench's fixed settings (hosts, phases, timeouts, each engine's SSH use) and its records
(a measured run, a row of the table).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from libraryops import paths

LAB_SITE = paths.INVENTORIES / "lab"
#: The lab site's group_vars a public PC needs (copied into the bench inventory).
COPIED_GROUPS = ("all", "branch_main", "public_pcs")
PLAYBOOK = "tools/bench/public_pc.yml"
#: The Ansible playbooks measured, by the engine name their rows carry: the public-PC
#: equivalent (against pyinfra's deploy) and the baseline every Linux host gets.
PLAYBOOKS = {"ansible": PLAYBOOK, "baseline": "playbooks/site.yml"}
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
LOCK_FILE = Path("/run/lock/libraryops-bench.lock")  # held with the lab's lock helper
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

#: (engine, phase) -> what the row says. Engines: ssh, pyinfra, ansible (the public-PC
#: equivalent), baseline (Ansible's site.yml), testinfra, azure.
PHASES = {
    ("ssh", "floor-cm-off"): "floor: `true` on every host, ControlMaster off (new connections)",
    ("ssh", "floor-cm-on"): "floor: `true` on every host, ControlMaster on (master open)",
    ("pyinfra", "cold"): "cold converge, warm package cache",
    ("ansible", "cold"): "cold converge, warm package cache",
    ("pyinfra", "noop"): "no-op re-converge",
    ("ansible", "noop"): "no-op re-converge",
    ("baseline", "cold"): "site.yml, every host's roles: cold converge, warm package cache",
    ("baseline", "noop"): "site.yml, every host's roles: no-op re-converge",
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
    "baseline": "as ansible (the same ansible.cfg), with playbooks/site.yml",
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
