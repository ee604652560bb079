"""Small system helpers for the lab: commands, programs, files, process checks, timing, lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from libraryops.processes import wait_until

#: Programs the lab runs, and the Debian package that provides each.
PACKAGES = {
    "dbus-run-session": "dbus-daemon",
    "ip": "iproute2",
    "ippeveprinter": "cups-ipp-utils",
    "mmdebstrap": "mmdebstrap",
    "mount": "mount",
    "nft": "nftables",
    "nginx": "nginx-light",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "ss": "iproute2",
    "systemctl": "systemd",
    "systemd-run": "systemd",
    "systemd-nspawn": "systemd-container",
    "tar": "tar",
    "umount": "mount",
}
#: Searched after PATH: root's programs live in sbin, which a user's PATH may lack.
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class LabError(RuntimeError):
    """A lab command cannot go on; the message says why and what to do."""


def require_root() -> None:
    """Raise LabError unless the process runs as root (the lab makes mounts, links, cgroups)."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (mounts, network links, cgroups): run it as root")


def program(name: str) -> str:
    """Absolute path of a program, from PATH then the system directories.

    Raises:
        LabError: not installed; the message names the Debian package to install.
    """
    found = shutil.which(name) or shutil.which(name, path=_SYSTEM_PATH)
    if found is None:
        package = PACKAGES.get(name, name)
        raise LabError(f"{name} not found: install it (apt-get install -y {package})")
    return found


def require_programs(*names: str) -> None:
    """Raise one LabError naming every missing program and its Debian package."""
    missing = [n for n in names if not (shutil.which(n) or shutil.which(n, path=_SYSTEM_PATH))]
    if missing:
        packages = sorted({PACKAGES.get(n, n) for n in missing})
        raise LabError(
            f"missing programs: {', '.join(missing)} "
            f"(install them: apt-get install -y {' '.join(packages)})"
        )


def run(
    argv: list[str], *, timeout: float = 60, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a program (argv[0] looked up with :func:`program`) and capture its text output.

    Args:
        argv: program and arguments; never a shell string.
        timeout: seconds before the program is killed and LabError raised.
        check: raise LabError on a non-zero exit status.
        stdin: text fed to the program's standard input (default: /dev/null).

    Raises:
        LabError: program missing, timed out, or (with check) failed; the message carries the
            command and its error output.
    """
    command = [program(argv[0]), *argv[1:]]
    try:
        proc = subprocess.run(
            command, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise LabError(f"{shlex.join(argv)}: no answer after {timeout:g} s") from None
    if check and proc.returncode != 0:
        output = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-5:]
        raise LabError(f"{shlex.join(argv)} failed (exit {proc.returncode}): {' | '.join(output)}")
    return proc


def run_logged(argv: list[str], log: Path, timeout: float = 30) -> int:
    """Run a program with its output going to ``log`` (not to pipes we would wait on).

    For programs that detach (a daemon forking, the host supervisor): their long-lived child
    holds the log file, never a pipe of ours. Returns the exit status of the launched process.

    Raises:
        LabError: the program is missing or did not return within ``timeout`` seconds.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        try:
            return subprocess.run(
                [program(argv[0]), *argv[1:]], stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, timeout=timeout, check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            raise LabError(f"{shlex.join(argv)}: did not return within {timeout:g} s") from None


def port_user(address: str, port: int) -> str | None:
    """Who already listens on TCP ``address:port`` (or on that port of every IPv4 address), as
    ``"<program> (pid N, <systemd unit>)"``; None when nobody does.

    Asks the kernel through ``ss -ltnp`` (iproute2) and names the unit from the process's
    ``/proc/<pid>/cgroup`` when a systemd service or socket owns it.
    """
    listing = run(["ss", "-H", "-ltnp", f"sport = :{port}"], check=False).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3].rsplit(":", 1)[0] not in (address, "0.0.0.0", "*"):
            continue
        found = re.search(r'\("([^"]+)",pid=(\d+)', line)
        if not found:
            return f"a process (port {port})"
        unit = _unit_of(int(found[2]))
        return f"{found[1]} (pid {found[2]}{', ' + unit if unit else ''})"
    return None


def _unit_of(pid: int) -> str:
    """The systemd unit (service, socket or scope) whose cgroup holds ``pid``, or ""."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        path = line.split(":", 2)[-1]
        units = [p for p in path.split("/") if p.endswith((".service", ".socket", ".scope"))]
        if units:
            return units[-1]
    return ""


def write_file(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write ``text`` to ``path`` atomically (temp file + rename) unless it already has it.

    A symlink at ``path`` is replaced, never followed. Returns True when the file changed.
    """
    if not path.is_symlink() and path.is_file():
        if path.read_text() == text and (path.stat().st_mode & 0o7777) == mode:
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)
    return True


class Mount(NamedTuple):
    """One line of /proc/self/mounts."""

    source: str
    target: Path
    fstype: str
    options: str


def mounts() -> list[Mount]:
    """The machine's mounts, in mount order (octal escapes such as ``\\040`` decoded)."""
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        source, target, fstype, options = (_unescape(f) for f in line.split()[:4])
        found.append(Mount(source, Path(target), fstype, options))
    return found


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape").encode("latin-1").decode()


def timed(prefix: str, action: Callable[[], str]) -> str:
    """Run one phase and print ``<prefix>: <what it did> (<seconds> s)``; return its message."""
    start = time.monotonic()
    message = action()
    print(f"{prefix}: {message} ({time.monotonic() - start:.1f} s)", flush=True)
    return message


@contextlib.contextmanager
def exclusive(lock_file: Path, timeout: float = 900) -> Iterator[None]:
    """Hold an exclusive lock so two lab commands never change the lab at the same time.

    Raises:
        LabError: another lab command still holds the lock after ``timeout`` seconds.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as handle:
        if not _try_lock(handle):
            print(f"lab: waiting for another lab command (lock {lock_file})", flush=True)
            if not wait_until(lambda: _try_lock(handle), timeout, interval=0.5):
                raise LabError(f"another lab command still holds {lock_file} after {timeout} s")
        yield


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
