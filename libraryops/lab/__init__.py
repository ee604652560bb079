"""The lab: throwaway Debian 12 hosts (real systemd, sshd) on a private bridge of this machine.

Each inventory host boots with ``systemd-nspawn`` from an overlay over one cached base image;
one nginx on the bridge address serves the shared package cache (``:3142``, fronting
deb.debian.org) and the catalog page (``:80``); the hosts have no route beyond the bridge.
State lives in one machine-wide directory (``lab__state_dir``, or ``LIBRARYOPS_LAB_DIR``).

Command line: ``python -m libraryops.lab {keys,up,down,status} --site-dir inventories/lab``.
"""

from libraryops.lab.ops import HostStatus, LabStatus, down, keys, ssh_config_path, status, up
from libraryops.lab.system import LabError

__all__ = [
    "HostStatus", "LabError", "LabStatus", "down", "keys", "ssh_config_path", "status", "up",
]
