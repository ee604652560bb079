"""Lab hosts: an overlay root per host, systemd-nspawn run by the machine's owner, SSH checks.

Who runs a host's nspawn is :mod:`libraryops.lab.owner`'s decision: a transient systemd unit
where systemd is PID 1, else a detached supervisor in per-host cgroups.

Per host, ``<state>/hosts/<name>/`` holds ``upper/`` and ``work/`` (the host's own changes),
``merged/`` (the overlay mount the container boots from), ``base`` (the image id the upper
layer was made on), ``supervisor.pid`` (machines without systemd) and ``veth`` (nspawn's
machine-side link of the host); its console goes to ``<state>/logs/<name>.log``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from libraryops.lab import cgroups, owner, render, supervisor
from libraryops.lab.config import LabConfig, LabHost, Layout
from libraryops.lab.image import Image
from libraryops.lab.system import (
    LabError,
    mounts,
    program,
    run,
    run_logged,
    write_file,
)
from libraryops.processes import process_cmdline, read_pid, tail, wait_until

SUPERVISOR = Path(supervisor.__file__)
#: Seconds a new host has to reach ``systemctl is-system-running`` = running.
BOOT_TIMEOUT = 120
#: Seconds a host has to power off after SIGTERM before its processes are killed.
STOP_TIMEOUT = 30


@dataclass(frozen=True)
class HostPaths:
    """The files of one host in the state directory."""

    root: Path

    upper = property(lambda self: self.root / "upper")
    work = property(lambda self: self.root / "work")
    merged = property(lambda self: self.root / "merged")
    base = property(lambda self: self.root / "base")
    pidfile = property(lambda self: self.root / "supervisor.pid")
    veth = property(lambda self: self.root / "veth")


def host_paths(layout: Layout, name: str) -> HostPaths:
    """Paths of one host."""
    return HostPaths(layout.host_dir(name))


def created_hosts(layout: Layout) -> list[str]:
    """Names of the hosts that have a directory in the state directory (any inventory)."""
    return sorted(p.name for p in layout.hosts.iterdir()) if layout.hosts.is_dir() else []


def known_hosts(layout: Layout) -> list[str]:
    """Every host the lab made on this machine: a directory, a unit or cgroups of its own."""
    started = owner.host_units() if owner.kind() == owner.SYSTEMD else cgroups.host_names()
    return sorted(set(created_hosts(layout)) | set(started))


def running(layout: Layout, name: str) -> bool:
    """Whether a host's nspawn runs (its unit is active, or its supervisor lives)."""
    if owner.kind() == owner.SYSTEMD:
        return owner.unit_active(owner.host_unit(name))
    return supervisor_pid(layout, name) is not None


#: Where a host's fixed address is written (:func:`write_identity`), relative to its root.
HOST0_NETWORK = "etc/systemd/network/10-host0.network"


def running_addresses(layout: Layout) -> dict[str, str]:
    """{address: host name} of the running lab hosts of any inventory (the lab, a molecule
    scenario, the bench), read from the ``Address=`` each was given in its overlay."""
    found = {}
    for name in created_hosts(layout):
        network = host_paths(layout, name).upper / HOST0_NETWORK
        if not network.is_file() or not running(layout, name):
            continue
        match = re.search(r"^Address=([0-9.]+)/", network.read_text(), re.MULTILINE)
        if match:
            found[match[1]] = name
    return found


def supervisor_pid(layout: Layout, name: str) -> int | None:
    """The pid of a host's running supervisor (machines without systemd), or None (a stale pid
    file is ignored)."""
    pid = read_pid(host_paths(layout, name).pidfile)
    if pid is None:
        return None
    command = process_cmdline(pid)
    ours = str(SUPERVISOR) in command or any(a.endswith("/supervisor.py") for a in command)
    return pid if ours and name in command else None


def nspawn_command(nspawn: str, bridge: str, host: LabHost, root: Path, kind: str) -> list[str]:
    """The systemd-nspawn command that boots one host.

    ``--keep-unit`` always: nspawn's cgroups go under its caller's, which is the host's own
    delegated unit (systemd) or its own cgroups (supervisor). With systemd the host registers
    with systemd-machined and links its journal when it can (``machinectl``, ``journalctl -M``);
    without systemd there is no machined or system bus to register with (``--register=no``).
    """
    if kind == owner.SYSTEMD:
        per_kind = ["--link-journal=try-guest"]
    else:
        per_kind = ["--link-journal=no", "--register=no"]
    return [
        nspawn, f"--directory={root}", f"--machine={host.name}", "--boot",
        f"--network-bridge={bridge}", "--resolv-conf=off", *per_kind,
        "--timezone=off", "--keep-unit", "--console=read-only",
    ]


def prepare(config: LabConfig, host: LabHost, image: Image) -> str:
    """Mount a stopped host's overlay and write its identity files; return "new" or "kept".

    A host whose upper layer was made on another image version starts afresh; otherwise its
    disk is kept (a powered-off host powers on again with its changes).
    """
    paths = host_paths(config.layout, host.name)
    unmount(paths.root)
    kept = paths.base.is_file() and paths.base.read_text().strip() == image.image_id
    if not kept:
        remove_dir(paths.root)
    for directory in (paths.upper, paths.work, paths.merged):
        directory.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={image.lower},upperdir={paths.upper},workdir={paths.work}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, str(paths.merged)])
    write_file(paths.base, image.image_id + "\n")
    write_identity(config, host, paths.merged)
    return "kept" if kept else "new"


def write_identity(config: LabConfig, host: LabHost, root: Path) -> None:
    """Write a host's name, hosts file, empty resolv.conf, networkd file and root's SSH key.

    Raises:
        LabError: a path inside the host resolves outside its root (a symlink planted there).
    """
    files = {
        "etc/hostname": (host.name + "\n", 0o644),
        "etc/hosts": (render.etc_hosts(host.name, config.hosts), 0o644),
        "etc/resolv.conf": ("", 0o644),
        HOST0_NETWORK: (render.networkd_host0(host, config.network), 0o644),
        "root/.ssh/authorized_keys": (config.layout.public_key.read_text(), 0o600),
    }
    for relative, (text, mode) in files.items():
        path = root / relative
        _check_inside(root, path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, text, mode)
    (root / "root/.ssh").chmod(0o700)


def boot(config: LabConfig, host: LabHost) -> None:
    """Start a host's nspawn without waiting for its boot: as a transient unit (systemd), else
    under a detached supervisor in the host's own cgroups.

    Raises:
        LabError: the unit or the supervisor did not start (the message shows the host's log).
    """
    layout = config.layout
    paths = host_paths(layout, host.name)
    log = layout.host_log(host.name)
    kind = owner.kind()
    nspawn = nspawn_command(program("systemd-nspawn"), config.bridge, host, paths.merged, kind)
    if kind == owner.SYSTEMD:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        owner.start_host_unit(host.name, nspawn, log, BOOT_TIMEOUT, STOP_TIMEOUT)
        return
    groups = cgroups.create_host_groups(host.name)
    argv = [sys.executable, str(SUPERVISOR), "--name", host.name, "--pidfile", str(paths.pidfile)]
    argv += [arg for group in groups for arg in ("--cgroup", str(group))]
    status = run_logged([*argv, "--", *nspawn], log)
    if status != 0 or supervisor_pid(layout, host.name) is None:
        raise LabError(f"{host.name}: supervisor did not start; see {log}:\n{tail(log)}")


def ssh(
    config: LabConfig, host: LabHost, remote: list[str], timeout: float = 15
) -> subprocess.CompletedProcess[str]:
    """Run a command as root on a host with the lab's SSH config; return the CompletedProcess."""
    return run(
        ["ssh", "-F", str(config.layout.ssh_config), "-o", "BatchMode=yes",
         "-o", "ConnectTimeout=3", f"root@{host.address}", "--", shlex.join(remote)],
        timeout=timeout, check=False,
    )


def systemd_state(config: LabConfig, host: LabHost, wait: bool = False, timeout: float = 15) -> str:
    """``systemctl is-system-running`` on a host ("unreachable" when SSH fails)."""
    command = ["systemctl", "is-system-running", *(["--wait"] if wait else [])]
    try:
        proc = ssh(config, host, command, timeout=timeout)
    except LabError:
        return "unreachable"
    if proc.returncode == 255:
        return "unreachable"
    return proc.stdout.strip() or "unknown"


def wait_ready(config: LabConfig, hosts: list[LabHost], timeout: float = BOOT_TIMEOUT) -> None:
    """Wait until every host's systemd says "running".

    Raises:
        LabError: a host's nspawn stopped, it is not running after ``timeout`` seconds, or it
            is degraded (the message lists its failed units); each names the host's log.
    """
    deadline = time.monotonic() + timeout
    for host in hosts:
        state = _wait_one(config, host, deadline)
        log = config.layout.host_log(host.name)
        if state == "degraded" and _only_login_managers_failed(config, host):
            # The user manager of the lab's own root SSH login (user@0.service) can time out
            # starting on a loaded machine; it is not part of the host under test.
            ssh(config, host, ["systemctl", "reset-failed", "user@*.service"])
            state = systemd_state(config, host)
        if state == "degraded":
            units = ", ".join(_failed_units(config, host))
            raise LabError(f"{host.name}: systemd is degraded, failed units: {units}; see {log}")
        if state != "running":
            raise LabError(
                f"{host.name} ({host.address}): not ready after {timeout:g} s "
                f"(systemd: {state}); see {log}:\n{tail(log)}"
            )


def _failed_units(config: LabConfig, host: LabHost) -> list[str]:
    failed = ssh(config, host, ["systemctl", "--failed", "--plain", "--no-legend"])
    return [line.split()[0] for line in failed.stdout.splitlines() if line.strip()]


def _only_login_managers_failed(config: LabConfig, host: LabHost) -> bool:
    """Whether every failed unit is a per-login user manager (``user@<uid>.service``)."""
    units = _failed_units(config, host)
    return bool(units) and all(re.fullmatch(r"user@\d+\.service", u) for u in units)


def record_link(config: LabConfig, host: LabHost) -> None:
    """Remember a booted host's machine-side veth (nspawn names it; long names get a hash).

    nspawn deletes that link when it exits, but not when it is killed; then the link lives on
    as long as the dead host's network namespace (kept by orphaned TCP sockets), and the next
    boot fails with "Failed to add new veth interfaces ... File exists". :func:`stop` deletes it.
    """
    peer = ssh(config, host, ["cat", "/sys/class/net/host0/iflink"]).stdout.strip()
    links = json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]")
    for link in links:
        if str(link.get("ifindex")) == peer:
            write_file(host_paths(config.layout, host.name).veth, link["ifname"] + "\n")


def stop(layout: Layout, names: list[str]) -> list[str]:
    """Power hosts off and make sure nothing of them is left running.

    With systemd: ``systemctl stop`` of their units (SIGTERM to nspawn, a clean poweroff;
    systemd kills what is left after :data:`STOP_TIMEOUT` seconds); returns [].
    Without: SIGTERM goes to each host's supervisor (or, without one, its nspawn): a clean poweroff.
    After :data:`STOP_TIMEOUT` seconds, or at once for a host with neither (leftover container
    processes), everything in the host's cgroups gets SIGKILL. Returns the names of the hosts
    whose processes had to be killed.

    Raises:
        LabError: processes survive SIGKILL.
    """
    if owner.kind() == owner.SYSTEMD:
        owner.stop_units([owner.host_unit(n) for n in names], timeout=STOP_TIMEOUT + 30)
        for name in names:
            _remove_link(layout, name)
        return []
    polite = [n for n in names if _terminate(layout, n)]
    wait_until(lambda: not any(cgroups.host_pids(n) for n in polite), STOP_TIMEOUT, 0.2)
    killed = [n for n in names if cgroups.kill_host(n)]
    if not wait_until(lambda: not any(cgroups.host_pids(n) for n in names), 10, 0.2):
        raise LabError(f"processes of {', '.join(killed)} survive SIGKILL; see `ps` and retry")
    for name in names:
        _remove_link(layout, name)
    return killed


def unmount(directory: Path) -> None:
    """Unmount everything mounted under ``directory`` (deepest first; lazily when busy)."""
    inside = [m.target for m in mounts() if m.target.is_relative_to(directory)]
    for target in sorted(set(inside), key=lambda p: len(p.parts), reverse=True):
        if run(["umount", str(target)], check=False).returncode != 0:
            run(["umount", "-l", str(target)])


def remove_dir(directory: Path) -> None:
    """Delete a host directory, refusing while anything is mounted inside it.

    Raises:
        LabError: a mount is still inside (deleting would reach into it).
    """
    if any(m.target.is_relative_to(directory) for m in mounts()):
        raise LabError(f"{directory}: still has mounts inside; not deleting it")
    if directory.exists():
        shutil.rmtree(directory)


def _wait_one(config: LabConfig, host: LabHost, deadline: float) -> str:
    state = "unreachable"
    while time.monotonic() < deadline:
        if not running(config.layout, host.name):
            log = config.layout.host_log(host.name)
            raise LabError(f"{host.name}: nspawn stopped during boot; see {log}:\n{tail(log)}")
        remaining = max(deadline - time.monotonic(), 1)
        state = systemd_state(config, host, wait=True, timeout=remaining)
        if state not in ("unreachable", "starting", "initializing"):
            return state
        time.sleep(0.3)
    return state


def _terminate(layout: Layout, name: str) -> bool:
    """SIGTERM a host's supervisor, else its nspawn; False when there is neither."""
    pid = supervisor_pid(layout, name)
    targets = [pid] if pid is not None else [
        p for p in cgroups.host_pids(name)
        if os.path.basename((process_cmdline(p) or [""])[0]) == "systemd-nspawn"
    ]
    for target in targets:
        try:
            os.kill(target, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return bool(targets)


def _remove_link(layout: Layout, name: str) -> None:
    veth = host_paths(layout, name).veth
    link = veth.read_text().strip() if veth.is_file() else ""
    if link and Path("/sys/class/net", link).exists():
        run(["ip", "link", "delete", "dev", link], check=False)
    veth.unlink(missing_ok=True)


def _check_inside(root: Path, path: Path) -> None:
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
        raise LabError(f"{path} resolves outside the host's root {root}; not writing there")
