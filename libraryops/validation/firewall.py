"""Firewall declarations: valid rules, one action per port/protocol, one group's rules per host,
and never SSH dropped (the merge itself is :mod:`libraryops.firewall`'s).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from libraryops import firewall
from libraryops.validation.base import Problem, Site, display_path
from libraryops.validation.sshd import sshd_port

#: The site's own firewall declarations, lowest precedence first (group_vars/all, one group's
#: group_vars, host_vars).
FIREWALL_LAYERS = ("firewall__rules", "firewall__group_rules", "firewall__host_rules")
#: What roles and deploys declare they need, when the inventory carries it (pyinfra deploys).
DEPENDENT_RULES = re.compile(r"[a-z0-9_]+__firewall__dependent_rules")


def check_firewall(site: Site) -> Iterator[Problem]:
    """Every host's firewall declarations: keys ``<port>/<protocol>`` (1-65535; tcp or udp),
    valid rules, one action per port/protocol across all of them, ``firewall__group_rules``
    from at most one of the host's groups (Ansible keeps one, silently), and never SSH (the
    engines' port) dropped or rejected, which would lock the manager out."""
    found: list[Problem] = []
    for host in sorted(site.inventory.hosts):
        hostvars = site.inventory.hosts[host]
        definers = sorted(
            g for g in site.inventory.groups_of(host) if g != "all" and any(
                "firewall__group_rules" in names for _, names in site.files.scopes.get(
                    f"group:{g}", [])))
        if len(definers) > 1:
            winner = site.source("firewall__group_rules", host)
            found.append(Problem(
                display_path(winner), "firewall__group_rules",
                f"{host} is in {len(definers)} groups that define it ({', '.join(definers)}): "
                "only one applies, the others are silently ignored",
                "one group of each host defines firewall__group_rules; a host's own rules are "
                "firewall__host_rules"))
        names = [n for n in FIREWALL_LAYERS if n in hostvars]
        names += sorted(n for n in hostvars if DEPENDENT_RULES.fullmatch(n))
        default = site.files.path / "group_vars" / "all" / "firewall.yml"
        files = {n: site.source(n, host) or default for n in names}
        rules, problems = firewall.merge((n, hostvars[n]) for n in names)
        for problem in problems:
            text = problem.problem
            for name, file in files.items():
                text = text.replace(f"declared by {name}", f"in {display_path(file)}: {name}")
            key = f"{problem.file}.{problem.key}" if problem.key else problem.file
            found.append(Problem(display_path(files[problem.file]), key, text, problem.allowed))
        ssh = f"{sshd_port(hostvars)}/tcp"  # "None/tcp" (no number: its model says so) matches none
        for rule in rules:
            if f"{rule.port}/{rule.proto}" == ssh and rule.action != "accept":
                name = rule.declared_by[0]
                found.append(Problem(
                    display_path(files[name]), f"{name}.{ssh}",
                    f"{rule.action}s SSH, the port the engines connect to: converging would "
                    "lock the manager out",
                    "accept (the sshd role already allows sshd__management_networks)"))
    yield from dict.fromkeys(found)
