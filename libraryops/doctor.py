"""``make doctor``: what each kind of target needs on this machine, as ok / missing + the fix.

Kinds of target (``--for``):

``controller``
    ``make validate``, ``make hours``, ``make plan``/``apply`` against real hosts: Python 3.11+
    with venv, make, git, and Debian's regulatory database (wireless-regdb). No root, no lab
    packages.
``unit``
    ``make unit``: what the unit tests ask on this machine besides the venv: systemd-analyze
    (package systemd), libfaketime (package faketime: timer conditions replayed as of an
    instant) and ssh-keygen (openssh-client). ``make deps-unit`` installs them as root.
``lab``
    every lab target (``make lab``, ``lab-up``, ``integration``, ``molecule``, ``test``): root,
    the lab's programs, the machine layout and which lab path it selects
    (:func:`libraryops.lab.owner.probe`), the bridge subnet free, disk and memory, the package
    mirror of the machine's apt sources reachable, the ports of the lab's nginx, printer and mail
    sink free.

Stdlib only (it runs with the system ``python3``, before ``make deps``). ``--quiet`` prints only
what is missing; the exit status is 1 when anything is. Every lab target runs
``--for lab --quiet`` first, so a missing prerequisite stops it with this one line, never a
traceback.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from libraryops import paths, regdb
from libraryops.lab import aptsources, owner
from libraryops.lab.system import PACKAGES, LabError, port_user, run

LAB_SETTINGS = paths.INVENTORIES / "lab" / "group_vars" / "all" / "lab.yml"
#: Programs the lab runs (their packages: :data:`libraryops.lab.system.PACKAGES`).
LAB_PROGRAMS = ("systemd-nspawn", "mmdebstrap", "nft", "nginx", "ippeveprinter",
                "dbus-run-session", "ssh", "ssh-keygen", "ip", "ss", "mount", "tar")
#: Free space the lab's state directory needs (two base images, hosts, package cache), GiB.
MIN_DISK_GIB = 10
#: Memory the lab needs available (four hosts, one a desktop session), GiB.
MIN_MEMORY_GIB = 3
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Check = tuple[str, bool, str]  # (what, ok, detail or fix)


def controller_checks() -> list[Check]:
    """Python, venv, make, git, the regulatory database and Debian's release dates: what every
    target needs (the release dates: ``make assets``)."""
    version = sys.version_info[:2]
    has_venv = _has_module("ensurepip") and _has_module("venv")
    return [
        ("python3 >= 3.11", version >= (3, 11),
         f"{version[0]}.{version[1]}" if version >= (3, 11)
         else "Debian 12 has 3.11, 13 has 3.13: apt-get install python3"),
        ("python3-venv", has_venv,
         "ok" if has_venv else "apt-get install python3-venv"),
        *(_program_check(p, p) for p in ("make", "git")),
        ("wireless-regdb", regdb.DEFAULT_PATH.exists(),
         str(regdb.DEFAULT_PATH) if regdb.DEFAULT_PATH.exists()
         else "apt-get install wireless-regdb (as root; make deps-unit and deps-lab do)"),
        ("distro-info-data (make assets)", paths.DEBIAN_RELEASES.exists(),
         str(paths.DEBIAN_RELEASES) if paths.DEBIAN_RELEASES.exists()
         else "apt-get install distro-info-data (as root; make deps-unit and deps-lab do)"),
    ]


def unit_checks() -> list[Check]:
    """The unit tests' programs (see the module doc)."""
    import glob

    faketime = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    return [
        _program_check("systemd-analyze", "systemd"),
        ("libfaketime", bool(faketime),
         faketime[0] if faketime else "make deps-unit (as root; or apt-get install faketime)"),
        _program_check("ssh-keygen", "openssh-client"),
    ]


def lab_checks() -> list[Check]:
    """Everything the lab targets need (see the module doc)."""
    checks: list[Check] = [("root", os.geteuid() == 0,
                            "ok" if os.geteuid() == 0 else "run the lab targets as root")]
    missing = [p for p in LAB_PROGRAMS if not _which(p)]
    packages = sorted({PACKAGES.get(p, p) for p in missing})
    checks.append(("lab programs", not missing,
                   "ok" if not missing else f"missing {', '.join(missing)}: make deps-lab "
                   f"(as root; or apt-get install {' '.join(packages)})"))
    checks.append(_layout_check())
    settings = _lab_settings()
    bridge = ipaddress.IPv4Interface(settings.get("lab__bridge_address", "10.123.0.1/24"))
    checks.append(_subnet_check(bridge, settings.get("lab__bridge_name", "lolab0")))
    state = Path(settings.get("lab__state_dir", "/var/lib/libraryops-lab"))
    checks.append(_disk_check(state))
    checks.append(_memory_check())
    checks.append(_mirror_check())
    checks.extend(_port_checks(bridge, state))
    return checks


def _layout_check() -> Check:
    try:
        found = owner.probe()
    except LabError as exc:
        return ("machine layout", False, str(exc))
    return ("machine layout", True, owner.describe(found))


def _subnet_check(bridge: ipaddress.IPv4Interface, name: str) -> Check:
    from libraryops.lab.network import subnet_conflicts

    if not _which("ip"):
        return ("bridge subnet free", False, "ip missing: apt-get install iproute2")
    addresses = json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]")
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout or "[]")
    conflicts = subnet_conflicts(bridge.network, name, addresses, routes)
    return (f"bridge subnet {bridge.network} free", not conflicts,
            "ok" if not conflicts else f"used by {'; '.join(conflicts)}: free it or change "
            f"lab__bridge_address in {LAB_SETTINGS.relative_to(paths.REPO)}")


def _disk_check(state: Path) -> Check:
    existing = next(p for p in (state, *state.parents) if p.exists())
    free = shutil.disk_usage(existing).free / 2**30
    return (f"disk for {state}", free >= MIN_DISK_GIB,
            f"{free:.0f} GiB free" + ("" if free >= MIN_DISK_GIB
                                      else f" (needs {MIN_DISK_GIB} GiB): free some space"))


def _memory_check() -> Check:
    meminfo = Path("/proc/meminfo").read_text()
    found = re.search(r"^MemAvailable:\s+(\d+) kB", meminfo, re.MULTILINE)
    available = int(found[1]) / 2**20 if found else 0.0
    return ("memory", available >= MIN_MEMORY_GIB,
            f"{available:.1f} GiB available" + ("" if available >= MIN_MEMORY_GIB else
                                                 f" (needs {MIN_MEMORY_GIB} GiB)"))


def _mirror_check() -> Check:
    try:
        upstreams = aptsources.lab_upstreams()
    except LabError as exc:
        return ("package mirror", False, str(exc))
    release = aptsources.codename(aptsources.OS_RELEASE.read_text())
    url = f"{upstreams['debian'].url}/dists/{release}/InRelease"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10):
            pass
    except OSError as exc:
        return ("package mirror", False, f"{url}: {exc} (the machine's apt sources name it; "
                                         "check `apt-get update`)")
    return ("package mirror", True, f"{upstreams['debian'].url} (from the apt sources)")


def _port_checks(bridge: ipaddress.IPv4Interface, state: Path) -> list[Check]:
    if not _which("ss"):
        return [("lab ports", False, "ss missing: apt-get install iproute2")]
    wanted = [(str(bridge.ip), 80, "`systemctl disable --now nginx.service`"),
              (str(bridge.ip), 3142, "stop what holds it"),
              (str(bridge.ip), 631, "`systemctl disable --now cups.service cups.socket`"),
              ("127.0.0.1", 631, "`systemctl disable --now cups.service cups.socket`"),
              (str(bridge.ip), 2525, "stop what holds it (the lab's mail sink needs it)")]
    checks = []
    for address, port, fix in wanted:
        holder = port_user(address, port)
        ours = holder is not None and ("libraryops-lab-" in holder or _is_lab_process(
            holder, state))
        checks.append((f"port {address}:{port}", holder is None or ours,
                       "free" if holder is None else "the lab's own" if ours
                       else f"taken by {holder}: {fix}"))
    return checks


def _is_lab_process(holder: str, state: Path) -> bool:
    """Whether the holder (``"prog (pid N...)"``) or its parent (an nginx worker's master)
    runs with a path in the lab's state directory."""
    found = re.search(r"pid (\d+)", holder)
    if not found:
        return False
    pid = found[1]
    try:
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        commands = [Path(f"/proc/{p}/cmdline").read_bytes() for p in (pid, parent)]
    except (OSError, IndexError):
        return False
    return any(str(state).encode() in command for command in commands)


def _lab_settings() -> dict[str, str]:
    """The lab's plain ``key: value`` settings (no YAML library before ``make deps``)."""
    try:
        text = LAB_SETTINGS.read_text()
    except OSError:
        return {}
    return dict(re.findall(r"^(lab__\w+):\s*(\S+)\s*$", text, re.MULTILINE))


def _program_check(name: str, package: str) -> Check:
    found = _which(name)
    return (name, bool(found), found or f"apt-get install {package}")


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=_SYSTEM_PATH)


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


KINDS: dict[str, Callable[[], list[Check]]] = {
    "controller": controller_checks, "unit": unit_checks, "lab": lab_checks,
}


def main(argv: list[str] | None = None) -> int:
    """Print the checks of the chosen kinds; exit 1 when any is missing."""
    parser = argparse.ArgumentParser(prog="python3 -m libraryops.doctor",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--for", dest="kinds", action="append", choices=sorted(KINDS),
                        help="kind of target (repeatable; default: all)")
    parser.add_argument("--quiet", action="store_true", help="print only what is missing")
    args = parser.parse_args(argv)
    missing = 0
    for kind in args.kinds or list(KINDS):
        if not args.quiet:
            print(f"{kind} targets:")
        for what, ok, detail in KINDS[kind]():
            missing += not ok
            if not ok or not args.quiet:
                print(f"  {'ok' if ok else 'missing':<8} {what}: {detail}",
                      file=sys.stdout if ok or not args.quiet else sys.stderr)
    if missing and args.quiet:
        print("doctor: the lines above are missing; `make doctor` lists every prerequisite",
              file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
