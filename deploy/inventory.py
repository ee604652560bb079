"""pyinfra inventory file: the site's Ansible inventory, read through libraryops' adapter.

Usage (what ``make converge`` runs): ``LIBRARYOPS_INVENTORY=inventories/lab pyinfra
deploy/inventory.py deploy/public_pc.py``. Every module-level list below is a pyinfra group
named like the Ansible group; each host carries its merged Ansible variables plus the ``ssh_*``
connection data. The make targets refuse documentation-only sites before this file runs.
"""

import os

from libraryops.inventory import load_site, pyinfra_groups

globals().update(pyinfra_groups(load_site(os.environ.get("LIBRARYOPS_INVENTORY", "inventories/lab"))))
