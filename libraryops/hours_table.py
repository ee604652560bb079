"""The hours of a site for people: the ``make hours`` table, closure suggestions, and instants as
people read them (also used by :mod:`libraryops.guard`).

``python -m libraryops.hours_table table --site-dir DIR [--now ISO]`` prints, per branch,
today's hours, open now?, and the next wake, shutdown, patch window and Wi-Fi events, then a
warning for each branch whose closure dates run out soon (:meth:`BranchHours.closures_notice`).

``python -m libraryops.hours_table suggest-closures --site-dir DIR [--year YYYY]`` prints, per
branch that names its country (``branch__country``, ISO 3166-1 alpha-2, and optionally
``branch__subdivision``, e.g. a US state), the public holidays of that year that its
``branch__closures`` does not list yet (default: the year the listed closures run into), from
the maintained ``holidays`` package (PyPI
``holidays``, vacanza/holidays), as YAML lines the manager reviews, edits and pastes into
``hours.yml``. Nothing is ever written to the inventory.

The clock is :func:`libraryops.clock.now` (``--now``, else ``LIBRARYOPS_NOW``, else now).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import holidays
from pydantic import ValidationError

from libraryops import clock
from libraryops.hours import BranchHours
from libraryops.hours_values import UTC, Event, clock_text
from libraryops.inventory import InventoryError, SiteInventory, load_site


def intervals_text(intervals: list[tuple[int, int]]) -> str:
    """A day's intervals as ``09:00-12:00, 13:00-20:00``, or ``closed``."""
    return ", ".join(f"{clock_text(a)}-{clock_text(b)}" for a, b in intervals) or "closed"


def instant_text(at: dt.datetime, now: dt.datetime | None = None) -> str:
    """An aware instant for people, in its own zone: ``Mon 30 Nov 2026 08:30 EST``; with
    ``now``, shorter when unambiguous: ``Mon 08:30`` within six days after ``now``'s date (both
    in ``at``'s zone), ``Mon 4 Jan 08:30`` within the same year."""
    when = f"{at:%H:%M}"
    if now is not None:
        days = (at.date() - now.astimezone(at.tzinfo).date()).days
        if 0 <= days < 7:
            return f"{at:%a} {when}"
        if at.year == now.astimezone(at.tzinfo).year:
            return f"{at:%a} {at.day} {at:%b} {when}"
    return f"{at:%a} {at.day} {at:%b %Y} {when} {at:%Z}"


def branch_hours(inventory: SiteInventory) -> dict[str, BranchHours | None]:
    """Each ``branch_<slug>`` group with hosts -> its hours from the first host's variables, or
    None when they do not validate (``make validate`` names the problems)."""
    found: dict[str, BranchHours | None] = {}
    for group, members in sorted(inventory.branches.items()):
        if members:
            try:
                found[group] = BranchHours.from_vars(inventory.hosts[members[0]])
            except ValidationError:
                found[group] = None
    return found


def format_table(inventory: SiteInventory, now: dt.datetime) -> str:
    """The hours table of a site (``make hours``): one row per branch group.

    Args:
        inventory: the site; each ``branch_<slug>`` group's first host supplies the branch's
            variables.
        now: the aware instant the table is for.

    Returns:
        The table as text: per branch its local time, today's hours, open or closed now, then
        the next wake, shutdown, patch window, Wi-Fi off and Wi-Fi on, in the branch's local
        time. A branch whose hours do not validate says so in its row.
    """
    header = ("branch", "local time", "today's hours", "now", "wake", "shutdown",
              "patch window", "Wi-Fi off", "Wi-Fi on")
    rows = []
    site_name = inventory.path.name
    for group, hours in branch_hours(inventory).items():
        site_name = inventory.hosts[inventory.branches[group][0]].get("site__name", site_name)
        rows.append(_row(group, hours, now) if hours else (
            group, "-", "invalid hours: run make validate", *["-"] * 6))
    lines = [f"{site_name}: hours at {instant_text(now.astimezone(UTC))}; next events in each "
             "branch's local time", ""]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _row(group: str, hours: BranchHours, now: dt.datetime) -> tuple[str, ...]:
    """One branch's row of :func:`format_table`."""
    local = hours.local(now)
    today = intervals_text(hours.hours_on(local.date()))
    closure = hours.closure_on(local.date())
    if closure:
        today += f"; {closure.reason}"
    if hours.is_open(now):
        closing = hours.next_closing(now)
        state = f"open until {instant_text(closing, local)}" if closing else "open"
    else:
        opening = hours.next_opening(now)
        state = f"closed until {instant_text(opening, local)}" if opening else "closed"
    upcoming: dict[str, Event] = {}
    for event in hours.events(now, now + dt.timedelta(days=400)):
        upcoming.setdefault(event.kind, event)

    def when(kind: str) -> str:
        return instant_text(upcoming[kind].at, local) if kind in upcoming else "-"

    patch = when("patch_start")
    if "patch_start" in upcoming and "patch_end" in upcoming:
        patch += f"-{upcoming['patch_end'].at:%H:%M}"
    return (group, f"{local:%a %H:%M %Z}", today, state, when("wake"), when("shutdown"), patch,
            when("wifi_off"), when("wifi_on"))


def closures_notices(inventory: SiteInventory, now: dt.datetime) -> list[str]:
    """One line per branch whose closure dates run out soon (:meth:`BranchHours.closures_notice`),
    ``<group>: <notice>``."""
    lines = []
    for group, hours in branch_hours(inventory).items():
        notice = hours.closures_notice(now) if hours else None
        if notice:
            lines.append(f"{group}: {notice}")
    return lines


def suggested_closures(hours: BranchHours, country: str, subdivision: str | None,
                       year: int) -> list[tuple[dt.date, str]]:
    """The public holidays of ``year`` (``holidays.country_holidays``) that ``hours`` does not
    list yet: ``(date, name)`` sorted by date.

    Raises:
        NotImplementedError: the ``holidays`` package knows no such country or subdivision
            (``make validate`` refuses those first).
    """
    known = {c.date for c in hours.branch__closures}
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return sorted((day, name) for day, name in found.items() if day not in known)


def suggestion_text(inventory: SiteInventory, now: dt.datetime, year: int | None) -> str:
    """The ``suggest-closures`` output for every branch (see the module docstring); ``year``
    defaults to the year the listed closures run into: the year of each branch's last closure
    date plus two weeks (a last closure on 1 January or at Christmas both mean the coming
    year), at least now's year."""
    out = []
    for group, hours in branch_hours(inventory).items():
        hostvars = inventory.hosts[inventory.branches[group][0]]
        country = hostvars.get("branch__country")
        if hours is None or not country:
            reason = "invalid hours: run make validate" if hours is None else (
                "no branch__country in its branch.yml, so no public holidays are known")
            out.append(f"# {group}: {reason}\n")
            continue
        subdivision = hostvars.get("branch__subdivision")
        last = max((c.date for c in hours.branch__closures), default=now.date())
        chosen = year or max((last + dt.timedelta(days=14)).year, now.year)
        where = f"{country}{'-' + subdivision if subdivision else ''}"
        out.append(f"# {group} ({hostvars.get('branch__name', group)}): public holidays of "
                   f"{chosen} in {where} not listed yet (holidays {holidays.__version__}).\n"
                   "# Review, edit (a library closes on some, opens on others; early closings "
                   "get hours:)\n"
                   f"# and add them to group_vars/{group}/hours.yml under branch__closures:\n")
        for day, name in suggested_closures(hours, country, subdivision, chosen):
            out.append(f'  - {{date: "{day.isoformat()}", reason: {json.dumps(name)}}}\n')
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the module docstring).

    Returns:
        0; 1 when the site cannot be read, ``--now`` is not an instant with an offset, or a
        branch's hours do not validate (the table is still printed, that branch's row says so).
    """
    parser = argparse.ArgumentParser(prog="python -m libraryops.hours_table")
    parser.add_argument("command", choices=["table", "suggest-closures"])
    parser.add_argument("--site-dir", type=Path, required=True, help="inventories/<site>")
    parser.add_argument("--now", default=None,
                        help="ISO 8601 instant with an offset (default: LIBRARYOPS_NOW, else now)")
    parser.add_argument("--year", type=int, default=None,
                        help="suggest-closures: the year (default: after the last closure)")
    args = parser.parse_args(argv)
    try:
        now = clock.now(args.now)
        inventory = load_site(args.site_dir)
    except (InventoryError, ValueError) as exc:
        print(f"hours: {exc}", file=sys.stderr)
        return 1
    if args.command == "suggest-closures":
        print(suggestion_text(inventory, now, args.year), end="")
        return 0
    print(format_table(inventory, now), end="")
    for line in closures_notices(inventory, now):
        print(f"hours: warning: {line}", file=sys.stderr)
    invalid = [group for group, hours in branch_hours(inventory).items() if hours is None]
    if invalid:
        print(f"hours: {', '.join(invalid)}: invalid hours; run make validate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
