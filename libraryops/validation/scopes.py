"""Scopes: each variable one scope owns defined only there (``branch__*`` in a branch's group_vars,
the firewall's layers where they belong, ``wireless__*`` once per site, a machine class's
settings never in another function group's group_vars).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from libraryops.inventory import BRANCH_GROUP, FUNCTION_GROUPS
from libraryops.validation.base import Problem, Site, display_path


def _branch_scope(kind: str, name: str) -> bool:
    return kind == "group" and (name == "all" or bool(BRANCH_GROUP.fullmatch(name)))


def _not_another_function_group(own: str) -> Callable[[str, str], bool]:
    """Anywhere but the group_vars of a function group other than ``own``."""
    return lambda kind, name: not (kind == "group" and name in FUNCTION_GROUPS and name != own)


#: Variables that one scope owns -> (where they may be defined, where that is in words). Defined
#: elsewhere, they win or lose by Ansible's precedence, silently: ``branch__*`` in a function
#: group's group_vars beats the branch's own value (same depth: the later group name wins);
#: ``firewall__rules`` in a group replaces, not extends, the site's rules.
SCOPED_VARIABLES: dict[re.Pattern, tuple[Callable[[str, str], bool], str]] = {
    re.compile(r"branch__\w+"): (
        _branch_scope, "group_vars/branch_<slug>/ (one branch), or group_vars/all/ as a "
                       "default for every branch"),
    re.compile(r"firewall__rules"): (
        lambda kind, name: kind == "group" and name == "all", "group_vars/all/firewall.yml; "
        "a group's rules are firewall__group_rules, a host's firewall__host_rules"),
    re.compile(r"firewall__group_rules"): (
        lambda kind, name: kind == "group" and name != "all",
        "group_vars/<group>/firewall.yml; the site's rules are firewall__rules"),
    re.compile(r"firewall__host_rules"): (
        lambda kind, name: kind == "host", "host_vars/<host>/firewall.yml"),
    re.compile(r"wireless__\w+"): (
        lambda kind, name: kind == "group" and name == "all",
        "group_vars/all/wireless.yml or wireless_vault.yml: one declaration per site"),
    **{re.compile(rf"{owner}__\w+"): (
        _not_another_function_group(group), f"group_vars/{group}/ (or all/, a branch's, a "
                                            "host's), never another function group's")
       for owner, group in (("public_pc", "public_pcs"), ("staff_workstation", "staff_machines"),
                            ("wireless_ap", "wireless_aps"))},
}


def check_variable_scopes(site: Site) -> Iterator[Problem]:
    """Each variable of :data:`SCOPED_VARIABLES` defined only where it belongs (group_vars,
    host_vars and hosts.yml alike), so that no branch fact or firewall layer is overridden or
    replaced by accident."""
    for scope, definitions in site.files.scopes.items():
        kind, _, name = scope.partition(":")
        for file, variables in definitions:
            for variable in sorted(variables):
                rule = next((r for p, r in SCOPED_VARIABLES.items() if p.fullmatch(variable)),
                            None)
                if rule and not rule[0](kind, name):
                    key = (f"{'hosts' if kind == 'host' else 'groups'}.{name}.{variable}"
                           if file == site.files.hosts_file else variable)
                    yield Problem(display_path(file), key,
                                  f"defined for {kind} {name}, outside its scope: it would "
                                  "silently override or replace the value where it belongs",
                                  rule[1])
