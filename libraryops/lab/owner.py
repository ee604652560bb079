"""Who runs the lab's processes on this machine: systemd, or the lab itself.

One probe, :func:`probe`, decides once for every lab command:

``systemd`` (systemd is PID 1: sd_booted(3), i.e. ``/run/systemd/system`` exists; any cgroup
layout, usually the unified v2 hierarchy of a stock Debian 12/13)
    systemd owns every lab process. Each host is a transient service
    ``libraryops-lab-host-<name>.service`` and each of the lab's daemons (nginx, the printer, the
    ARM stand-in) is ``libraryops-lab-<daemon>.service``, all in ``libraryops-lab.slice``;
    ``systemctl stop libraryops-lab.slice`` ends them all. A host's unit carries the properties
    of Debian's ``systemd-nspawn@.service`` (``KillMode=mixed``, ``Type=notify``,
    ``Delegate=yes``, ``RestartForceExitStatus=133``, ``SuccessExitStatus=133``): a
    ``systemctl reboot`` inside a host makes nspawn exit 133 and systemd starts it again;
    ``systemctl stop`` sends nspawn SIGTERM, a clean poweroff. nspawn registers the host with
    systemd-machined, so ``machinectl list``, ``journalctl -M`` and ``systemctl -M`` work.

    Why transient units (``systemd-run``) rather than ``.nspawn`` files and ``machinectl start``:
    ``systemd-nspawn@.service`` boots only roots under ``/var/lib/machines`` (the lab's overlay
    roots live in its state directory, so each would need a symlink or bind mount there) and
    reads settings from ``/etc/systemd/nspawn/<name>.nspawn`` -- persistent files outside the
    state directory that a crash would leave behind. A transient unit is gone when it stops or
    the machine reboots, the nspawn command line stays the one :func:`libraryops.lab.hosts
    .nspawn_command` builds for both kinds of machine, and the unit gets exactly the template's
    properties (verified on a stock Debian 12 guest: shared/stock-debian-findings.md).

``supervisor`` (no systemd as PID 1, the cgroup v1 layout with a ``name=systemd`` hierarchy:
the development and CI machines)
    the lab's own launcher: each host runs under ``supervisor.py`` (detached, in per-host cgroups
    made by :mod:`libraryops.lab.cgroups`, restarting nspawn after exit 133), and each daemon
    runs in a session of its own with its pid in a file.

Anything else (no systemd and no ``name=systemd`` hierarchy) is refused with one line that
says so. Host creation, networking, the package cache, the printer and the ARM stand-in are
shared; only starting, finding and stopping processes differ, and all of that is here.

Sources: sd_booted(3), systemd.service(5) (``Type=``, ``RestartForceExitStatus=``),
systemd.kill(5) (``KillMode=mixed``), systemd-run(1), systemd-nspawn(1) (``--keep-unit``,
``--register``), Debian's ``/lib/systemd/system/systemd-nspawn@.service``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path

from libraryops import processes
from libraryops.lab.system import LabError, port_user, run

SYSTEMD = "systemd"
SUPERVISOR = "supervisor"
#: The slice every lab unit runs in (a ``-`` nests it: ``libraryops.slice/libraryops-lab.slice``).
SLICE = "libraryops-lab.slice"
#: The parent systemd makes for it (systemd.slice(5)); the lab stops it when no sibling is left.
PARENT_SLICE = "libraryops.slice"
#: Prefix of every lab unit; hosts add ``host-``.
UNIT_PREFIX = "libraryops-lab-"
HOST_UNIT_PREFIX = UNIT_PREFIX + "host-"
#: Seconds a daemon has to exit after SIGTERM before it is killed.
DAEMON_STOP_TIMEOUT = processes.STOP_TIMEOUT
#: ``systemctl is-active`` answers that mean "it runs (or is on its way)".
_ACTIVE = ("active", "activating", "reloading", "deactivating")
#: Properties of Debian's systemd-nspawn@.service a lab host's unit copies (see module doc).
NSPAWN_UNIT_PROPERTIES = (
    "Type=notify", "KillMode=mixed", "Delegate=yes", "RestartForceExitStatus=133",
    "SuccessExitStatus=133", "TasksMax=16384",
)


def probe(run_systemd: Path = Path("/run/systemd/system"),
          cgroup_fs: Path = Path("/sys/fs/cgroup")) -> str:
    """Which owner this machine gets: :data:`SYSTEMD` or :data:`SUPERVISOR`.

    Args:
        run_systemd: the directory sd_booted(3) checks (a parameter for tests).
        cgroup_fs: the cgroup mount point (a parameter for tests).

    Raises:
        LabError: neither systemd as PID 1 nor a ``name=systemd`` cgroup v1 hierarchy.
    """
    if run_systemd.is_dir():
        return SYSTEMD
    if (cgroup_fs / "systemd" / "cgroup.procs").is_file():
        return SUPERVISOR
    raise LabError(
        "this machine has neither systemd as PID 1 nor a name=systemd cgroup v1 hierarchy at "
        f"{cgroup_fs}/systemd: the lab cannot run its hosts here (boot a Debian 12/13 with "
        "systemd, the default)")


@functools.cache
def kind() -> str:
    """:func:`probe` of this machine, asked once per process."""
    return probe()


def describe(found: str) -> str:
    """One line for ``make doctor``: which path the lab takes and why."""
    if found == SYSTEMD:
        return f"systemd is PID 1: hosts and daemons run as transient units in {SLICE}"
    return ("no systemd as PID 1, cgroup v1 (name=systemd) layout: hosts run under the lab's "
            "supervisor, daemons detached with pid files")


# --- daemons (nginx, printer, mail sink, ARM stand-in) -------------------------------------

class Daemon(processes.Daemon):
    """A lab daemon as its owner runs it: the unit ``libraryops-lab-<name>.service`` on systemd
    machines, else detached (:mod:`libraryops.processes`)."""

    @classmethod
    def of(cls, daemon: processes.Daemon) -> Daemon:
        """The same daemon (e.g. the ARM stand-in's own description) run by the lab's owner."""
        return cls(**{f.name: getattr(daemon, f.name) for f in fields(daemon)})

    @property
    def unit(self) -> str:
        """Its systemd unit name."""
        return f"{UNIT_PREFIX}{self.name}.service"


def daemon_pid(daemon: Daemon) -> int | None:
    """The main pid of a running daemon, or None."""
    if kind() == SYSTEMD:
        if not unit_active(daemon.unit):
            return None
        pid = int(_show(daemon.unit, "MainPID") or 0)
        return pid or None
    return processes.find(daemon)


def start_daemon(daemon: Daemon) -> int:
    """Start a daemon (its owner keeps it running after this process ends); return its pid.

    Raises:
        LabError: systemd did not start its unit (the message names the log).
    """
    if kind() != SYSTEMD:
        return processes.start(daemon)
    daemon.log.parent.mkdir(parents=True, exist_ok=True)
    run(["systemctl", "reset-failed", daemon.unit], check=False)
    run(systemd_run_command(daemon.unit, daemon.argv, log=daemon.log, env=daemon.env,
                            properties=("Type=exec", f"TimeoutStopSec={DAEMON_STOP_TIMEOUT}")))
    pid = daemon_pid(daemon)
    if pid is None:
        raise LabError(f"{daemon.unit} did not start; see {daemon.log} and "
                       f"`systemctl status {daemon.unit}`")
    return pid


def stop_daemon(daemon: Daemon) -> bool:
    """Stop a daemon (SIGTERM to its whole group, SIGKILL after :data:`DAEMON_STOP_TIMEOUT`
    seconds); return True when one was running."""
    if kind() != SYSTEMD:
        return processes.stop(daemon)
    was = unit_active(daemon.unit)
    if was:
        run(["systemctl", "stop", daemon.unit], timeout=DAEMON_STOP_TIMEOUT + 30)
    run(["systemctl", "reset-failed", daemon.unit], check=False)
    return was


def start_answering(daemon: Daemon, answers: Callable[[], bool], timeout: float, failure: str,
                    *, ports: tuple[tuple[str, int], ...] = (), needs: str = "",
                    logs: tuple[Path, ...] = ()) -> int:
    """Start a lab daemon once the TCP ports it needs are free, and wait until it answers.

    Args:
        daemon: what to start.
        answers: whether it serves yet (polled).
        timeout: seconds it has to answer.
        failure: the start of the message when it does not (see
            :func:`libraryops.processes.start_and_wait`).
        ports: ``(address, port)`` pairs that must be free first, in order.
        needs: what follows "is taken by <holder>:" in the message, e.g. "the lab's mail sink
            needs it".
        logs: files to show besides the daemon's own log.

    Returns:
        Its pid.

    Raises:
        LabError: a port is taken (the message names the program and its unit), or it did not
            answer in time (it is stopped; the message shows its logs' tails).
    """
    for address, port in ports:
        holder = port_user(address, port)
        if holder:
            raise LabError(f"port {port} on {address} is taken by {holder}: {needs}")
    return processes.start_and_wait(daemon, answers, timeout, failure, logs=logs,
                                    start=start_daemon, stop=stop_daemon, error=LabError)


def signal_daemon(daemon: Daemon, signum: int) -> bool:
    """Send a signal to a running daemon's main process (nginx: SIGHUP reloads); True if sent."""
    pid = daemon_pid(daemon)
    if pid is None:
        return False
    os.kill(pid, signum)
    return True


# --- hosts on systemd machines --------------------------------------------------------------

def host_unit(name: str) -> str:
    """The unit of a lab host on a systemd machine."""
    return f"{HOST_UNIT_PREFIX}{name}.service"


def start_host_unit(name: str, nspawn: list[str], log: Path, start_timeout: int,
                    stop_timeout: int) -> None:
    """Start a host's nspawn as a transient unit, without waiting for its boot.

    Raises:
        LabError: systemd refused the unit.
    """
    unit = host_unit(name)
    run(["systemctl", "reset-failed", unit], check=False)
    run(systemd_run_command(
        unit, nspawn, log=log, no_block=True,
        properties=(*NSPAWN_UNIT_PROPERTIES, f"TimeoutStartSec={start_timeout}",
                    f"TimeoutStopSec={stop_timeout}")))


def host_units() -> list[str]:
    """Names of the hosts that have a lab unit loaded (running or not)."""
    listing = run(["systemctl", "list-units", "--all", "--plain", "--no-legend",
                   f"{HOST_UNIT_PREFIX}*.service"], check=False).stdout
    units = [line.split()[0] for line in listing.splitlines() if line.strip()]
    return sorted(u[len(HOST_UNIT_PREFIX):-len(".service")] for u in units)


def stop_units(units: list[str], timeout: float) -> None:
    """Stop units in parallel (systemd kills what outlives their ``TimeoutStopSec``)."""
    if units:
        run(["systemctl", "stop", *units], timeout=timeout, check=False)
        run(["systemctl", "reset-failed", *units], check=False)


def stop_slice(timeout: float = 90) -> bool:
    """Stop whatever still runs in the lab's slice, then its parent slice when no other
    ``libraryops-*.slice`` (e.g. the stock-machine boxes') is left in it; True when the lab's
    slice was active."""
    was = unit_active(SLICE)
    if was:
        run(["systemctl", "stop", SLICE], timeout=timeout)
    siblings = run(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--state=active",
                    "libraryops-*.slice"], check=False).stdout.strip()
    if not siblings and unit_active(PARENT_SLICE):
        run(["systemctl", "stop", PARENT_SLICE], timeout=timeout)
    return was


def unit_active(unit: str) -> bool:
    """Whether systemd says the unit is active (or activating, reloading, deactivating)."""
    state = run(["systemctl", "is-active", unit], check=False).stdout.strip()
    return state in _ACTIVE


def systemd_run_command(unit: str, argv: list[str] | tuple[str, ...], *, log: Path,
                        properties: tuple[str, ...], env: Mapping[str, str] | None = None,
                        no_block: bool = False, slice_: str = SLICE) -> list[str]:
    """The ``systemd-run`` command line that starts ``argv`` as transient ``unit`` in a slice
    (the lab's by default), its output appended to ``log``; the unit is unloaded once it stops
    (``--collect``)."""
    command = ["systemd-run", f"--unit={unit}", f"--slice={slice_}", "--collect", "--quiet",
               *(["--no-block"] if no_block else [])]
    command += [f"--property={p}" for p in (
        *properties, f"StandardOutput=append:{log}", f"StandardError=append:{log}")]
    command += [f"--setenv={key}={value}" for key, value in (env or {}).items()]
    return [*command, "--", *argv]


def _show(unit: str, prop: str) -> str:
    return run(["systemctl", "show", "--property", prop, "--value", unit],
               check=False).stdout.strip()
