"""A lab host's supervisor: runs its ``systemd-nspawn`` and restarts it after a reboot.

Run as a script (stdlib only, no package imports, so it keeps working if the clone that started
it goes away)::

    python supervisor.py --name NAME --pidfile FILE [--cgroup DIR ...] -- systemd-nspawn ...

It forks; the parent writes the child's pid to ``--pidfile`` and exits, so the caller waits
for nothing and the supervisor is nobody's child. The child starts a new session, moves itself
into the ``--cgroup`` directories (so nspawn's cgroups are the host's own), and runs the
command: exit status 133 (``systemctl reboot`` inside the host) starts it again; any other
status, or SIGTERM (forwarded to nspawn: a clean poweroff), ends the supervisor.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

#: systemd-nspawn's exit status when the container asked for a reboot.
REBOOT_STATUS = 133


def should_restart(status: int, stopping: bool) -> bool:
    """Restart nspawn only after a reboot request, and never once a stop was asked for."""
    return status == REBOOT_STATUS and not stopping


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: ``--name``, ``--pidfile``, ``--cgroup`` (repeatable), ``--`` command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--pidfile", required=True, type=Path)
    parser.add_argument("--cgroup", action="append", default=[], type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command after --")
    return args


class Supervisor:
    """The restart loop for one host's nspawn (see the module docstring)."""

    def __init__(self, name: str, command: list[str]):
        self.name = name
        self.command = command
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None

    def stop(self, signum: int, _frame: object) -> None:
        """Signal handler: stop for good, passing SIGTERM on to nspawn (clean poweroff)."""
        self.stopping = True
        self.log(f"signal {signum}: stopping")
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()

    def run(self) -> int:
        """Run nspawn until it exits for a reason other than a reboot; return its status."""
        while True:
            self.log("starting: " + " ".join(self.command))
            self.child = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
            if self.stopping:
                self.child.terminate()
            status = self.child.wait()
            self.log(f"nspawn exited with status {status}")
            if not should_restart(status, self.stopping):
                return status

    def log(self, message: str) -> None:
        """One timestamped line on stdout (the host's log file)."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"[{stamp}] supervisor {self.name}: {message}", flush=True)


def main(argv: list[str]) -> int:
    """Detach, join the host's cgroups and supervise nspawn; return the exit status."""
    args = parse_args(argv)
    child = os.fork()
    if child:
        tmp = args.pidfile.with_name(args.pidfile.name + ".tmp")
        tmp.write_text(f"{child}\n")
        os.replace(tmp, args.pidfile)
        return 0
    os.setsid()
    for group in args.cgroup:
        (group / "cgroup.procs").write_text(f"{os.getpid()}\n")
    supervisor = Supervisor(args.name, args.command)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
