"""pyinfra inventory file: the site's Ansible inventory, read through libraryops' adapter.

Usage (what ``make converge`` runs): ``LIBRARYOPS_INVENTORY=inventories/lab pyinfra
deploy/inventory.py deploy/public_pc.py``. Every module-level list below is a pyinfra group
named like the Ansible group; each host carries its merged Ansible variables plus the ``ssh_*``
connection data. The make targets refuse documentation-only sites before this file runs.
The adapter runs in a child process (see ``libraryops.inventory.main``).
"""

import json
import os
import subprocess
import sys

_SITE = os.environ.get("LIBRARYOPS_INVENTORY", "inventories/lab")
_PROC = subprocess.run(
    [sys.executable, "-m", "libraryops.inventory", "pyinfra-groups", _SITE],
    capture_output=True, text=True, check=False,
)
if _PROC.returncode != 0:
    raise SystemExit(_PROC.stderr.strip())
globals().update(
    {group: [tuple(entry) for entry in hosts] for group, hosts in json.loads(_PROC.stdout).items()}
)
