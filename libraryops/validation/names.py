"""Variable names: an ``<owner>__<name>`` that nothing reads (a typo that would silently fall back
to a default), and group_vars/host_vars for a group or host the inventory does not have.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from functools import cache

from libraryops import paths
from libraryops.validation.base import Problem, Site, display_path

#: Where the variables the project reads are named: roles, deploys, the shared Python, plugins.
_READERS = ("roles", "deploy", "libraryops", "plugins", "playbooks")
_READER_SUFFIXES = (".py", ".yml", ".yaml", ".j2")
_OWNED_NAME = re.compile(r"\b[a-z][a-z0-9_]*?__[a-z0-9_]+\b")


@cache
def read_variable_names() -> frozenset[str]:
    """Every ``<owner>__<name>`` the project's roles, deploys and checks mention (DebOps-style
    names, DESIGN.md "Names"): the variables something reads."""
    names: set[str] = set()
    for top in _READERS:
        for file in (paths.REPO / top).rglob("*"):
            if file.suffix in _READER_SUFFIXES and "molecule" not in file.parts:
                names.update(_OWNED_NAME.findall(file.read_text(encoding="utf-8", errors="ignore")))
    return frozenset(names)


def check_variable_names(site: Site) -> Iterator[Problem]:
    """Catch typos that would silently fall back to a default: an ``<owner>__<name>`` variable
    whose owner is known but that nothing reads; a group_vars/ or host_vars/ entry for a group
    or host the inventory does not have."""
    if not site.inventory.hosts:
        return  # check_membership reports the empty site; every group would be "unknown"
    known = read_variable_names()
    owners = {name.split("__", 1)[0] for name in known}
    for scope, definitions in site.files.scopes.items():
        kind, _, name = scope.partition(":")
        named_in_hosts_file = any(f == site.files.hosts_file for f, _ in definitions)
        if (kind == "group" and name != "all" and name not in site.inventory.groups
                and not named_in_hosts_file):
            yield Problem(display_path(definitions[0][0]), f"group_vars.{name}",
                          "no such group in hosts.yml: these variables reach no host",
                          ", ".join(sorted(site.inventory.groups)))
        if kind == "host" and name not in site.inventory.hosts and not named_in_hosts_file:
            yield Problem(display_path(definitions[0][0]), f"host_vars.{name}",
                          "no such host in hosts.yml: these variables reach no host",
                          "a host of hosts.yml")
        for file, variables in definitions:
            for variable in sorted(variables):
                owner = variable.split("__", 1)[0]
                near_owner = difflib.get_close_matches(owner, owners, n=1, cutoff=0.75)
                if "__" in variable and owner not in owners and near_owner:
                    yield Problem(display_path(file), variable,
                                  f"no role, deploy or check owns {owner}__ (a typo of "
                                  f"{near_owner[0]}__?)",
                                  f"the {near_owner[0]}__* variables in the docs")
                if "__" in variable and owner in owners and variable not in known:
                    near = difflib.get_close_matches(variable, known, n=3, cutoff=0.75)
                    yield Problem(display_path(file), variable,
                                  "no role, deploy or check reads this variable (a typo?)",
                                  ", ".join(near) or f"the {owner}__* variables in the docs")
