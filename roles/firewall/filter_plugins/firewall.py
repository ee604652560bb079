"""Filters of the firewall role over :mod:`libraryops.firewall` (no merge logic lives here).

``firewall__rules | libraryops_firewall_rules(group_rules, host_rules, dependent_rules)``: the
merged rules as plain dicts for the template, or a filter error listing every problem (an
invalid key or rule, two actions for one port/proto). ``plan | libraryops_firewall_accepts(port,
address)``: whether the merged rules accept new TCP connections from ``address`` to ``port``.
"""

from ansible.errors import AnsibleFilterError

from libraryops import firewall
from libraryops.plain import plain


def firewall_rules(rules, group_rules, host_rules, dependent_rules):
    """Merge the site's layers and the declarers' rules (see the module doc).

    Raises:
        AnsibleFilterError: a rule is invalid or two declarations disagree on an action.
    """
    layers = [("firewall__rules", rules), ("firewall__group_rules", group_rules),
              ("firewall__host_rules", host_rules)]
    layers += [(f"firewall__dependent_rules.{name}", declared)
               for name, declared in plain(dependent_rules or {}).items()]
    merged, problems = firewall.merge((name, plain(value)) for name, value in layers)
    if problems:
        raise AnsibleFilterError("firewall rules do not merge:\n" + "\n".join(map(str, problems)))
    return [rule.as_dict() for rule in merged]


def firewall_accepts(plan, port, address):
    """True when the merged ``plan`` (from firewall_rules) accepts TCP ``port`` from ``address``."""
    rules = [firewall.MergedRule(**{k: v for k, v in r.items() if k != "comment"},
                                 comments=[r["comment"]]) for r in plain(plan)]
    return firewall.covers(rules, int(port), "tcp", str(address))


class FilterModule:
    """The firewall role's filters."""

    def filters(self):
        """Filter name -> function."""
        return {
            "libraryops_firewall_rules": firewall_rules,
            "libraryops_firewall_accepts": firewall_accepts,
        }
