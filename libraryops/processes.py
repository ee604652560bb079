"""Processes this machine runs for the lab and the tests: polling, pid files, detached daemons.

A *detached* daemon runs in a session (and so a process group) of its own, its output appended
to a log, its leader's pid in a file; it outlives the process that started it. Stopping it ends
the whole group, not only the leader. :func:`start_and_wait` is the one way a daemon is started
and waited for until it answers, whoever runs it: the lab's owner (:mod:`libraryops.lab.owner`,
which also runs daemons as systemd units) passes its own start and stop.

Stdlib only, and nothing above it: the ARM stand-in (:mod:`libraryops.cloud.standin`) and the
lab both build on it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds a daemon has to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 10


class DaemonError(RuntimeError):
    """A daemon did not start; the message names it, its log and the log's last lines."""


@dataclass(frozen=True)
class Daemon:
    """One long-running process.

    Attributes:
        name: short name (the lab's owner names its systemd unit after it).
        argv: the command, run in the foreground (it must not daemonize itself).
        log: file that gets its standard output and error (appended).
        pidfile: where a detached daemon's pid is kept.
        marker: text in its command line that proves a pid is still this daemon (pid reuse).
        env: extra environment variables.
    """

    name: str
    argv: tuple[str, ...]
    log: Path
    pidfile: Path
    marker: str
    env: Mapping[str, str] = field(default_factory=dict)


def find(daemon: Daemon) -> int | None:
    """The pid of the detached ``daemon`` when its pid file names a live process whose command
    line carries its marker, else None."""
    pid = read_pid(daemon.pidfile)
    if pid is None or daemon.marker not in " ".join(process_cmdline(pid)):
        return None
    return pid


def start(daemon: Daemon) -> int:
    """Start ``daemon`` detached (a session of its own, stdin /dev/null, output appended to its
    log) and write its pid file; return its pid once it runs its own command (or has exited:
    :func:`start_and_wait` tells)."""
    daemon.log.parent.mkdir(parents=True, exist_ok=True)
    with open(daemon.log, "ab") as out:
        proc = subprocess.Popen(
            list(daemon.argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, env={**os.environ, **daemon.env})
    daemon.pidfile.parent.mkdir(parents=True, exist_ok=True)
    daemon.pidfile.write_text(f"{proc.pid}\n")
    # Until the child has exec'd, its command line is still ours: wait for the daemon's own.
    wait_until(lambda: find(daemon) == proc.pid or proc.poll() is not None, 10, 0.05)
    return proc.pid


def stop(daemon: Daemon) -> bool:
    """Stop the detached ``daemon``: SIGTERM to its whole process group, SIGKILL after
    :data:`STOP_TIMEOUT` seconds, and wait until no process of the group is left; remove its
    pid file. Returns True when it was running."""
    pid = find(daemon)
    if pid is not None:
        _killpg(pid, signal.SIGTERM)
        _reap_when_gone(daemon, pid)
        if not wait_until(lambda: not group_running(pid), STOP_TIMEOUT):
            _killpg(pid, signal.SIGKILL)
            _reap_when_gone(daemon, pid)
            wait_until(lambda: not group_running(pid), STOP_TIMEOUT)
    daemon.pidfile.unlink(missing_ok=True)
    return pid is not None


def start_and_wait(daemon: Daemon, answers: Callable[[], bool], timeout: float, failure: str,
                   *, logs: tuple[Path, ...] = (), start: Callable[[Daemon], int] = start,
                   stop: Callable[[Daemon], bool] = stop,
                   error: type[Exception] = DaemonError) -> int:
    """Start ``daemon`` and wait until ``answers()`` is true; return its pid.

    Args:
        daemon: what to start.
        answers: whether it serves yet (e.g. a TCP connect to its port); polled every 0.1 s.
        timeout: seconds it has to answer; waiting ends early when its process has exited.
        failure: the start of the error message, e.g. ``"the mail sink did not start on
            10.123.0.1:2525"``.
        logs: files to show besides its own log (e.g. nginx's error log).
        start: what starts it (default: detached, :func:`start`); returns its pid.
        stop: what stops it (default: :func:`stop`).
        error: the exception class raised (the lab raises its own, which its CLIs print as
            one line).

    Raises:
        DaemonError (or ``error``): it did not answer in time. It is stopped first; the message
            is ``<failure>; see <log> [and <log>...]:`` then the last lines of each log.
    """
    pid = start(daemon)
    answered = False

    def settled() -> bool:
        nonlocal answered
        answered = answers()
        return answered or not process_cmdline(pid)

    wait_until(settled, timeout)
    if not answered:
        stop(daemon)
        shown = (daemon.log, *logs)
        raise error(f"{failure}; see {' and '.join(map(str, shown))}:\n"
                    + "\n".join(tail(log) for log in shown))
    return pid


def group_running(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, already ended, do not count;
    proc(5): ``/proc/<pid>/stat`` fields 3 state and 5 pgrp)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def process_cmdline(pid: int) -> list[str]:
    """A live process's command line as a list ([] when it does not exist or is a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def read_pid(path: Path) -> int | None:
    """The process id in a pid file, or None when the file is missing or not a number."""
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a text file, or "" when it does not exist."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _killpg(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def _reap_when_gone(daemon: Daemon, pid: int) -> None:
    """Wait (up to :data:`STOP_TIMEOUT`) for the daemon's leader to end, then collect its exit
    status when this process started it (no zombie left)."""
    wait_until(lambda: find(daemon) is None, STOP_TIMEOUT)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
