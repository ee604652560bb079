"""GitHub Actions schedules derived from the hours model: the nightly check and the catch-up runs.

GitHub's ``schedule:`` takes cron lines in UTC only (docs.github.com, "Events that trigger
workflows", ``schedule``), while a branch's hours are local and move with daylight saving. So
the lines are generated from the site's hours, never written by hand: for each weekday on which
some branch opens, the earliest UTC minute inside a *window* of every open branch's day (a pair
of local minutes from that day's midnight), in both its standard and its daylight-saving offset,
so one line holds all year. Weekdays on which no branch opens get no line. On a closure date the
line still fires; the hosts it finds off are off as scheduled
(:meth:`libraryops.hours.BranchHours.pcs_on`).

Windows (:data:`WINDOWS`):

- ``nightly`` (``make verify``, nightly.yml): from :data:`AFTER_WAKE_MINUTES` after the wake to
  :data:`BEFORE_CLOSING_MINUTES` before the last closing: the PCs are on by their own schedule,
  and patch windows (after closing) are never met;
- ``catch-up-evening`` and ``catch-up-morning`` (``make catch-up``, catch-up.yml): from
  :data:`AFTER_CLOSING_MINUTES` after the last closing to :data:`BEFORE_WARNING_MINUTES` before
  the shutdown warning, and from :data:`AFTER_WAKE_MINUTES` after the wake to
  :data:`BEFORE_OPENING_MINUTES` before the first opening: the branch is closed and its PCs are
  on (:mod:`libraryops.catchup`).

``python -m libraryops.cron --site-dir DIR --workflow nightly|catch-up [--write]`` prints the
lines, and with ``--write`` replaces the block between :data:`BEGIN` and :data:`END` in
``.github/workflows/<workflow>.yml`` (``make nightly-schedule``/``make catch-up-schedule``
``SITE=<site>``; the shipped workflows carry the example site's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from libraryops import clock, paths
from libraryops.hours import BranchHours
from libraryops.hours_table import branch_hours
from libraryops.hours_values import DAY, WEEKDAYS
from libraryops.inventory import InventoryError, load_site

#: Minutes after the wake before a run (the PCs have booted).
AFTER_WAKE_MINUTES = 10
#: Minutes before the last closing after which the nightly check no longer starts.
BEFORE_CLOSING_MINUTES = 30
#: Minutes after the last closing before a catch-up run (the patrons have left).
AFTER_CLOSING_MINUTES = 5
#: Minutes before the shutdown warning after which a catch-up run no longer starts.
BEFORE_WARNING_MINUTES = 20
#: Minutes before the first opening after which a morning catch-up run no longer starts.
BEFORE_OPENING_MINUTES = 5
#: The generated block of a workflow file lies between these lines.
BEGIN = "    # BEGIN libraryops schedule (make {target}; do not edit by hand)"
END = "    # END libraryops schedule"
WORKFLOWS = paths.REPO / ".github" / "workflows"

#: A window: (branch's hours, its weekday's intervals) -> (first, last) local minutes.
Window = Callable[[BranchHours, list[tuple[int, int]]], tuple[int, int]]
WINDOWS: dict[str, Window] = {
    "nightly": lambda h, day: (day[0][0] - h.branch__wake_lead_minutes + AFTER_WAKE_MINUTES,
                               day[-1][1] - BEFORE_CLOSING_MINUTES),
    "catch-up-evening": lambda h, day: (
        day[-1][1] + AFTER_CLOSING_MINUTES,
        day[-1][1] + h.branch__shutdown_grace_minutes - h.branch__shutdown_warning_minutes
        - BEFORE_WARNING_MINUTES),
    "catch-up-morning": lambda h, day: (
        day[0][0] - h.branch__wake_lead_minutes + AFTER_WAKE_MINUTES,
        day[0][0] - BEFORE_OPENING_MINUTES),
}
#: Workflow -> the windows its lines come from, the make target that writes them, and whether
#: each branch gets lines of its own (else one minute shared by every open branch).
SCHEDULES = {"nightly": (("nightly",), "nightly-schedule", False),
             "catch-up": (("catch-up-evening", "catch-up-morning"), "catch-up-schedule", True)}


class ScheduleError(ValueError):
    """No single UTC minute of a weekday lies in the window of every open branch."""


def _offsets(hours: BranchHours, year: int) -> set[int]:
    """The UTC offsets (whole minutes) the branch's zone uses in ``year``."""
    zone = hours.zone
    return {int(dt.datetime(year, month, 1, 12, tzinfo=zone).utcoffset().total_seconds()) // 60
            for month in range(1, 13)}


def weekday_minutes(branches: list[BranchHours], weekday: int, year: int,
                    window: Window) -> list[int]:
    """UTC minutes, counted from midnight UTC of the weekday's date, inside ``window`` of every
    branch open on ``weekday`` (0 = Monday): one that holds in every UTC offset of ``year``;
    when the window is narrower than the daylight-saving shift, one per offset instead (each
    hits the window in its season and lands an hour off in the other, where a run finds the
    PCs off or the branch open and changes nothing there). [] when no branch opens that weekday
    (branches open around the clock do not constrain).

    Raises:
        ScheduleError: the branches open that day share no such minute in some offset.
    """
    bounds: dict[int, tuple[int, int]] = {}
    for hours in branches:
        intervals = getattr(hours.branch__hours, WEEKDAYS[weekday])
        if not intervals or hours.always_open:
            continue
        first, last = window(hours, intervals)
        for offset in _offsets(hours, year):
            low, high = bounds.get(offset, (-DAY, 2 * DAY))
            bounds[offset] = (max(low, first - offset), min(high, last - offset))
    if not bounds:
        return []
    if any(low > high for low, high in bounds.values()):
        raise ScheduleError(f"{WEEKDAYS[weekday]}: no minute lies in the window of every open "
                            "branch; give the branches' hours more overlap")
    low = max(b[0] for b in bounds.values())
    if low <= min(b[1] for b in bounds.values()):
        return [low]
    return sorted({b[0] for b in bounds.values()})


def crons(branches: list[BranchHours], year: int, windows: tuple[str, ...],
          per_branch: bool = False) -> list[str]:
    """The cron lines (``M H * * DOWS``, UTC, cron weekdays 0 = Sunday) for ``windows`` (names
    of :data:`WINDOWS`): one minute per window and weekday shared by every open branch, or with
    ``per_branch`` one per branch (the catch-up runs: a run in one branch's window defers the
    PCs of a branch that is open then).

    Raises:
        ScheduleError: see :func:`weekday_minutes` (never with ``per_branch``, unless a single
            branch's window is empty).
    """
    times: dict[tuple[int, int], set[int]] = {}
    for group in ([[hours] for hours in branches] if per_branch else [branches]):
        for name, weekday in ((n, w) for n in windows for w in range(7)):
            for at in weekday_minutes(group, weekday, year, WINDOWS[name]):
                shift, minute = divmod(at, DAY)
                cron_weekday = ((weekday + shift) % 7 + 1) % 7
                times.setdefault((minute // 60, minute % 60), set()).add(cron_weekday)
    return [f"{m} {h} * * {','.join(map(str, sorted(days)))}"
            for (h, m), days in sorted(times.items())]


def workflow_text(text: str, lines: list[str], target: str) -> str:
    """The workflow file's text with the generated block (:data:`BEGIN` naming ``target``)
    replaced by ``lines``.

    Raises:
        ScheduleError: the file has no such block.
    """
    begin = BEGIN.format(target=target)
    if begin not in text or END not in text:
        raise ScheduleError(f"no generated block ({begin.strip()} ... {END.strip()})")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(END, 1)
    body = "".join(f'    - cron: "{line}"\n' for line in lines)
    return f"{head}{begin}\n{body}{END}{tail}"


def workflow_crons(text: str) -> list[str]:
    """The cron lines of the generated block of a workflow file's text."""
    block = text.split(END, 1)[0].rsplit("# BEGIN libraryops schedule", 1)[1]
    return [line.split('"')[1] for line in block.splitlines() if "cron:" in line]


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the module docstring); 1 when the site cannot be read or has no schedule."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.cron")
    parser.add_argument("--site-dir", type=Path, required=True, help="inventories/<site>")
    parser.add_argument("--workflow", choices=sorted(SCHEDULES), required=True)
    parser.add_argument("--write", action="store_true",
                        help="update .github/workflows/<workflow>.yml")
    parser.add_argument("--year", type=int, default=None,
                        help="the year whose UTC offsets are used (default: now's year)")
    args = parser.parse_args(argv)
    try:
        year = args.year or clock.now().year
        found = branch_hours(load_site(args.site_dir))
        if None in found.values():
            raise ScheduleError("a branch's hours do not validate: run make validate")
        windows, target, per_branch = SCHEDULES[args.workflow]
        lines = crons(list(found.values()), year, windows, per_branch)
        if args.write:
            workflow = WORKFLOWS / f"{args.workflow}.yml"
            workflow.write_text(workflow_text(workflow.read_text(), lines, target))
    except (InventoryError, ScheduleError, OSError, ValueError) as exc:
        print(f"cron: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
