"""Setting up and removing the bench's hosts: the lab tool, bootstrap, copies of a converged disk,
the kiosk sessions, SSH masters.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import yaml

from libraryops import paths
from libraryops.cloud import standin
from libraryops.engines import BIN
from libraryops.lab.hosts import host_paths
from libraryops.lab.hosts import running as host_running
from libraryops.lab.system import exclusive
from tools.bench.sampling import kill_group
from tools.bench.settings import (
    CLONE_EXCLUDES,
    SESSION_TIMEOUT,
    BenchError,
)


class LabHosts:
    """The host steps of :class:`tools.bench.runner.Bench` (a mixin: the attributes are the
    bench's)."""

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


    def cleanup(self) -> None:
        """Kill engine runs still going, close master connections, remove every bench host and
        stop the private ARM stand-in. Safe to call when setup never finished."""
        for pid in list(self._running):
            kill_group(pid)
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
