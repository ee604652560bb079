"""Per-host cgroups for the lab's containers on a cgroup v1 machine without systemd.

``systemd-nspawn --keep-unit`` makes its ``payload/`` and ``supervisor/`` cgroups inside the
caller's cgroup, so each host's launcher first moves itself into its own
``libraryops-lab/<host>`` cgroup in the ``name=systemd`` hierarchy, the cgroup2 hierarchy at
``/sys/fs/cgroup/unified`` (mounted by the lab when missing, and recorded) and ``memory``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from libraryops.lab import state
from libraryops.lab.system import LabError, mounts, run

CGROUP_FS = Path("/sys/fs/cgroup")
UNIFIED = CGROUP_FS / "unified"
#: The lab's own subtree in every hierarchy; nothing else lives there.
LAB_GROUP = "libraryops-lab"
#: Hierarchies the hosts get their cgroups in, the ``name=systemd`` one first.
HIERARCHIES = ("systemd", "unified", "memory")


def ensure_unified(state_file: Path) -> str:
    """Mount cgroup2 at /sys/fs/cgroup/unified when the machine has the v1 layout without it.

    Returns a short note ("" when nothing was done). The mount is recorded in state.json so
    ``down`` unmounts only a mount the lab made.
    """
    if _is_mounted(UNIFIED) or not (CGROUP_FS / "systemd").is_dir():
        return ""
    state.record(state_file, cgroup2_mount=str(UNIFIED))
    UNIFIED.mkdir(exist_ok=True)
    run(["mount", "-t", "cgroup2", "-o", "nsdelegate", "cgroup2", str(UNIFIED)])
    return f"mounted cgroup2 at {UNIFIED}"


def release_unified(state_file: Path) -> str:
    """Unmount the cgroup2 mount the lab made (lazily when busy); "" when it made none."""
    mounted = state.load(state_file).get("cgroup2_mount")
    if not mounted:
        return ""
    if _is_mounted(Path(mounted)):
        if run(["umount", mounted], check=False).returncode != 0:
            run(["umount", "-l", mounted])
    state.record(state_file, cgroup2_mount=None)
    return f"unmounted {mounted}"


def hierarchies() -> list[Path]:
    """The mounted hierarchies of :data:`HIERARCHIES`.

    Raises:
        LabError: no ``name=systemd`` hierarchy (the lab supports the cgroup v1 layout of this
            kind of machine, where nspawn's containers are tracked there).
    """
    found = [CGROUP_FS / h for h in HIERARCHIES if _is_mounted(CGROUP_FS / h)]
    if CGROUP_FS / "systemd" not in found:
        raise LabError(f"no name=systemd cgroup hierarchy at {CGROUP_FS}/systemd: the lab needs "
                       "the cgroup v1 layout of a machine without systemd")
    return found


def create_host_groups(name: str) -> list[Path]:
    """Create ``libraryops-lab/<name>`` in every hierarchy; return the directories."""
    groups = [h / LAB_GROUP / name for h in hierarchies()]
    for group in groups:
        group.mkdir(parents=True, exist_ok=True)
    return groups


def host_pids(name: str) -> set[int]:
    """Every process in a host's cgroups (launcher, nspawn and the container's processes)."""
    pids: set[int] = set()
    for hierarchy in _lab_roots():
        for group in _walk(hierarchy / name):
            pids |= _procs(group)
    return pids


def host_names() -> list[str]:
    """Hosts that have a cgroup under the lab's subtree in any hierarchy."""
    return sorted({p.name for root in _lab_roots() for p in root.iterdir() if p.is_dir()})


def kill_host(name: str) -> int:
    """SIGKILL every process in a host's cgroups (all started by the lab); return how many."""
    pids = host_pids(name)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def remove_lab_groups(names: list[str] | None = None) -> list[Path]:
    """Remove the lab's (empty) cgroups, deepest first; return those that could not be removed.

    With ``names``, only those hosts' cgroups (the lab's subtree stays for the other hosts).
    A cgroup still holding processes cannot be removed; the caller stops the hosts first.
    """
    stuck = []
    for root in _lab_roots():
        tops = [root] if names is None else [root / name for name in names]
        groups = [group for top in tops for group in _walk(top)]
        for group in sorted(groups, key=lambda p: len(p.parts), reverse=True):
            try:
                group.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                stuck.append(group)
    return stuck


def _lab_roots() -> list[Path]:
    return [CGROUP_FS / h / LAB_GROUP for h in HIERARCHIES if (CGROUP_FS / h / LAB_GROUP).is_dir()]


def _walk(group: Path) -> list[Path]:
    if not group.is_dir():
        return []
    return [Path(d) for d, _, _ in os.walk(group)]


def _procs(group: Path) -> set[int]:
    try:
        return {int(p) for p in (group / "cgroup.procs").read_text().split()}
    except (FileNotFoundError, OSError):
        return set()


def _is_mounted(path: Path) -> bool:
    return any(m.target == path for m in mounts())
