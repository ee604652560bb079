"""The lab: throwaway Debian 12 and 13 hosts (real systemd, sshd) on a private bridge of this
machine.

Each inventory host boots with ``systemd-nspawn`` from an overlay over a cached base image of its
release; one nginx on the bridge address serves the shared package cache (``:3142``, fronting
the mirror of the machine's own apt sources) and the catalog page (``:80``); the hosts have no
route beyond the bridge. systemd runs the hosts and daemons where it is PID 1, the lab's own
supervisor elsewhere (:mod:`libraryops.lab.owner`). State lives in one machine-wide directory
(``lab__state_dir``, or ``LIBRARYOPS_LAB_DIR``).

Command line: ``python -m libraryops.lab {keys,up,down,status} --site-dir inventories/lab``.

The names below are imported on first use, so the stdlib-only modules (``owner``,
``aptsources``, ``system``) load without the venv's packages (``make doctor`` before
``make deps``).
"""

from importlib import import_module

__all__ = [
    "HostStatus", "LabError", "LabStatus", "down", "keys", "ssh_config_path", "status", "up",
]


def __getattr__(name: str):
    """PEP 562: ``LabError`` from :mod:`.system`, the commands from :mod:`.ops`."""
    if name == "LabError":
        return import_module("libraryops.lab.system").LabError
    if name in __all__:
        return getattr(import_module("libraryops.lab.ops"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
