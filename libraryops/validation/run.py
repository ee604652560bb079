"""Validate a whole site before any engine runs: ``python -m libraryops.validation <site-dir>``.

The concerns' checks, in the order they run (each module holds one concern's model and checks;
:mod:`libraryops.validation.base` is what they share), the loading of a site and the command.
Every problem is printed, one per line::

    file: key: problem (allowed: ...)

``file`` is the YAML file that defines the offending key (for a missing key: the file where it
belongs), ``key`` a dotted path inside it (``accounts__management_users[0].ssh_keys[1]``,
``hosts.main-pub-01``). Messages never repeat a variable's value: it may have been vaulted.
Nothing is contacted: Ansible only reads files here.

A new concern adds a module with its checks and its tests, and its checks to :data:`CHECKS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from libraryops import paths
from libraryops.inventory import InventoryError, SiteInventory, load_site
from libraryops.validation import (
    accounts,
    assets,
    branches,
    cloud,
    firewall,
    hosts,
    hours,
    identity,
    monitoring,
    names,
    public_pcs,
    scopes,
    sshd,
    staff_workstation,
    stored_secrets,
    timesync,
    updates,
    wireless,
)
from libraryops.validation.base import Problem, Site, SiteFiles, display_path
from libraryops.validation.files import parse_site

#: Checks of the files as written; they run even when Ansible cannot merge the site.
FILE_CHECKS: list[Callable[[SiteFiles], Iterable[Problem]]] = [hosts.check_hosts_file,
                                                                cloud.check_azure]
#: Checks of the merged site, one per concern.
CHECKS: list[Callable[[Site], Iterable[Problem]]] = [
    hosts.check_membership,
    hosts.check_hosts,
    accounts.check_accounts,
    identity.check_identity,
    branches.check_branches,
    public_pcs.check_public_pcs,
    names.check_variable_names,
    scopes.check_variable_scopes,
    hours.check_hours,
    hours.check_calendar,
    sshd.check_sshd,
    sshd.check_pyinfra_kex,
    firewall.check_firewall,
    updates.check_updates,
    timesync.check_timesync,
    monitoring.check_node_exporter,
    monitoring.check_monitoring,
    monitoring.check_monitoring_hosts,
    staff_workstation.check_staff_workstation,
    wireless.check_wireless,
    wireless.check_access_points,
    assets.check_asset_policy,
    assets.check_asset_ledger,
    stored_secrets.check_secrets_stored,
]


def _check(site_dir: Path) -> tuple[list[Problem], SiteInventory | None]:
    """The problems of a site, and its merged view when Ansible could read it."""
    files, problems = parse_site(site_dir)
    if problems:
        return problems, None
    for file_check in FILE_CHECKS:
        problems.extend(file_check(files))
    try:
        inventory = load_site(site_dir)
    except InventoryError as exc:
        problems.append(Problem(display_path(files.hosts_file), "ansible-inventory", str(exc)))
        return problems, None
    site = Site(files, inventory)
    for check in CHECKS:
        problems.extend(check(site))
    return list(dict.fromkeys(problems)), inventory


def validate_site(site_dir: Path) -> list[Problem]:
    """Every problem of the site in ``site_dir`` (no error, warnings aside: the site is valid).

    Order: file parse problems (when there are any, nothing else is checked), then
    :data:`FILE_CHECKS`, then an ``ansible-inventory`` failure as one problem on hosts.yml or
    else :data:`CHECKS`. Duplicates (the same variable failing on many hosts) are reported once.
    Nothing is contacted.

    Raises:
        OSError: the vault password file (:func:`libraryops.paths.vault_password_file`) exists
            in the environment but cannot be read. A bad site never raises.
    """
    return _check(site_dir)[0]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m libraryops.validation <site-dir>``: print every problem.

    Returns:
        0 when the site is valid, 1 when it has problems, 2 when the site does not exist.
    """
    parser = argparse.ArgumentParser(prog="python -m libraryops.validation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", help="site directory (inventories/<site>) or site name")
    site_arg = parser.parse_args(argv).site
    site_dir = Path(site_arg)
    if not site_dir.is_dir():
        try:
            site_dir = paths.site_dir(site_arg)
        except paths.SiteError as exc:
            print(f"validate: {exc}", file=sys.stderr)
            return 2
    try:
        problems, inventory = _check(site_dir)
    except ValueError as exc:  # LIBRARYOPS_NOW is not an instant
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    errors = [p for p in problems if not p.warning]
    warnings = f" ({len(problems) - len(errors)} warning(s))" if len(errors) < len(problems) else ""
    if errors or inventory is None:
        print(f"validate: {len(errors)} problem(s){warnings}; nothing was contacted")
        return 1
    print(f"validate: {display_path(site_dir)}: {len(inventory.hosts)} hosts, "
          f"{len(inventory.groups)} groups: OK{warnings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
