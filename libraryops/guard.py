"""The open-hours guard: no disruptive action on a branch's machines while the branch is open.

``make reboot``, ``make poweroff``, ``make logout`` (and any public-PC apply that would restart
the display manager) first run::

    python -m libraryops.guard --site-dir inventories/<site> --limit LIMIT [--force] [--now ISO]

which exits 0 (allowed) or 1 (refused, with one line per open branch naming it and when it next
closes, local time). ``--force`` (``FORCE=1``) lets the action go ahead, saying so. The branches
concerned are those of the hosts LIMIT selects (:func:`hosts_for_limit`); hours come from
:mod:`libraryops.hours`. Documentation-only sites (``example``) are refused outright.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from libraryops import clock, paths
from libraryops.hours import BranchHours
from libraryops.hours_table import instant_text
from libraryops.inventory import InventoryError, SiteInventory, load_site

#: Characters of an Ansible pattern this guard does not evaluate (wildcards, regex, subscripts).
_UNSUPPORTED = re.compile(r"[*?\[\]~]")


@dataclass(frozen=True)
class Decision:
    """The guard's answer.

    Attributes:
        allowed: whether the action may go ahead.
        lines: one line per branch concerned (why it is allowed or refused), for people.
    """

    allowed: bool
    lines: tuple[str, ...]


def hosts_for_limit(site: SiteInventory, limit: str | None) -> list[str]:
    """The hosts an Ansible ``--limit`` selects, for patterns made of host and group names.

    Terms are separated by ``,`` or ``:``; as in Ansible, the plain terms are united (none: all
    hosts; ``all`` is every host), then ``&term`` intersects and ``!term`` removes, whatever their
    order. Empty or None: every host.

    Raises:
        InventoryError: a term is neither a host nor a group, or uses a wildcard, regex or
            subscript (which this guard does not evaluate; name hosts or groups instead).
    """
    everything = set(site.hosts)

    def select(term: str) -> set[str]:
        if _UNSUPPORTED.search(term):
            raise InventoryError(f"LIMIT={limit}: {term!r}: the open-hours guard takes host and "
                                 "group names joined by , or : (with & and !), not wildcards, "
                                 "regular expressions or subscripts")
        return everything if term == "all" else set(site.hosts_matching(term))

    terms = [t.strip() for t in re.split(r"[,:]", limit or "") if t.strip()]
    plain = [t for t in terms if t[0] not in "&!"] or ["all"]
    chosen = set().union(*(select(t) for t in plain))
    for term in terms:
        if term[0] == "&":
            chosen &= select(term[1:])
        elif term[0] == "!":
            chosen -= select(term[1:])
    return sorted(chosen)


def check(site: SiteInventory, limit: str | None, now: dt.datetime, force: bool) -> Decision:
    """Decide whether a disruptive action on LIMIT's hosts may run at ``now``.

    Args:
        site: the site inventory (merged host variables and groups).
        limit: the Ansible limit of the action (:func:`hosts_for_limit`); None/"" = all hosts.
        now: the aware instant to judge (the current time in production; fixed in tests).
        force: ``FORCE=1``: go ahead even when a branch is open (the lines say so).

    Returns:
        Refused when any branch of the selected hosts is open at ``now`` or its hours do not
        validate (unless ``force``); allowed otherwise. Hosts in no branch group have no hours
        and never refuse.

    Raises:
        InventoryError: the limit cannot be evaluated (see :func:`hosts_for_limit`).
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now: a naive datetime; give an aware instant")
    hosts = set(hosts_for_limit(site, limit))
    branches = sorted(g for g, members in site.branches.items() if hosts.intersection(members))
    allowed, lines = True, []
    for group in branches:
        hostvars = site.hosts[next(h for h in site.groups[group] if h in hosts)]
        name = f"{group} ({hostvars['branch__name']})" if "branch__name" in hostvars else group
        try:
            hours = BranchHours.from_vars(hostvars)
        except ValidationError:
            if not force:
                allowed = False
            verdict = "FORCE=1: going ahead" if force else "refused"
            lines.append(f"{verdict}: {name}: its hours do not validate (run make validate), "
                         "so the guard cannot tell whether it is open")
            continue
        local = hours.local(now)
        if not hours.is_open(now):
            opening = hours.next_opening(now)
            lines.append(f"ok: {name} is closed now ({instant_text(local)})"
                         + (f"; it opens {instant_text(opening)}" if opening else ""))
            continue
        closing = hours.next_closing(now)
        closes = f"next closes at {instant_text(closing)}" if closing else "has no closing time"
        if force:
            lines.append(f"FORCE=1: going ahead although {name} is open now "
                         f"({instant_text(local)}); it {closes}")
        else:
            allowed = False
            lines.append(f"refused: {name} is open now ({instant_text(local)}) and {closes}; "
                         "run this after closing, or add FORCE=1 to override")
    return Decision(allowed, tuple(lines))


def main(argv: list[str] | None = None) -> int:
    """CLI (see the module docstring).

    Returns:
        0 allowed; 1 refused, or the site, the limit or ``--now`` could not be used (the guard
        fails closed).
    """
    parser = argparse.ArgumentParser(prog="python -m libraryops.guard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site-dir", type=Path, required=True, help="inventories/<site>")
    parser.add_argument("--limit", required=True, help="host and group names, as LIMIT=")
    parser.add_argument("--force", action="store_true", help="FORCE=1: override the guard")
    parser.add_argument("--now", default=None,
                        help="ISO 8601 instant with an offset to judge (default: now)")
    args = parser.parse_args(argv)
    try:
        now = clock.now(args.now)
        paths.refuse_documentation_site(args.site_dir.name, args.site_dir)
        if not args.limit.strip():
            raise InventoryError("LIMIT= is empty: name a branch, group or host (or all)")
        decision = check(load_site(args.site_dir), args.limit, now, args.force)
    except (InventoryError, paths.SiteError, ValueError) as exc:
        print(f"guard: refused: {exc}", file=sys.stderr)
        return 1
    for line in decision.lines:
        print(f"guard: {line}", file=sys.stdout if decision.allowed else sys.stderr)
    return 0 if decision.allowed else 1


if __name__ == "__main__":
    sys.exit(main())
