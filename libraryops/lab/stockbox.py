"""Stock-machine boxes: a stock Debian 12 or 13 (systemd as PID 1, cgroup v2 only) inside this
machine, for running a fresh clone's lab nested in it.

The lab has two owners (:mod:`libraryops.lab.owner`); the development and CI machines have no
systemd, so without these boxes the systemd path would never run here and could rot. A box is a
``systemd-nspawn --boot`` container with its own unified cgroup hierarchy
(``SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1``), every capability (nested containers, bridges,
nftables, overlay mounts), its own network namespace on the harness's own bridge
(:data:`BRIDGE`, never the lab's), and its own root file system unpacked from an mmdebstrap
image of ``--variant=important`` (what Debian's installer puts on every machine) plus the
README's prerequisites (``make git python3 python3-venv wireless-regdb distro-info-data``).

The box needs no network beyond what this machine prepares for it:

- its apt sources (deb822, as a Debian 12/13 installer writes them) name the harness's package
  cache on the bridge address -- the lab's own nginx cache (:mod:`libraryops.lab.proxy`)
  fronting the mirror of *this* machine's apt sources. So the nested lab also proves that it
  takes its upstream from the machine's apt sources (here: a town's proxy, as it were);
- ``/etc/pip.conf`` points pip at a wheelhouse built here (``pip download`` of
  requirements.txt's pins and the project's build backend for the box's Python, 3.11 or 3.13),
  bind-mounted read-only; the project itself is installed from the box's clone;
- the clone is ``git clone`` of the checkout's committed HEAD (what CI would test).

The box has no default route and no nameserver: anything that tries to reach the internet
fails at once. Commands run inside the box as transient services of the box's own systemd
(``systemd-run --wait --pipe``), like a self-hosted CI runner's job.

How faithful: the box's userland, systemd, D-Bus, machined, logind, apt and Debian's package
maintainer scripts are a real stock Debian's (installing nginx-light starts nginx.service on
*:80 in the box, as on a real machine). What it cannot show: its own kernel (it shares this
machine's), udev and real devices, enforced cgroup controllers (on this machine they are bound
to the v1 hierarchies, so the box's cgroup2 has none), a boot loader and firmware. Only a full
virtual machine covers those (a QEMU guest from Debian packages; TCG-only and ~10x slower on
these machines: shared/lab-notes.md).

Command line: ``python -m libraryops.lab.stockbox {prepare,up,run,down,status,check} ...``; state in
``/var/lib/libraryops-stock`` (``LIBRARYOPS_STOCK_DIR``). Runs on either kind of machine: the
boxes' launchers go under the lab's supervisor in cgroups of their own (no systemd) or into
transient units (systemd).
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from libraryops import paths
from libraryops.lab import owner, proxy, supervisor
from libraryops.lab.config import LabConfig
from libraryops.lab.network import subnet_conflicts
from libraryops.lab.system import (
    LabError,
    exclusive,
    require_programs,
    require_root,
    run,
    run_logged,
    write_file,
)
from libraryops.processes import process_cmdline, read_pid, tail, wait_until

STATE_ENV = "LIBRARYOPS_STOCK_DIR"
DEFAULT_STATE = Path("/var/lib/libraryops-stock")
#: The harness's bridge and subnet (the lab's is lolab0, 10.123.0.0/24: never shared).
BRIDGE = "lostock0"
INTERFACE = ipaddress.IPv4Interface("10.124.0.1/24")
#: Debian release number -> (suite, Python minor version, box address).
RELEASES = {
    "12": ("bookworm", "3.11", "10.124.0.12"),
    "13": ("trixie", "3.13", "10.124.0.13"),
}
#: On top of ``--variant=important``: systemd as init and the README's prerequisites.
BOX_PACKAGES = ("systemd-sysv", "dbus", "libpam-systemd", "ca-certificates",
                "make", "git", "python3", "python3-venv", "wireless-regdb",
                "distro-info-data")
#: The box's cgroups on a machine without systemd (never under the lab's ``libraryops-lab``).
CGROUP_GROUP = "stockbox"
BOOT_TIMEOUT = 120
STOP_TIMEOUT = 60
#: The boxes' slice on a systemd machine (never the lab's: `make lab-down` stops that one).
SLICE = "libraryops-stock.slice"
#: Where the clone lives in the box.
CLONE = "/root/libraryops"


@dataclass(frozen=True)
class Box:
    """One box: ``stock12`` or ``stock13``."""

    release: str
    state: Path

    name = property(lambda self: f"stock{self.release}")
    suite = property(lambda self: RELEASES[self.release][0])
    python = property(lambda self: RELEASES[self.release][1])
    address = property(lambda self: RELEASES[self.release][2])
    dir = property(lambda self: self.state / "boxes" / self.name)
    root = property(lambda self: self.dir / "root")
    pidfile = property(lambda self: self.dir / "supervisor.pid")
    log = property(lambda self: self.state / "logs" / f"{self.name}.log")
    unit = property(lambda self: f"libraryops-stock-{self.name}.service")

    @property
    def wheels(self) -> Path:
        """The wheelhouse for the box's Python."""
        return self.state / "wheels" / f"cp{self.python.replace('.', '')}"


def state_dir() -> Path:
    """The harness's state directory."""
    return Path(os.environ.get(STATE_ENV) or DEFAULT_STATE)


def cache_config(state: Path) -> LabConfig:
    """The harness's package cache as a lab config (bridge, address, state; no hosts)."""
    return LabConfig(bridge=BRIDGE, interface=INTERFACE, state_dir=state, hosts=())


def mirror_url() -> str:
    """The package cache on the harness bridge, as the boxes' apt sources name it."""
    return f"http://{INTERFACE.ip}:3142"


# --- prepare: wheels, images, bridge, package cache ---------------------------------------

def prepare(state: Path, releases: list[str]) -> None:
    """Everything the boxes need from outside, made once and cached.

    Raises:
        LabError: pip, mmdebstrap or the bridge failed (the message says which and why).
    """
    require_root()
    require_programs("mmdebstrap", "tar", "ip", "nginx", "systemd-nspawn", "nsenter")
    state.mkdir(parents=True, exist_ok=True)
    _step("bridge", lambda: _ensure_bridge(state))
    _step("package cache", lambda: proxy.ensure_nginx(cache_config(state), name="stock-nginx"))
    for release in releases:
        box = Box(release, state)
        _step(f"wheels {box.python}", lambda b=box: _ensure_wheels(b))
        _step(f"image {box.suite}", lambda b=box: _ensure_image(b)[1])


def _step(what: str, action) -> None:
    start = time.monotonic()
    note = action()
    print(f"stockbox: {what}: {note} ({time.monotonic() - start:.1f} s)", flush=True)


def _ensure_bridge(state: Path) -> str:
    conflicts = subnet_conflicts(INTERFACE.network, BRIDGE, _ip_json("-4", "addr", "show"),
                                 _ip_json("-4", "route", "show", "table", "all"))
    if conflicts:
        raise LabError(f"stockbox subnet {INTERFACE.network} is in use: {'; '.join(conflicts)}")
    made = run(["ip", "link", "show", "dev", BRIDGE], check=False).returncode != 0
    if made:
        run(["ip", "link", "add", "name", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", str(INTERFACE), "dev", BRIDGE])
    run(["ip", "link", "set", "dev", BRIDGE, "up"])
    return f"{BRIDGE} {INTERFACE} {'created' if made else 'present'}"


def wheel_requirements(requirements: str, pyproject: str) -> list[str]:
    """The requirement lines the boxes' wheelhouse must satisfy: requirements.txt's pins without
    the project itself (``-e .``: each box installs its own clone, and ``pip download`` of it
    would zip the whole checkout) plus the project's build backend (pyproject.toml's
    ``[build-system] requires``), which the box's offline editable install needs to build it."""
    pins = [line for line in requirements.splitlines()
            if not line.strip().startswith(("-e ", "--editable"))]
    return pins + list(tomllib.loads(pyproject)["build-system"]["requires"])


def _ensure_wheels(box: Box) -> str:
    wanted = "\n".join(wheel_requirements((paths.REPO / "requirements.txt").read_text(),
                                          (paths.REPO / "pyproject.toml").read_text())) + "\n"
    digest = hashlib.sha256(wanted.encode()).hexdigest()[:16]
    stamp = box.wheels / f".requirements-{digest}"
    if stamp.is_file():
        return f"{box.wheels} up to date"
    if box.wheels.exists():
        shutil.rmtree(box.wheels)
    box.wheels.mkdir(parents=True)
    requirements = box.wheels / ".requirements.txt"
    requirements.write_text(wanted)
    tag = box.python.replace(".", "")
    proc = run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                "--python-version", box.python, "--implementation", "cp",
                "--abi", f"cp{tag}", "--abi", "abi3", "--abi", "none",
                *[f"--platform={p}" for p in ("manylinux_2_17_x86_64", "manylinux2014_x86_64",
                                              "manylinux_2_28_x86_64", "any")],
                "-r", str(requirements), "-d", str(box.wheels)], timeout=1800, check=False)
    if proc.returncode != 0:
        raise LabError(f"pip download for Python {box.python} failed: {proc.stderr[-800:]}")
    stamp.write_text("")
    return f"{len(list(box.wheels.glob('*.whl')))} wheels in {box.wheels}"


def _image_recipe(box: Box) -> tuple[str, list[str]]:
    sources = [f"deb {mirror_url()}/debian {box.suite} main",
               f"deb {mirror_url()}/debian {box.suite}-updates main",
               f"deb {mirror_url()}/debian-security {box.suite}-security main"]
    hook = "chroot \"$1\" systemctl enable systemd-networkd.service"
    argv = ["mmdebstrap", "--variant=important", "--mode=root", "--format=tar", "--quiet",
            f"--include={','.join(BOX_PACKAGES)}", f"--customize-hook={hook}",
            box.suite, "OUTPUT", *sources]
    digest = hashlib.sha256(json.dumps(argv).encode()).hexdigest()[:12]
    return f"{box.suite}-{digest}", argv


def _ensure_image(box: Box) -> tuple[Path, str]:
    image_id, argv = _image_recipe(box)
    tarball = box.state / "images" / f"{image_id}.tar"
    if tarball.is_file():
        return tarball, f"{tarball.name} cached"
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_name(tarball.name + ".partial")
    log = box.state / "logs" / f"image-{box.suite}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = run([str(partial) if a == "OUTPUT" else a for a in argv], timeout=1800, check=False)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise LabError(f"mmdebstrap {box.suite} failed; see {log}:\n{tail(log)}")
    partial.rename(tarball)
    return tarball, f"{tarball.name} built"


# --- a box's life -------------------------------------------------------------------------

def up(state: Path, release: str, repo: Path) -> Box:
    """Make a fresh box for ``release``, clone ``repo``'s HEAD into it and boot it.

    An existing box of that release is removed first (a box is always a fresh machine).

    Raises:
        LabError: the box did not reach systemd state "running" in time (the message shows
            its console log), or a step failed.
    """
    require_root()
    prepare(state, [release])
    box = Box(release, state)
    with exclusive(state / "lock"):
        _remove(box)
        tarball, _ = _ensure_image(box)
        box.root.mkdir(parents=True)
        run(["tar", "--extract", "--numeric-owner", "--preserve-permissions", "--xattrs",
             "--xattrs-include=*", "--file", str(tarball), "--directory", str(box.root)],
            timeout=600)
        _write_identity(box)
        run(["git", "clone", "--quiet", "--no-hardlinks", str(repo), str(box.root / CLONE[1:])],
            timeout=300)
        _boot(box)
    if not wait_until(lambda: _system_state(box) in ("running", "degraded"), BOOT_TIMEOUT, 0.5):
        raise LabError(f"{box.name} did not boot; see {box.log}:\n{tail(box.log)}")
    state_now = _system_state(box)
    if state_now != "running":
        failed = run_in(box, "systemctl --failed --plain --no-legend", check=False).stdout
        raise LabError(f"{box.name}: systemd is {state_now}: {failed.strip()}")
    return box


def _write_identity(box: Box) -> None:
    root = box.root
    files = {
        "etc/hostname": f"{box.name}\n",
        "etc/machine-id": "",
        "etc/resolv.conf": "",
        "etc/apt/sources.list": "",
        "etc/apt/sources.list.d/debian.sources": (
            "Types: deb\n"
            f"URIs: {mirror_url()}/debian\n"
            f"Suites: {box.suite} {box.suite}-updates\n"
            "Components: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
            "Types: deb\n"
            f"URIs: {mirror_url()}/debian-security\n"
            f"Suites: {box.suite}-security\n"
            "Components: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"),
        "etc/pip.conf": "[global]\nno-index = true\nfind-links = /opt/wheelhouse\n",
        "etc/systemd/network/10-host0.network": (
            "[Match]\nName=host0\n\n[Network]\n"
            f"Address={box.address}/{INTERFACE.network.prefixlen}\nDHCP=no\nIPv6AcceptRA=no\n"),
    }
    for relative, text in files.items():
        write_file(root / relative, text)
    (root / "etc/apt/sources.list").unlink()


def nspawn_command(box: Box) -> list[str]:
    """The command that boots a box (see the module doc for each choice)."""
    return [
        "env", "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1", shutil.which("systemd-nspawn")
        or "/usr/bin/systemd-nspawn",
        f"--directory={box.root}", f"--machine={box.name}", "--boot",
        f"--network-bridge={BRIDGE}", "--capability=all", "--resolv-conf=off",
        "--timezone=off", "--link-journal=no", "--console=read-only", "--keep-unit",
        *([] if owner.kind() == owner.SYSTEMD else ["--register=no"]),
        f"--bind-ro={box.wheels}:/opt/wheelhouse",
    ]


def _boot(box: Box) -> None:
    box.log.parent.mkdir(parents=True, exist_ok=True)
    box.log.write_text("")
    if owner.kind() == owner.SYSTEMD:
        run(owner.systemd_run_command(
            box.unit, nspawn_command(box), log=box.log, no_block=True, slice_=SLICE,
            properties=(*owner.NSPAWN_UNIT_PROPERTIES, f"TimeoutStopSec={STOP_TIMEOUT}")))
        return
    groups = []
    for hierarchy in ("systemd", "unified", "memory"):
        group = Path("/sys/fs/cgroup") / hierarchy / CGROUP_GROUP / box.name
        if group.parent.parent.is_dir():
            group.mkdir(parents=True, exist_ok=True)
            groups.append(group)
    argv = [sys.executable, supervisor.__file__, "--name", box.name, "--pidfile",
            str(box.pidfile)]
    argv += [arg for group in groups for arg in ("--cgroup", str(group))]
    if run_logged([*argv, "--", *nspawn_command(box)], box.log) != 0:
        raise LabError(f"{box.name}: supervisor did not start; see {box.log}")


def _supervisor_pid(box: Box) -> int | None:
    pid = read_pid(box.pidfile)
    return pid if pid and box.name in process_cmdline(pid) else None


def leader(box: Box) -> int | None:
    """The host pid of the box's PID 1 (its systemd), or None when it is not running."""
    nspawn = [p for p in _all_pids() if _is_nspawn_of(p, box)]
    for pid in _all_pids():
        if nspawn and _ppid(pid) in nspawn and _comm(pid) == "systemd":
            return pid
    return None


def run_in(box: Box, script: str, *, check: bool = True, timeout: float = 3600,
           stream: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a bash script inside the box as a transient service of its systemd, in the clone
    directory, as root; return its result (output captured unless ``stream``).

    The script goes into a file on the box's disk: on a command line systemd would expand
    ``$``-variables itself (systemd.service(5), "Command lines").

    Raises:
        LabError: the box is not running; or, with ``check``, the script failed.
    """
    pid = leader(box)
    if pid is None:
        raise LabError(f"{box.name} is not running (python -m libraryops.lab.stockbox up ...)")
    scripts = box.root / "var/tmp/stockbox"
    scripts.mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(suffix=".sh", dir=scripts)
    with os.fdopen(handle, "w") as out:
        out.write(script + "\n")
    inside = "/" + str(Path(path).relative_to(box.root))
    argv = ["nsenter", f"--target={pid}", "--all", "--",
            "systemd-run", "--wait", "--pipe", "--quiet", "--collect",
            "--property=WorkingDirectory=-" + CLONE, "--setenv=HOME=/root",
            "--setenv=LANG=C.UTF-8", "--", "bash", "-l", inside]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, text=True, timeout=timeout,
                              capture_output=not stream, check=False)
    finally:
        Path(path).unlink(missing_ok=True)
    if check and proc.returncode != 0:
        raise LabError(f"{box.name}: `{script}` failed (exit {proc.returncode})"
                       + ("" if stream else f": {(proc.stderr or proc.stdout)[-1500:]}"))
    return proc


def _system_state(box: Box) -> str:
    if leader(box) is None:
        return "stopped"
    try:
        return run_in(box, "systemctl is-system-running", check=False, timeout=30).stdout.strip()
    except subprocess.TimeoutExpired:
        return "starting"


def down(state: Path, releases: list[str] | None = None) -> None:
    """Stop and remove boxes (all by default); with all gone, the bridge and cache stop too.

    Raises:
        LabError: a box's processes survive SIGKILL.
    """
    require_root()
    with exclusive(state / "lock"):
        for release in releases or list(RELEASES):
            _remove(Box(release, state))
        if not any(Box(r, state).dir.exists() for r in RELEASES):
            for hierarchy in ("systemd", "unified", "memory"):
                parent = Path("/sys/fs/cgroup") / hierarchy / CGROUP_GROUP
                if parent.is_dir():
                    parent.rmdir()
            proxy.stop_nginx(cache_config(state).layout, name="stock-nginx")
            if run(["ip", "link", "show", "dev", BRIDGE], check=False).returncode == 0:
                run(["ip", "link", "delete", "dev", BRIDGE])


#: ``check``: what a new user does in a fresh clone, then the lab integration (its test_lab.py
#: runs ``make lab`` twice more, the second with zero changes).
CHECK_STEPS = (
    ("make deps-test", "make deps-test"),
    ("make lab (first)", "make lab"),
    ("make lab (second, zero changes)", "make lab EXPECT_NO_CHANGES=1"),
    ("make integration", "make integration"),
)


def check(state: Path, releases: list[str]) -> bool:
    """The full stock-machine check: per release a fresh box, :data:`CHECK_STEPS` in its clone
    (output streamed), each step's wall time printed; the box is removed after. Returns whether
    every step passed (the first failing step ends that release's run)."""
    passed = True
    for release in releases:
        start = time.monotonic()
        box = up(state, release, paths.REPO)
        print(f"stock-check: {box.name} up ({time.monotonic() - start:.1f} s)", flush=True)
        try:
            for what, script in CHECK_STEPS:
                began = time.monotonic()
                status = run_in(box, script, check=False, stream=True).returncode
                print(f"stock-check: {box.name}: {what}: "
                      f"{'ok' if status == 0 else f'FAILED (exit {status})'} "
                      f"({time.monotonic() - began:.0f} s)", flush=True)
                if status != 0:
                    passed = False
                    break
        finally:
            down(state, [release])
        print(f"stock-check: {box.name} done ({time.monotonic() - start:.0f} s)", flush=True)
    return passed


def _remove(box: Box) -> None:
    if owner.kind() == owner.SYSTEMD:
        owner.stop_units([box.unit], timeout=STOP_TIMEOUT + 30)
    else:
        pid = _supervisor_pid(box)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: _supervisor_pid(box) is None, STOP_TIMEOUT, 0.5)
        groups = [Path("/sys/fs/cgroup") / h / CGROUP_GROUP / box.name
                  for h in ("systemd", "unified", "memory")]
        _kill_groups(groups)
    if box.dir.exists():
        shutil.rmtree(box.dir)


def _kill_groups(groups: list[Path]) -> None:
    """SIGKILL whatever is left in a box's cgroups, then remove them (deepest first)."""
    def procs() -> set[int]:
        found: set[int] = set()
        for group in groups:
            for directory, _, _ in os.walk(group):
                try:
                    found |= {int(p) for p in Path(directory, "cgroup.procs").read_text().split()}
                except OSError:
                    pass
        return found

    for pid in procs():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if not wait_until(lambda: not procs(), 20, 0.2):
        raise LabError(f"processes survive SIGKILL in {groups[0]}")
    for group in groups:
        for directory in sorted((Path(d) for d, _, _ in os.walk(group)),
                                key=lambda p: len(p.parts), reverse=True):
            directory.rmdir()


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _is_nspawn_of(pid: int, box: Box) -> bool:
    command = process_cmdline(pid)
    return bool(command) and command[0].endswith("systemd-nspawn") and \
        f"--machine={box.name}" in command and f"--directory={box.root}" in command


def _ip_json(*args: str) -> list[dict]:
    return json.loads(run(["ip", "-j", *args]).stdout or "[]")


def main(argv: list[str] | None = None) -> int:
    """CLI: prepare / up / run / down / status / check; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.lab.stockbox",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["prepare", "up", "run", "down", "status", "check"])
    parser.add_argument("--release", action="append", choices=sorted(RELEASES),
                        help="12 or 13 (repeatable; default: both)")
    parser.add_argument("script", nargs="?", help="run: the bash script to run in the box")
    args = parser.parse_intermixed_args(argv)
    releases = args.release or sorted(RELEASES)
    state = state_dir()
    try:
        if args.command == "prepare":
            prepare(state, releases)
        elif args.command == "up":
            for release in releases:
                start = time.monotonic()
                box = up(state, release, paths.REPO)
                print(f"stockbox: {box.name} running ({time.monotonic() - start:.1f} s)")
        elif args.command == "run":
            if not args.script or len(releases) != 1:
                parser.error("run needs one --release and a script")
            return run_in(Box(releases[0], state), args.script, check=False,
                          stream=True).returncode
        elif args.command == "down":
            down(state, args.release)
        elif args.command == "check":
            return 0 if check(state, releases) else 1
        else:
            for release in releases:
                box = Box(release, state)
                print(f"{box.name}: {_system_state(box)}")
    except LabError as exc:
        print(f"stockbox {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
