"""The lab commands: keys, up, down, status (each phase prints one line with its seconds).

``up`` and ``down`` also serve throwaway hosts of other site directories (molecule scenarios)
on the same bridge: ``up`` starts only the hosts its site directory lists and leaves others
running, and ``down(..., only_these_hosts=True)`` removes only those hosts, keeping the shared
pieces and every other host.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from libraryops.cloud import standin
from libraryops.lab import cgroups, hosts, image, mail, network, owner, printer, proxy, render
from libraryops.lab.config import LabConfig, LabHost, Layout, load_config
from libraryops.lab.system import (
    LabError,
    exclusive,
    require_programs,
    require_root,
    run,
    timed,
    write_file,
)

#: Programs ``up`` needs (mmdebstrap is checked only when an image must be built).
UP_PROGRAMS = ("ip", "nft", "nginx", "systemd-nspawn", "ssh", "ssh-keygen", "mount", "umount",
               "ippeveprinter", "dbus-run-session", "ss")
#: Seconds the ARM stand-in has to write its endpoint.
ARM_START_TIMEOUT = 15


@dataclass(frozen=True)
class HostStatus:
    """One host as ``status`` sees it.

    Attributes:
        name: inventory name.
        address: its lab address.
        running: its supervisor (and so its nspawn) is running.
        systemd: ``systemctl is-system-running`` over SSH ("-" when stopped, "unreachable").
    """

    name: str
    address: str
    running: bool
    systemd: str


@dataclass(frozen=True)
class LabStatus:
    """The whole lab: hosts plus the shared pieces (bridge, nginx, printer and mail sink pids or
    None, nft table)."""

    hosts: list[HostStatus]
    bridge: bool
    nginx_pid: int | None
    nft_table: bool
    printer_pid: int | None = None
    mail_pid: int | None = None


def ssh_config_path(site_dir: Path | str) -> Path:
    """Path of the lab's ssh_config (``ssh -F``) for a site; it exists after ``keys``/``up``.

    Raises:
        LabError: the site's inventory or lab settings cannot be read.
    """
    return load_config(site_dir).layout.ssh_config


def keys(site_dir: Path | str) -> None:
    """Make the lab's ed25519 key pair if missing and (re)write its ssh_config.

    Raises:
        LabError: not root, ssh-keygen missing or failing, or bad inventory settings.
    """
    require_root()
    config = load_config(site_dir)
    timed("lab-keys", lambda: _ensure_keys(config))


def up(site_dir: Path | str) -> list[str]:
    """Bring the lab up: keys, bridge and nft table, nginx, printer, mail sink, base image, every
    inventory host.

    Idempotent: running hosts are left alone; a second call with everything up changes nothing.
    Returns the names of the hosts that are up.

    Raises:
        LabError: a prerequisite is missing (root, programs, a free subnet), a step failed, or
            a host did not reach systemd state "running" within 120 s (the message names the
            host and its log).
    """
    start = time.monotonic()
    require_root()
    require_programs(*UP_PROGRAMS)
    config = load_config(site_dir)
    layout = config.layout
    with exclusive(layout.lock_file):
        timed("lab-up", lambda: _ensure_keys(config))
        timed("lab-up", lambda: network.ensure_network(config))
        timed("lab-up", lambda: proxy.ensure_nginx(config))
        timed("lab-up", lambda: printer.ensure_printer(config))
        timed("lab-up", lambda: mail.ensure_mail(config))
        timed("lab-up", lambda: _ensure_arm(layout))
        bases = _timed_images(config)
        timed("lab-up", lambda: _start_hosts(config, bases))
    names = [h.name for h in config.hosts]
    print(f"lab-up: {len(names)} hosts up: {', '.join(names)} "
          f"({time.monotonic() - start:.1f} s)", flush=True)
    return names


def down(site_dir: Path | str, only_these_hosts: bool = False) -> None:
    """Remove every host, mount, cgroup, nginx, printer, mail sink, nft table and bridge the lab
    made.

    Keeps the cached base image, the package cache and the SSH key pair. Works when nothing or
    only part of the lab is up, and finds the lab through the machine-wide state directory
    whichever clone made it (hosts not in this inventory are removed too).

    With ``only_these_hosts``, removes only the hosts ``site_dir`` lists (e.g. a molecule
    scenario's) and leaves the shared pieces and every other host alone.

    Raises:
        LabError: not root, or something could not be removed (the message says what).
    """
    start = time.monotonic()
    require_root()
    require_programs("ip", "nft", "umount")
    config = load_config(site_dir)
    layout = config.layout
    if not layout.root.is_dir():
        print(f"lab-down: nothing to do, no {layout.root} ({time.monotonic() - start:.1f} s)")
        return
    with exclusive(layout.lock_file):
        if only_these_hosts:
            timed("lab-down", lambda: _remove_hosts(layout, config))
            print(f"lab-down: hosts of {site_dir} removed ({time.monotonic() - start:.1f} s)",
                  flush=True)
            return
        timed("lab-down", lambda: _remove_hosts(layout))
        timed("lab-down", lambda: _remove_shared(config))
    print(f"lab-down: lab is down ({time.monotonic() - start:.1f} s)", flush=True)


def status(site_dir: Path | str) -> LabStatus:
    """Report each inventory host (running, systemd state) and the shared pieces.

    Raises:
        LabError: not root or bad inventory settings.
    """
    require_root()
    config = load_config(site_dir)
    layout = config.layout
    found = []
    for host in config.hosts:
        running = hosts.running(layout, host.name)
        systemd = hosts.systemd_state(config, host, timeout=10) if running else "-"
        found.append(HostStatus(host.name, str(host.address), running, systemd))
    return LabStatus(
        hosts=found,
        bridge=network.bridge_exists(config.bridge),
        nginx_pid=proxy.nginx_pid(layout),
        nft_table=network.nft_table_exists(),
        printer_pid=printer.printer_pid(layout),
        mail_pid=mail.mail_pid(config),
    )


def _arm_daemon(layout: Layout) -> owner.Daemon:
    """The ARM stand-in as the lab's owner runs it (``standin serve`` in the foreground)."""
    return owner.Daemon.of(standin.daemon(layout.arm))


def _ensure_arm(layout: Layout) -> str:
    running = standin.status(layout.arm)
    if running is None:
        (layout.arm / "endpoint.json").unlink(missing_ok=True)
        owner.start_answering(_arm_daemon(layout), lambda: standin.status(layout.arm) is not None,
                              ARM_START_TIMEOUT, "the ARM stand-in did not start")
        running = standin.status(layout.arm)
    return f"ARM stand-in at {running['url']} (pid {running['pid']})"


def _ensure_keys(config: LabConfig) -> str:
    layout = config.layout
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.ssh_dir.mkdir(mode=0o700, exist_ok=True)
    layout.ssh_dir.chmod(0o700)
    made = not layout.private_key.is_file()
    if made:
        layout.public_key.unlink(missing_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "libraryops-lab",
             "-f", str(layout.private_key)])
    elif not layout.public_key.is_file():
        public = run(["ssh-keygen", "-y", "-f", str(layout.private_key)]).stdout
        write_file(layout.public_key, public)
    layout.private_key.chmod(0o600)
    changed = write_file(layout.ssh_config, render.ssh_config(config))
    key_note = "key pair made" if made else "key pair present"
    return f"{key_note}, ssh config {'written' if changed else 'unchanged'} ({layout.ssh_config})"


def _timed_images(config: LabConfig) -> dict[str, image.Image]:
    """The base image of every release the inventory's hosts run, built when missing."""
    result: dict[str, image.Image] = {}
    for release in sorted({h.release for h in config.hosts}):
        def build(release: str = release) -> str:
            base, note = image.ensure_image(
                config.layout.images, proxy.cache_url(config), config.layout.logs, release)
            result[release] = base
            return note

        timed("lab-up", build)
    # Images of releases this inventory does not use stay for other inventories' hosts.
    current = [image.current_image(config.layout.images, proxy.cache_url(config), r)
               for r in image.SUITES]
    pruned = image.prune_images(config.layout.images, current)
    if pruned:
        print(f"lab-up: removed old images {', '.join(pruned)}", flush=True)
    return result


def _start_hosts(config: LabConfig, bases: dict[str, image.Image]) -> str:
    layout = config.layout
    supervised = owner.kind() == owner.SUPERVISOR
    mount_note = cgroups.ensure_unified(layout.state_file) if supervised else ""
    stopped = [h for h in config.hosts if not hosts.running(layout, h.name)]
    if not stopped:
        return f"all {len(config.hosts)} hosts already running"
    taken = hosts.running_addresses(layout)
    for host in stopped:
        other = taken.get(str(host.address))
        if other and other != host.name:
            raise LabError(
                f"{host.name}: address {host.address} is in use by the running lab host {other} "
                f"(another inventory); take {other} down first or give {host.name} another "
                "ansible_host")
    hosts.stop(layout, [h.name for h in stopped])  # leftovers of a half-made host, if any
    kinds = [hosts.prepare(config, h, bases[h.release]) for h in stopped]
    for host in stopped:
        hosts.boot(config, host)
    hosts.wait_ready(config, stopped)
    for host in stopped:
        hosts.record_link(config, host)
    running = len(config.hosts) - len(stopped)
    notes = [f"booted {', '.join(h.name for h in stopped)}",
             f"{kinds.count('new')} new, {kinds.count('kept')} kept disk, {running} left running"]
    return "; ".join(([mount_note] if mount_note else []) + notes)


def _remove_hosts(layout: Layout, only: LabConfig | None = None) -> str:
    """Stop and remove every host in the state directory, or only the hosts of ``only``."""
    # SSH connections are closed first, while the hosts can still answer: a half-closed one
    # keeps a killed host's network namespace (and its veth) alive for minutes.
    if only is None:
        sockets = _close_ssh_masters(layout)
        names = hosts.known_hosts(layout)
    else:
        present = set(hosts.known_hosts(layout))
        sockets = sum(_close_host_ssh_masters(only, host) for host in only.hosts)
        names = sorted(h.name for h in only.hosts if h.name in present)
    closed = f"closed {sockets} ssh connections; " if sockets else ""
    if not names:
        return closed + "no hosts"
    killed = hosts.stop(layout, names)
    for name in names:
        hosts.unmount(layout.host_dir(name))
    supervised = owner.kind() == owner.SUPERVISOR
    stuck = cgroups.remove_lab_groups(names if only is not None else None) if supervised else []
    if stuck:
        raise LabError(f"cgroups still in use: {', '.join(map(str, stuck))}")
    for name in names:
        hosts.remove_dir(layout.host_dir(name))
    note = f"; had to kill {', '.join(killed)}" if killed else ""
    return f"{closed}hosts stopped and removed: {', '.join(names)}{note}"


def _remove_shared(config: LabConfig) -> str:
    layout = config.layout
    removed = ["nginx"] if proxy.stop_nginx(layout) else []
    removed += ["printer"] if printer.stop_printer(layout) else []
    removed += ["mail sink"] if mail.stop_mail(config) else []
    removed += ["ARM stand-in"] if owner.stop_daemon(_arm_daemon(layout)) else []
    standin.stop(layout.arm, clear=True)
    if owner.kind() == owner.SYSTEMD:
        removed += [owner.SLICE] if owner.stop_slice() else []
    removed += network.remove_network(config)
    unmounted = cgroups.release_unified(layout.state_file)
    removed += [unmounted] if unmounted else []
    layout.state_file.unlink(missing_ok=True)
    return f"removed {', '.join(removed)}" if removed else "no shared pieces were up"


def _close_host_ssh_masters(config: LabConfig, host: LabHost) -> int:
    """Close the lab ssh config's master connections to one host (as any user that has one)."""
    closed = 0
    for user in sorted({host.user or "root", "root"}):
        proc = run(["ssh", "-F", str(config.layout.ssh_config), "-O", "exit", "-l", user,
                    str(host.address)], check=False, timeout=10)
        closed += proc.returncode == 0
    return closed


def _close_ssh_masters(layout: Layout) -> int:
    sockets = list(layout.ssh_dir.glob("cm-*")) if layout.ssh_dir.is_dir() else []
    for socket_path in sockets:
        run(["ssh", "-F", "/dev/null", "-o", f"ControlPath={socket_path}", "-O", "exit", "lab"],
            check=False, timeout=10)
        socket_path.unlink(missing_ok=True)
    return len(sockets)
